#include "sluice/detail/stage_stats.hpp"

#include <algorithm>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/run_context.hpp"

namespace sluice::detail {

StageStats::StageStats(const RunContext& run, std::string name, std::string kind,
                       std::size_t concurrency, bool ordered, std::optional<ErrorPolicy> policy)
    : run_(run),
      run_id_(run.id()),
      name_(std::move(name)),
      kind_(std::move(kind)),
      concurrency_(concurrency),
      ordered_(ordered),
      policy_(std::move(policy)) {
  slots_.reserve(run.slots());
  for (std::size_t i = 0; i < run.slots(); ++i) slots_.push_back(std::make_unique<Slot>());
}

int StageStats::claim_slot() const noexcept {
  return run_.slot_index();
}

void StageStats::task_done_slow(Slot* s, std::uint64_t weight, std::int64_t ns,
                                std::uint64_t out) noexcept {
  auto d = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
  if (s != nullptr) {
    Histogram::bump_owned(s->in, 1);
    if (out != 0) Histogram::bump_owned(s->out, out);
    if (weight != 0) {
      Histogram::bump_owned(s->busy_ns, d * weight);
      s->task.record_owned(d, weight);
    }
  } else {
    shared_.in.fetch_add(1, std::memory_order_relaxed);
    shared_.out.fetch_add(out, std::memory_order_relaxed);
    if (weight != 0) {
      shared_.busy_ns.fetch_add(d * weight, std::memory_order_relaxed);
      shared_.task.record_shared(d, weight);
    }
  }
}

void StageStats::add_out(std::uint64_t n) noexcept {
  if (Slot* s = owned_slot()) {
    Histogram::bump_owned(s->out, n);
  } else {
    shared_.out.fetch_add(n, std::memory_order_relaxed);
  }
}

void StageStats::add_in(std::uint64_t n) noexcept {
  if (Slot* s = owned_slot()) {
    Histogram::bump_owned(s->in, n);
  } else {
    shared_.in.fetch_add(n, std::memory_order_relaxed);
  }
}

void StageStats::op_ended(std::int64_t ns) noexcept {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  auto d = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
  shared_.busy_ns.fetch_add(d, std::memory_order_relaxed);
  shared_.task.record_shared(d);
}

std::size_t StageStats::usable_concurrency() const noexcept {
  // The cap, but no more threads than the arena has; an async stage's cap is its
  // in-flight limit, which threads do not bound.
  std::size_t usable = concurrency_ == unlimited ? run_.threads() : concurrency_;
  if (!async_) usable = std::min(usable, run_.threads());
  return std::max<std::size_t>(usable, 1);
}

std::uint64_t StageStats::in() const noexcept {
  if (!outputs_of_.empty()) return out();
  std::uint64_t n = shared_.in.load(std::memory_order_relaxed);
  for (const auto& s : slots_) n += s->in.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t StageStats::out() const noexcept {
  if (!outputs_of_.empty()) {
    std::uint64_t sum = 0;
    for (const StageStats* s : outputs_of_) sum += s->out();
    return sum;
  }
  std::uint64_t n = shared_.out.load(std::memory_order_relaxed);
  for (const auto& s : slots_) n += s->out.load(std::memory_order_relaxed);
  return n;
}

StageReport StageStats::snapshot(HistogramCounts* task_counts, std::uint64_t* busy_ns) const {
  StageReport r;
  r.name = name_;
  r.kind = kind_;
  r.concurrency = concurrency_;
  r.ordered = ordered_;
  r.async = async_;
  r.in = in();
  r.out = out();
  r.filtered = filtered();
  r.failed = failed();
  r.in_flight = in_flight_.load(std::memory_order_relaxed);

  HistogramCounts h;
  std::uint64_t busy = shared_.busy_ns.load(std::memory_order_relaxed);
  shared_.task.add_to(h);
  for (const auto& s : slots_) {
    busy += s->busy_ns.load(std::memory_order_relaxed);
    s->task.add_to(h);
  }
  r.task = h.summary();

  double elapsed_ns = static_cast<double>(std::max<std::int64_t>(now_ns() - run_.started_ns(), 1));
  r.busy_fraction = std::min(
      1.0, static_cast<double>(busy) / (elapsed_ns * static_cast<double>(usable_concurrency())));
  if (task_counts != nullptr) *task_counts = std::move(h);
  if (busy_ns != nullptr) *busy_ns = busy;
  return r;
}

}  // namespace sluice::detail
