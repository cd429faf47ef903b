// Prefill-to-decode hand-offs (see disaggregation.h).
#include "sim/engine/disaggregation.h"

#include <algorithm>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include "sim/engine/replica.h"

namespace sg4 = simgrid::s4u;

namespace gpufleet {

Disaggregation::Disaggregation(std::vector<std::unique_ptr<Replica>>* replicas, std::vector<int> decode_ids,
                               std::unique_ptr<FleetView> decodes, std::unique_ptr<DecodeTarget> policy,
                               double kv_bytes_per_token, int layers, RunContext* ctx)
    : replicas_(replicas), decode_ids_(std::move(decode_ids)), decodes_(std::move(decodes)),
      policy_(std::move(policy)), kv_bytes_per_token_(kv_bytes_per_token), layers_(layers), ctx_(ctx) {}

Disaggregation::~Disaggregation() = default;

const std::vector<int>& Disaggregation::HopsFrom(const Replica& from) {
  if (hops_.size() <= static_cast<size_t>(from.id())) hops_.resize(static_cast<size_t>(from.id()) + 1);
  std::vector<int>& hops = hops_[static_cast<size_t>(from.id())];
  if (hops.empty()) {
    std::vector<sg4::Link*> links;
    for (int d : decode_ids_) {
      links.clear();
      double latency = 0;
      from.gpus().front()->route_to((*replicas_)[static_cast<size_t>(d)]->gpus().front(), links, &latency);
      hops.push_back(static_cast<int>(links.size()));
    }
  }
  return hops;
}

int Disaggregation::NewSlot() {
  int slot;
  if (free_slots_.empty()) {
    slot = static_cast<int>(in_flight_.size());
    in_flight_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  in_flight_[static_cast<size_t>(slot)] = InFlight{};
  in_flight_[static_cast<size_t>(slot)].active = true;
  return slot;
}

int Disaggregation::Open(const Replica& from, const Sequence& seq) {
  const double bytes = kv_bytes_per_token_ * seq.prompt_tokens;
  const Handoff handoff{seq.req.id, seq.prompt_tokens, seq.req.output_tokens, from.id(), bytes};
  std::span<const int> hops;
  if (policy_->needs_distance()) hops = HopsFrom(from);
  const size_t pick = policy_->Choose(handoff, *decodes_, hops);
  Replica& to = *(*replicas_)[static_cast<size_t>(decode_ids_[pick])];
  // The first token is out (or, streaming, will be by the time the cache lands).
  to.ExpectKv(static_cast<int64_t>(seq.req.output_tokens) - std::max<int64_t>(seq.generated, 1));
  const int slot = NewSlot();
  InFlight& t = in_flight_[static_cast<size_t>(slot)];
  t.from = from.id();
  t.to = to.id();
  t.bytes = bytes;
  return slot;
}

void Disaggregation::Migrate(const Replica& from, const Sequence& seq, int64_t blocks, int to) {
  (*replicas_)[static_cast<size_t>(to)]->ExpectKv(static_cast<int64_t>(seq.req.output_tokens) - seq.generated);
  const int slot = NewSlot();
  InFlight& t = in_flight_[static_cast<size_t>(slot)];
  t.migration = true;
  t.prefilled = true;
  t.from = from.id();
  t.to = to;
  t.bytes = kv_bytes_per_token_ * seq.computed;
  t.seq = seq;
  t.blocks = blocks;
  t.prefilled_s = ctx_->now_s;
  StartFlows(slot, t.bytes);
}

void Disaggregation::StartFlows(int slot, double bytes) {
  // With transfers in flight the calendar loop has already brought SimGrid to this date (waiting on them);
  // otherwise SimGrid's clock lags the calendar's and is brought here before the comms start.
  if (!transport_.in_flight() && sg4::Engine::get_clock() < ctx_->now_s) sg4::this_actor::sleep_until(ctx_->now_s);
  const InFlight& t = in_flight_[static_cast<size_t>(slot)];
  const int id = transport_.Start((*replicas_)[static_cast<size_t>(t.from)]->gpus(),
                                  (*replicas_)[static_cast<size_t>(t.to)]->gpus(), bytes);
  if (slot_of_transfer_.size() <= static_cast<size_t>(id)) slot_of_transfer_.resize(static_cast<size_t>(id) + 1);
  slot_of_transfer_[static_cast<size_t>(id)] = slot;
}

void Disaggregation::Stream(const Replica& from, const Sequence& seq) {
  const int slot = Open(from, seq);
  in_flight_[static_cast<size_t>(slot)].streaming = true;
  streaming_[&seq] = slot;
  StartFlows(slot, in_flight_[static_cast<size_t>(slot)].bytes * (layers_ - 1) / layers_);
}

void Disaggregation::Send(const Replica& from, const Sequence& seq, int64_t blocks) {
  int slot;
  bool last_layer_only = false;
  if (auto it = streaming_.find(&seq); it != streaming_.end()) {
    slot = it->second;
    streaming_.erase(it);  // the prefill replica reuses the sequence's storage from now on
    last_layer_only = true;
  } else {
    slot = Open(from, seq);
  }
  InFlight& t = in_flight_[static_cast<size_t>(slot)];
  t.prefilled = true;
  t.seq = seq;
  t.blocks = blocks;
  t.prefilled_s = ctx_->now_s;
  if (!last_layer_only) {
    StartFlows(slot, t.bytes);
  } else if (!t.streaming) {
    StartFlows(slot, t.bytes / layers_);  // the other layers have landed already
  }
}

bool Disaggregation::WaitLanding(double until_s) {
  const int id = transport_.WaitUntil(until_s);
  if (id < 0) return false;
  const double now = std::max(ctx_->now_s, sg4::Engine::get_clock());
  ctx_->now_s = now;
  const int slot = slot_of_transfer_[static_cast<size_t>(id)];
  InFlight& t = in_flight_[static_cast<size_t>(slot)];
  if (t.streaming) {
    // All layers but the last have landed; the last leaves once the prefill iteration has ended.
    t.streaming = false;
    if (t.prefilled) StartFlows(slot, t.bytes / layers_);
    return true;
  }
  t.active = false;
  free_slots_.push_back(slot);
  CatchUpSamplers(ctx_, now);
  const double transfer_s = now - t.prefilled_s;
  if (t.migration) {
    ++migrations_.transfers;
    migrations_.bytes += t.bytes;
    migrations_.transfer_s.push_back(static_cast<float>(transfer_s));
    (*replicas_)[static_cast<size_t>(t.from)]->ReleaseSentKv(t.blocks);
    (*replicas_)[static_cast<size_t>(t.to)]->Adopt(t.seq, /*migrated=*/true);
    return true;
  }
  ++log_.transfers;
  log_.bytes += t.bytes;
  log_.transfer_s.push_back(static_cast<float>(transfer_s));
  t.seq.kv_transfer_s = static_cast<float>(transfer_s);
  t.seq.first_token_s = now;
  t.seq.last_token_s = now;
  (*replicas_)[static_cast<size_t>(t.from)]->ReleaseSentKv(t.blocks);
  (*replicas_)[static_cast<size_t>(t.to)]->Adopt(t.seq);
  return true;
}

size_t Disaggregation::requests_in_flight() const {
  return static_cast<size_t>(
      std::count_if(in_flight_.begin(), in_flight_.end(), [](const InFlight& t) { return t.active && t.prefilled; }));
}

}  // namespace gpufleet
