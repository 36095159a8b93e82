// StageStats: one stage's counters and task-time histogram for one run.
//
// The hot path (a body finishing) writes a slot owned by the current arena thread, so
// no two threads touch the same cache line; threads outside the run's arena (async
// completions on I/O threads) share one slot through atomic adds. Outcome counts
// (filtered, failed) are always atomic adds: they must add up exactly.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  /// A body ran for `ns` and emitted `out` items.
  void task_done(std::int64_t ns, std::uint64_t out) noexcept;
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

 private:
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> in{0};
    std::atomic<std::uint64_t> out{0};
    std::atomic<std::uint64_t> busy_ns{0};
    Histogram task;
  };
  Slot* owned_slot() const noexcept;

  const RunContext& run_;
  std::string name_;
  std::string kind_;
  std::size_t concurrency_;
  bool ordered_;
  std::optional<ErrorPolicy> policy_;
  std::vector<std::unique_ptr<Slot>> slots_;  // one per arena thread
  Slot shared_;
  std::atomic<std::uint64_t> filtered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> policy_failures_{0};
};

}  // namespace sluice::detail
