// Options for sources, stages, sinks and runs: small aggregates meant for designated
// initialisers.
//
//   flow.map("decode", decode, {.concurrency = 4, .ordered = true});
//   flow.async_map<Response>("fetch", op, {.max_in_flight = 1000});
//   pipeline.run({.threads = 8, .max_in_flight = 512, .deadline = 30s});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stop_token>

#include <oneapi/tbb/task_arena.h>

#include "sluice/error_policy.hpp"

namespace sluice {

/// Concurrency without a cap (tbb::flow::unlimited).
inline constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

struct Progress;

struct SourceOptions {
  /// Items per second (the "input RPU"); 0: as fast as the pipeline takes them.
  double items_per_second = 0;
  /// Stop after this many items (sluice::unlimited: when the range or generator ends).
  std::uint64_t limit = unlimited;
};

struct StageOptions {
  /// Bodies running at once: 1 (serial), N, or sluice::unlimited.
  std::size_t concurrency = 1;
  /// Emit in input order (a reorder buffer after the stage) rather than completion order.
  bool ordered = false;
  /// The body is cheap: run it in the task that hands the item over, when the cap
  /// allows, instead of spawning a task for it (tbb's lightweight policy). Leave it off
  /// for bodies that take long: they would hold up the stage that feeds them.
  /// map and filter only.
  bool lightweight = false;
  /// Overrides the run's policy for this stage.
  std::optional<ErrorPolicy> on_error{};
};

struct AsyncOptions {
  /// Operations started and not yet completed, at most.
  std::size_t max_in_flight = 64;
  bool ordered = false;
  /// Called once, from the cancelling thread, when the run is cancelled: abort what is in
  /// flight (completions that arrive afterwards are ignored). An operation with a
  /// `cancel()` member (sluice::http::fetch_stage, the GPU TransferStage) has it called
  /// without this.
  std::function<void()> on_cancel{};
  std::optional<ErrorPolicy> on_error{};
};

struct BatchOptions {
  /// Drop a last, partial batch (its items count as filtered) instead of emitting it.
  bool drop_last = false;
  /// Batch items in input order.
  bool ordered = false;
};

struct SinkOptions {
  /// Deliver in input order.
  bool ordered = false;
  std::optional<ErrorPolicy> on_error{};
};

struct RunOptions {
  /// Threads in the run's task arena; 0: all cores (or the size of `arena`).
  std::size_t threads = 0;
  /// A task_arena of the caller's to run in, instead of a new one per run: a program
  /// that runs pipelines again and again (an epoch loop, a benchmark) keeps its threads,
  /// and pipelines can share an arena with the caller's own tbb work. It must outlive
  /// the run. Null: the run makes its own, of `threads` threads.
  ///
  ///   tbb::task_arena arena(8);
  ///   for (int epoch = 0; epoch < 10; ++epoch) pipeline.run({.arena = &arena});
  tbb::task_arena* arena = nullptr;
  /// Items alive in the pipeline at once (back-pressure); 0: chosen from the pipeline
  /// (at least 256, and room for every batch and async stage to fill).
  std::size_t max_in_flight = 0;
  ErrorPolicy on_error = ErrorPolicy::fail_fast();
  /// Cancel the run once it has taken this long.
  std::optional<std::chrono::steady_clock::duration> deadline{};
  /// Cancels the run when stop is requested (from any thread).
  std::stop_token stop{};
  /// Called every `progress_interval` from a monitor thread while the run goes on.
  std::function<void(const Progress&)> on_progress{};
  std::chrono::milliseconds progress_interval{1000};
};

}  // namespace sluice
