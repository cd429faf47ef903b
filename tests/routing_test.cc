// The routers pick the replica their rule says, deterministically.
#include <gtest/gtest.h>

#include "tests/test_util.h"

#include <vector>

#include "policies/routing/router.h"

namespace gpufleet {
namespace {

std::unique_ptr<Router> Make(const std::string& type) { return testing::MakePolicy<Router>(type); }

std::vector<ReplicaLoad> Loads() {
  std::vector<ReplicaLoad> l(3);
  for (int i = 0; i < 3; ++i) l[i].replica = i;
  l[0].outstanding_requests = 5; l[0].outstanding_tokens = 100;
  l[1].outstanding_requests = 2; l[1].outstanding_tokens = 900;
  l[2].outstanding_requests = 3; l[2].outstanding_tokens = 50;
  return l;
}

TEST(Routing, RoundRobinCycles) {
  auto r = Make("round_robin");
  auto loads = Loads();
  TraceRequest req;
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(testing::RouteOn(*r, req, loads));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(Routing, LeastOutstandingRequests) {
  auto r = Make("least_outstanding_requests");
  auto loads = Loads();
  EXPECT_EQ(testing::RouteOn(*r, TraceRequest{}, loads), 1u);
  loads[0].outstanding_requests = 2;  // tie with replica 1: lowest index wins
  EXPECT_EQ(testing::RouteOn(*r, TraceRequest{}, loads), 0u);
}

TEST(Routing, LeastOutstandingTokens) {
  auto r = Make("least_outstanding_tokens");
  auto loads = Loads();
  EXPECT_EQ(testing::RouteOn(*r, TraceRequest{}, loads), 2u);
}

TEST(Routing, UnknownRouterSuggestsName) {
  PolicyConfig cfg{"round_robbin", "s.yaml", YAML::Load("{type: round_robbin}"), "router"};
  auto r = RouterRegistry::Get().Create(cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("s.yaml:1:8:"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("did you mean 'round_robin'"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace gpufleet
