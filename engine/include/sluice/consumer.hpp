// Consumer<T>: a run whose items the calling thread takes one by one.
//
//   auto batches = flow.consume({.max_in_flight = 64});
//   for (auto& batch : batches) {            // or: while (auto b = batches.next()) ...
//     train_step(batch);
//     if (done) break;                        // stops the run cleanly
//   }
//   sluice::Report r = batches.finish();      // the run's figures
//
// The run starts at consume() on a driver thread of its own; the hand-off between the
// graph and the caller is bounded by max_in_flight. Leaving early (break, an exception,
// destruction) cancels the run; items not taken count as cancelled.
#pragma once

#include <iterator>
#include <memory>
#include <optional>
#include <thread>

#include "sluice/detail/run_state.hpp"
#include "sluice/detail/sink_node.hpp"

namespace sluice {

template <class T>
class Consumer {
 public:
  Consumer(std::shared_ptr<const detail::PipelineSpec> spec, const RunOptions& options)
      : state_(std::make_unique<detail::RunState>(std::move(spec), options)),
        queue_(static_cast<detail::HandOffRuntime<T>&>(state_->consumer_end())) {
    driver_ = std::thread([this] { report_ = state_->drive(); });
  }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer() { stop("consumer stopped"); }

  /// The next item; nullopt once the run has ended. Throws PipelineError when a
  /// failure stopped the run.
  std::optional<T> next() {
    if (finished_) return std::nullopt;
    std::optional<T> v = queue_.pop();
    if (!v) {
      drained_ = true;
      stop("consumer stopped");
      if (state_->context().stopping_failure()) {
        detail::finish_report(*state_, report_);  // throws
      }
    }
    return v;
  }

  /// Stops the run if it is still going and returns its report. Throws
  /// PipelineError when a failure stopped the run.
  Report finish() {
    stop("consumer stopped");
    return detail::finish_report(*state_, report_);
  }

  /// Cancels the run from any thread: next() then returns nullopt.
  void cancel() { state_->context().cancel("cancelled"); }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;

    iterator() = default;
    explicit iterator(Consumer* c) : c_(c) { ++*this; }
    T& operator*() const { return *c_->current_; }
    T* operator->() const { return &*c_->current_; }
    iterator& operator++() {
      c_->current_ = c_->next();
      if (!c_->current_) c_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const iterator& o) const { return c_ == o.c_; }

   private:
    Consumer* c_ = nullptr;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  void stop(const char* reason) {
    if (finished_) return;
    finished_ = true;
    // A run that ended by itself is not cancelled; one left early is.
    if (!drained_) state_->context().cancel(reason);
    if (driver_.joinable()) driver_.join();
  }

  std::unique_ptr<detail::RunState> state_;
  detail::HandOffRuntime<T>& queue_;
  std::thread driver_;
  Report report_;
  std::optional<T> current_;
  bool finished_ = false;
  bool drained_ = false;
};

}  // namespace sluice
