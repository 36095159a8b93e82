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

  struct Slot;
  /// The calling thread's own slot, or nullptr (then the shared one is used).
  Slot* owned_slot() const noexcept;
  /// How many tasks the next task's duration stands for: 0 when it is not timed.
  /// Every task is counted, but past the first 64 on a thread only one in 8 is timed:
  /// two clock reads per body would be most of the cost of a trivial one.
  std::uint64_t sample_weight(Slot* slot) noexcept;
  /// A body ran (for `ns`, standing for `weight` tasks when timed) and emitted `out`.
  void task_done(Slot* slot, std::uint64_t weight, std::int64_t ns, std::uint64_t out) noexcept;
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

  struct alignas(64) Slot {
    std::atomic<std::uint64_t> tasks{0};
    std::atomic<std::uint64_t> in{0};
    std::atomic<std::uint64_t> out{0};
    std::atomic<std::uint64_t> busy_ns{0};
    Histogram task;
  };

 private:
  const RunContext& run_;
  std::string name_;
  std::string kind_;
  std::size_t concurrency_;
  bool ordered_;
  bool async_ = false;
  std::optional<ErrorPolicy> policy_;
  std::vector<std::unique_ptr<Slot>> slots_;  // one per thread that ran a body
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
