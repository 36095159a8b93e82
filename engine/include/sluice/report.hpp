// Report: what a run did, pipeline-wide and per stage.
//
//   sluice::Report r = pipeline.run();
//   std::cout << r;                      // a readable table
//   assert(r.balanced());                // produced == delivered + filtered + failed + cancelled
//   double rate = r.throughput();        // delivered items per second
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace sluice {

/// Durations of a set of operations, in microseconds.
struct LatencySummary {
  std::uint64_t count = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  /// The distribution behind the figures, so that summaries of several runs (or of the
  /// ranks of one distributed run) merge exactly (merge()): samples per log-linear
  /// bucket of nanoseconds (8 per power of two), trailing empty buckets left out.
  std::vector<std::uint64_t> buckets;
  std::uint64_t sum_ns = 0;
};

/// What one stage did. Counts are in items: `in` bodies started, `out` items emitted,
/// `filtered` and `failed` in source items (a batch that fails counts its members).
struct StageReport {
  std::string name;
  std::string kind;             // "source", "map", "filter", "async_map", "batch", "sink", ...
  std::size_t concurrency = 0;  // sluice::unlimited for no cap
  bool ordered = false;
  bool async = false;  // operations started by the stage complete elsewhere
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t filtered = 0;
  std::uint64_t failed = 0;
  std::uint64_t waiting = 0;    // items handed to the stage that it has not started yet
  std::uint64_t in_flight = 0;  // async stages: operations started and not completed
  LatencySummary task;          // body time; for async stages, start to completion
  double busy_fraction = 0;     // task time / (elapsed * usable concurrency)
};

/// What a whole run did. After every run, cancelled or not:
/// produced == delivered + filtered + failed + cancelled.
struct Report {
  std::uint64_t produced = 0;
  std::uint64_t delivered = 0;
  std::uint64_t filtered = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;  // items dropped by a cancel (in flight at that moment)
  double elapsed_s = 0;
  std::size_t threads = 0;
  std::size_t max_in_flight = 0;
  bool was_cancelled = false;
  /// Runs this report sums: 1 for a run, the ranks for a distributed run's reduced report
  /// (merge()). Per-run figures (busy fractions) are averaged over them.
  std::size_t runs = 1;
  std::string cancel_reason;  // "cancelled", "deadline", "consumer stopped", or the failure
  LatencySummary end_to_end;  // source to delivery
  std::vector<StageReport> stages;

  /// produced == delivered + filtered + failed + cancelled.
  bool balanced() const noexcept { return produced == delivered + filtered + failed + cancelled; }
  /// Items not yet ended (a live snapshot; zero once a run has returned).
  std::uint64_t in_flight() const noexcept {
    std::uint64_t ended = delivered + filtered + failed + cancelled;
    return produced > ended ? produced - ended : 0;
  }
  /// Delivered items per second.
  double throughput() const noexcept { return elapsed_s > 0 ? delivered / elapsed_s : 0.0; }

  /// The report as an aligned text table, one row per stage.
  std::string table() const;
};

std::ostream& operator<<(std::ostream& os, const Report& r);

/// Two sets of durations as one: counts and sums add, quantiles come from the merged
/// buckets (as exact as either summary's own).
LatencySummary merge(const LatencySummary& a, const LatencySummary& b);

/// Two reports of the same graph as one (the ranks of a distributed run, or repeated runs):
/// item counts add, stages are merged row by row (they must have the same names, or
/// std::invalid_argument says which differ), latencies merge, elapsed_s is the longer,
/// threads and max_in_flight add, and busy fractions average over `runs`.
///
///   sluice::Report all = sluice::merge(rank0_report, rank1_report);
///   assert(all.balanced());
Report merge(const Report& a, const Report& b);

/// Passed to RunOptions::on_progress every interval: the run so far, and the figures of
/// the last interval alone (counts are deltas, latencies cover the interval's tasks).
struct Progress {
  Report total;
  Report interval;
  /// One line: elapsed, delivered, rate over the interval, in flight.
  std::string line() const;
};

}  // namespace sluice
