// Pipeline: a complete pipeline ending in a sink, ready to run any number of times.
//
//   sluice::Pipeline p = sluice::from("n", v).map("f", f).sink("out", out);
//   sluice::Report r = p.run({.threads = 4});            // blocks
//   sluice::RunHandle h = p.start({.threads = 4});       // runs on its own thread
//   h.cancel();                                          // from any thread
//   sluice::Report r2 = h.wait();
//   std::cout << p.to_dot();                             // the flow graph, for Graphviz
#pragma once

#include <future>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "sluice/detail/run_state.hpp"
#include "sluice/options.hpp"
#include "sluice/report.hpp"

namespace sluice {

/// A run started with Pipeline::start(). Its destructor cancels the run and waits.
class RunHandle {
 public:
  RunHandle(RunHandle&&) noexcept = default;
  RunHandle& operator=(RunHandle&&) noexcept = default;
  ~RunHandle() {
    if (thread_.joinable()) {
      stop_.request_stop();
      thread_.join();
    }
  }

  /// Cancels the run; wait() then returns a report with was_cancelled set.
  void cancel() { stop_.request_stop(); }
  /// Waits for the end; rethrows PipelineError if a failure stopped the run.
  Report wait() {
    if (thread_.joinable()) thread_.join();
    return result_.get();
  }

 private:
  friend class Pipeline;
  RunHandle() = default;
  std::stop_source stop_;
  std::future<Report> result_;
  std::thread thread_;
};

class Pipeline {
 public:
  explicit Pipeline(std::shared_ptr<const detail::PipelineSpec> spec) : spec_(std::move(spec)) {}

  /// Runs to the end on the calling thread (the graph runs in its own arena).
  /// Throws PipelineError when a failure stops the run (fail-fast, or a budget spent).
  Report run(const RunOptions& options = {}) const {
    detail::RunState state(spec_, options);
    return detail::finish_report(state, state.drive());
  }

  /// Starts the run on a thread of its own.
  RunHandle start(RunOptions options = {}) const {
    RunHandle h;
    std::stop_token outer = options.stop;
    options.stop = h.stop_.get_token();
    std::promise<Report> promise;
    h.result_ = promise.get_future();
    h.thread_ = std::thread(
        [spec = spec_, options = std::move(options), outer, p = std::move(promise)]() mutable {
          // Forward a caller's own stop_token too.
          std::optional<std::stop_callback<std::function<void()>>> forward;
          try {
            detail::RunState state(spec, options);
            if (outer.stop_possible()) {
              forward.emplace(
                  outer, std::function<void()>([&state] { state.context().cancel("cancelled"); }));
            }
            p.set_value(detail::finish_report(state, state.drive()));
          } catch (...) {
            p.set_exception(std::current_exception());
          }
        });
    return h;
  }

  /// Graphviz text: one box per stage, naming the tbb::flow nodes it maps onto.
  std::string to_dot() const { return spec_->to_dot(); }

 private:
  std::shared_ptr<const detail::PipelineSpec> spec_;
};

}  // namespace sluice
