// The fleet as routers see it (see fleet_view.h).
#include "policies/routing/fleet_view.h"

#include <utility>

namespace gpufleet {

// An indexed binary min-heap of replicas ordered by (figure, replica index): the top is the replica a
// first-minimum scan would pick, and one replica's changed figure is repaired by a sift in O(log n).
class FleetView::MinIndex {
 public:
  MinIndex(int64_t ReplicaLoad::*figure, const std::vector<ReplicaLoad>* loads, std::vector<int> members)
      : figure_(figure), loads_(loads), heap_(std::move(members)), pos_(loads->size(), -1) {
    for (size_t i = 0; i < heap_.size(); ++i) pos_[static_cast<size_t>(heap_[i])] = static_cast<int>(i);
    for (size_t i = heap_.size() / 2; i-- > 0;) Down(i);
  }

  int top() const { return heap_.empty() ? -1 : heap_[0]; }

  void Fix(int replica) {
    const int p = pos_[static_cast<size_t>(replica)];
    if (p < 0) return;
    const size_t at = Up(static_cast<size_t>(p));
    if (at == static_cast<size_t>(p)) Down(at);
  }

 private:
  bool Less(int a, int b) const {
    const int64_t fa = (*loads_)[static_cast<size_t>(a)].*figure_, fb = (*loads_)[static_cast<size_t>(b)].*figure_;
    return fa < fb || (fa == fb && a < b);
  }
  void Place(size_t i, int replica) {
    heap_[i] = replica;
    pos_[static_cast<size_t>(replica)] = static_cast<int>(i);
  }
  size_t Up(size_t i) {
    const int r = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!Less(r, heap_[parent])) break;
      Place(i, heap_[parent]);
      i = parent;
    }
    Place(i, r);
    return i;
  }
  void Down(size_t i) {
    const int r = heap_[i];
    const size_t n = heap_.size();
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Less(heap_[child + 1], heap_[child])) ++child;
      if (!Less(heap_[child], r)) break;
      Place(i, heap_[child]);
      i = child;
    }
    Place(i, r);
  }

  int64_t ReplicaLoad::*figure_;
  const std::vector<ReplicaLoad>* loads_;
  std::vector<int> heap_;
  std::vector<int> pos_;  // by replica index; -1 when not a member
};

namespace {

std::vector<int> AllReplicas(size_t n) {
  std::vector<int> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int>(i);
  return v;
}

}  // namespace

FleetView::FleetView(std::vector<ReplicaLoad> loads, int num_groups, RouterNeeds needs)
    : loads_(std::move(loads)), members_(static_cast<size_t>(num_groups)) {
  for (const ReplicaLoad& l : loads_) members_[static_cast<size_t>(l.group)].push_back(l.replica);
  auto build = [&](int64_t ReplicaLoad::*figure, std::vector<std::unique_ptr<MinIndex>>* out) {
    out->push_back(std::make_unique<MinIndex>(figure, &loads_, AllReplicas(loads_.size())));
    if (!needs.per_group) return;
    for (const std::vector<int>& m : members_) out->push_back(std::make_unique<MinIndex>(figure, &loads_, m));
  };
  if (needs.least_tokens) build(&ReplicaLoad::outstanding_tokens, &by_tokens_);
  if (needs.least_requests) build(&ReplicaLoad::outstanding_requests, &by_requests_);
}

FleetView::~FleetView() = default;

int FleetView::Least(int64_t ReplicaLoad::*figure, const std::vector<std::unique_ptr<MinIndex>>& index,
                     int group) const {
  const size_t slot = group < 0 ? 0 : 1 + static_cast<size_t>(group);
  if (slot < index.size()) return index[slot]->top();
  // Not declared in the router's needs: a first-minimum scan gives the same answer, in O(R).
  int best = -1;
  auto consider = [&](int r) {
    if (best < 0 || loads_[static_cast<size_t>(r)].*figure < loads_[static_cast<size_t>(best)].*figure) best = r;
  };
  if (group < 0) {
    for (size_t r = 0; r < loads_.size(); ++r) consider(static_cast<int>(r));
  } else {
    for (int r : members_[static_cast<size_t>(group)]) consider(r);
  }
  return best;
}

int FleetView::LeastOutstandingTokens(int group) const {
  return Least(&ReplicaLoad::outstanding_tokens, by_tokens_, group);
}

int FleetView::LeastOutstandingRequests(int group) const {
  return Least(&ReplicaLoad::outstanding_requests, by_requests_, group);
}

void FleetView::Update(const ReplicaLoad& load) {
  ReplicaLoad& mine = loads_[static_cast<size_t>(load.replica)];
  const bool tokens = mine.outstanding_tokens != load.outstanding_tokens;
  const bool requests = mine.outstanding_requests != load.outstanding_requests;
  mine = load;
  // A replica sits in the fleet-wide index and its own group's.
  if (tokens) {
    for (size_t slot : {size_t{0}, 1 + static_cast<size_t>(load.group)}) {
      if (slot < by_tokens_.size()) by_tokens_[slot]->Fix(load.replica);
    }
  }
  if (requests) {
    for (size_t slot : {size_t{0}, 1 + static_cast<size_t>(load.group)}) {
      if (slot < by_requests_.size()) by_requests_[slot]->Fix(load.replica);
    }
  }
}

}  // namespace gpufleet
