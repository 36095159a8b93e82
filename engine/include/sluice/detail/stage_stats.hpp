// StageStats: one stage's counters and task-time histogram for one run.
//
// The hot path (a body finishing) writes a slot that the calling thread owns for the
// whole run, so no two threads touch the same cache line; threads beyond the slots
// share one through atomic adds. Outcome counts (filtered, failed) are always atomic
// adds: they must add up exactly.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/histogram.hpp"
#include "sluice/detail/thread_slot.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/report.hpp"

namespace sluice::detail {

class RunContext;

class StageStats {
 public:
  StageStats(const RunContext& run, std::string name, std::string kind, std::size_t concurrency,
             bool ordered, std::optional<ErrorPolicy> policy);

  const std::string& name() const noexcept { return name_; }
  const std::optional<ErrorPolicy>& policy() const noexcept { return policy_; }

  struct alignas(64) Slot {
    std::atomic<std::uint64_t> tasks{0};
    std::atomic<std::uint64_t> in{0};
    std::atomic<std::uint64_t> out{0};
    std::atomic<std::uint64_t> busy_ns{0};
    Histogram task;
  };
  /// The calling thread's own slot, or nullptr (then the shared one is used).
  Slot* owned_slot() const noexcept {
    const int i = slot_in_run(run_id_, [this]() noexcept { return claim_slot(); });
    return i >= 0 ? slots_[static_cast<std::size_t>(i)].get() : nullptr;
  }
  /// How many tasks the next task's duration stands for: 0 when it is not timed.
  /// Every task is counted, but past the first 64 on a thread only one in 32 is timed:
  /// two clock reads per body would be most of the cost of a trivial one.
  std::uint64_t sample_weight(Slot* slot) noexcept {
    if (slot == nullptr) return 1;  // threads outside the arena are few: time them all
    const std::uint64_t n = slot->tasks.load(std::memory_order_relaxed);
    Histogram::bump_owned(slot->tasks, 1);
    if (n < 64) return 1;
    return (n & 31) == 0 ? 32 : 0;
  }
  /// A body ran (for `ns`, standing for `weight` tasks when timed) and emitted `out`.
  void task_done(Slot* slot, std::uint64_t weight, std::int64_t ns, std::uint64_t out) noexcept {
    if (slot == nullptr || weight != 0) {
      task_done_slow(slot, weight, ns, out);
      return;
    }
    Histogram::bump_owned(slot->in, 1);
    if (out != 0) Histogram::bump_owned(slot->out, out);
  }
  /// A body emitted `out` items; untimed.
  void task_done_untimed(std::uint64_t out) noexcept { task_done(owned_slot(), 0, 0, out); }
  /// Items emitted outside a timed body (a flush, an async completion).
  void add_out(std::uint64_t n) noexcept;
  void add_in(std::uint64_t n) noexcept;
  void add_filtered(std::uint64_t w) noexcept { filtered_.fetch_add(w, std::memory_order_relaxed); }
  void add_failed(std::uint64_t w) noexcept { failed_.fetch_add(w, std::memory_order_relaxed); }
  /// Async stages: an operation started or ended (start to end is its task time).
  void op_started() noexcept { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void op_ended(std::int64_t ns) noexcept;

  std::uint64_t filtered() const noexcept { return filtered_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t in() const noexcept;
  std::uint64_t out() const noexcept;
  /// Failures counted against this stage's own policy budget.
  std::atomic<std::uint64_t>& policy_failures() noexcept { return policy_failures_; }

  /// Counts as they are now; optionally the raw task histogram and busy time too (the
  /// progress monitor subtracts two of these for interval figures).
  StageReport snapshot(HistogramCounts* task_counts = nullptr,
                       std::uint64_t* busy_ns = nullptr) const;
  std::size_t usable_concurrency() const noexcept;
  /// An async stage: its cap counts operations in flight, not threads.
  void mark_async() noexcept { async_ = true; }
  /// A stage that is wiring only (a merge without a node of its own): it takes in and
  /// puts out what `inputs` put out.
  void count_as_outputs_of(std::vector<const StageStats*> inputs) {
    outputs_of_ = std::move(inputs);
  }

 private:
  int claim_slot() const noexcept;
  void task_done_slow(Slot* slot, std::uint64_t weight, std::int64_t ns,
                      std::uint64_t out) noexcept;

  const RunContext& run_;
  std::uint64_t run_id_;
  std::string name_;
  std::string kind_;
  std::size_t concurrency_;
  bool ordered_;
  bool async_ = false;
  std::optional<ErrorPolicy> policy_;
  std::vector<std::unique_ptr<Slot>> slots_;   // one per thread that ran a body
  std::vector<const StageStats*> outputs_of_;  // count_as_outputs_of
  Slot shared_;
  std::atomic<std::uint64_t> filtered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> policy_failures_{0};
};

/// Times one body, sampled: construct before the body, done() after.
class TaskTimer {
 public:
  explicit TaskTimer(StageStats& stats) noexcept
      : stats_(stats),
        slot_(stats.owned_slot()),
        weight_(stats.sample_weight(slot_)),
        t0_(weight_ != 0 ? now_ns() : 0) {}
  bool timed() const noexcept { return weight_ != 0; }
  std::int64_t started_ns() const noexcept { return t0_; }
  void done(std::uint64_t out) noexcept {
    stats_.task_done(slot_, weight_, weight_ != 0 ? now_ns() - t0_ : 0, out);
  }

 private:
  StageStats& stats_;
  StageStats::Slot* slot_;
  std::uint64_t weight_;
  std::int64_t t0_;
};

}  // namespace sluice::detail
