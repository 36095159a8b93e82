// RunState: one run of a pipeline. It builds a fresh tbb::flow::graph in a task_arena
// of the requested size, or in the caller's (a fresh graph per run: nothing a cancel leaves behind,
// such as a full limiter, can leak into the next run), then drives it:
//
//   wait_for_all -> cancelled? stop : work injected from outside meanwhile? wait again
//                -> source done, no operation out? flush held-back items (tail batches,
//                   open windows) one node at a time
//                -> everything ended? done : sleep until something from outside (a
//                   batch of completions, the source ending, the consumer taking items,
//                   a window timer, a cancel) says to look again
//
// Where each job lives: building the graph and sizing the arena, and the drive loop, in
// run_state.cpp; the progress and deadline thread in run_monitor.hpp; the Report in
// run_report.cpp. What the nodes share during the run is RunContext (run_context.hpp;
// its failure policies in run_failures.cpp).
//
// Threads outside the graph (the consumer, async completions) never wait on it; they
// put work in and the driver waits for it. Asynchronous operations in flight hold no
// graph wait (async_node.hpp), so while every item is out the driver sleeps on a
// condition variable rather than in wait_for_all, where oneTBB would spin.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "sluice/detail/spec.hpp"
#include "sluice/report.hpp"

namespace sluice::detail {

class TerminalNode;

class RunState {
 public:
  RunState(std::shared_ptr<const PipelineSpec> spec, const RunOptions& options);
  ~RunState();
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  /// Runs to the end (source exhausted and every item ended, or cancelled). Never
  /// throws for a failed item: the failure is in context().stopping_failure().
  Report drive();

  RunContext& context() noexcept { return *ctx_; }
  /// The consumer loop's end (the graph has one when Flow::consume() made it).
  RuntimeNode& consumer_end();

  /// The figures as they are now; with `raw`, the per-stage histograms and busy times.
  struct RawStage {
    HistogramCounts task;
    std::uint64_t busy_ns = 0;
    std::size_t usable_concurrency = 1;  // for a busy fraction over an interval
  };
  Report snapshot(std::vector<RawStage>* raw = nullptr, HistogramCounts* latency = nullptr) const;

 private:
  void collect_stats();
  std::uint64_t ended() const noexcept;
  void wait_graph();

  std::shared_ptr<const PipelineSpec> spec_;
  std::size_t threads_ = 0;
  std::size_t max_in_flight_ = 0;
  std::optional<tbb::global_control> parallelism_;
  std::unique_ptr<tbb::task_arena> own_arena_;  // unless the caller gave one
  tbb::task_arena* arena_ = nullptr;            // where the graph runs
  std::unique_ptr<RunContext> ctx_;
  std::unique_ptr<tbb::flow::graph> graph_;
  std::vector<std::unique_ptr<RuntimeNode>> nodes_;
  std::vector<StageStats*> stats_;
  // For each of stats_: the stats whose outputs it takes in (for its `waiting` figure),
  // empty where that is not known (a branch of a route).
  std::vector<std::vector<const StageStats*>> feeds_;
  std::vector<const TerminalNode*> ends_;
  double elapsed_s_ = -1;  // set when the run has ended
};

/// Report for a finished run: throws PipelineError when a failure stopped it.
Report finish_report(RunState& state, Report report);

}  // namespace sluice::detail
