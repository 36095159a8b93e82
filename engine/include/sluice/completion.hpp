// Completion<T>: the handle an asynchronous operation uses to hand its result back.
//
// An `async_map` stage starts an operation with (input, completion). The operation may
// finish on any thread (an I/O thread, a GPU callback, a timer) by calling exactly one of
// `succeed` or `fail`. Later calls are ignored, so a racing timeout and a late reply
// cannot deliver an item twice. Completions are cheap to copy (they share one slot).
//
//   auto stage = [client](Request r, sluice::Completion<Response> done) {
//     client->submit(std::move(r), [done](Response resp) { done.succeed(std::move(resp)); });
//   };
//
// Outside a pipeline (unit tests of an operation, or composing operations), make one
// from a callback:
//
//   auto done = sluice::make_completion<int>([](sluice::Outcome<int> o) { ... });
//   done.succeed(42);
//
// A thread that completes many operations per wake-up (an I/O loop) can hand them over
// together: completions made while a CompletionBatch lives on that thread reach their
// stages when it ends, one hand-over per stage instead of one per completion.
//
//   for (;;) {
//     wait_for_events();
//     sluice::CompletionBatch batch;
//     for (auto& op : finished_operations()) op.done.succeed(op.result);
//   }  // the stages get this round's results here
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sluice {

/// The result of an operation: a value, or the exception that replaced it.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;

  bool ok() const noexcept { return value.has_value(); }
};

namespace detail {

/// What a Completion talks to. The engine's async stage implements it; so does
/// make_completion. `deliver` is called at most once.
template <class T>
class CompletionSlot {
 public:
  virtual ~CompletionSlot() = default;
  virtual void deliver(Outcome<T>&& outcome) noexcept = 0;
  virtual bool cancelled() const noexcept = 0;

  /// Claims the right to deliver; true for the first caller only.
  bool claim() noexcept { return !done_.exchange(true, std::memory_order_acq_rel); }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> done_{false};
};

/// Told when the CompletionBatch open on this thread ends (see defer_to_batch).
class BatchListener {
 public:
  virtual void end_of_batch() noexcept = 0;

 protected:
  ~BatchListener() = default;
};

struct CompletionBatchState {
  int depth = 0;
  std::vector<std::shared_ptr<BatchListener>> listeners;
};

inline CompletionBatchState& completion_batch_state() noexcept {
  thread_local CompletionBatchState state;
  return state;
}

/// Has `listener` told when this thread's outermost CompletionBatch ends. False when no
/// batch is open here (or there is no memory to remember it): the caller acts now.
inline bool defer_to_batch(std::shared_ptr<BatchListener> listener) noexcept {
  CompletionBatchState& s = completion_batch_state();
  if (s.depth == 0) return false;
  try {
    s.listeners.push_back(std::move(listener));
  } catch (...) {
    return false;
  }
  return true;
}

template <class T, class Callback>
class CallbackSlot final : public CompletionSlot<T> {
 public:
  explicit CallbackSlot(Callback cb) : cb_(std::move(cb)) {}
  void deliver(Outcome<T>&& outcome) noexcept override {
    try {
      cb_(std::move(outcome));
    } catch (...) {
      // A callback outside a pipeline has nobody to report to; swallowing keeps the
      // completing thread (often an I/O loop) alive.
    }
  }
  bool cancelled() const noexcept override { return false; }

 private:
  Callback cb_;
};

}  // namespace detail

template <class T>
class Completion {
 public:
  Completion() = default;
  explicit Completion(std::shared_ptr<detail::CompletionSlot<T>> slot) : slot_(std::move(slot)) {}

  /// Completes with a value. Returns false when the completion had already happened.
  bool succeed(T value) const noexcept {
    if (!slot_ || !slot_->claim()) return false;
    Outcome<T> o;
    try {
      o.value.emplace(std::move(value));
    } catch (...) {
      o.error = std::current_exception();
    }
    slot_->deliver(std::move(o));
    return true;
  }

  /// Completes with a failure; the item becomes a failed outcome of this stage.
  bool fail(std::exception_ptr error) const noexcept {
    if (!slot_ || !slot_->claim()) return false;
    Outcome<T> o;
    o.error =
        error ? std::move(error) : std::make_exception_ptr(std::runtime_error("operation failed"));
    slot_->deliver(std::move(o));
    return true;
  }

  bool fail(const std::string& message) const noexcept {
    try {
      return fail(std::make_exception_ptr(std::runtime_error(message)));
    } catch (...) {
      return fail(std::current_exception());
    }
  }

  /// True once the run this operation belongs to was cancelled: the operation should
  /// stop early. Completing afterwards is allowed and ignored.
  bool cancelled() const noexcept { return slot_ && slot_->cancelled(); }

  /// True while the operation has not completed yet.
  bool pending() const noexcept { return slot_ && !slot_->done(); }

 private:
  std::shared_ptr<detail::CompletionSlot<T>> slot_;
};

/// While one lives, completions made on this thread reach their pipeline stages together
/// when it ends (the outermost one, when nested). Completions made elsewhere, and
/// callbacks of make_completion, are not held back. Keep the scope short: nothing it
/// holds moves on until it ends.
///
///   {
///     sluice::CompletionBatch batch;
///     for (auto& [done, value] : finished) done.succeed(std::move(value));
///   }
class CompletionBatch {
 public:
  CompletionBatch() noexcept { ++detail::completion_batch_state().depth; }
  ~CompletionBatch() {
    detail::CompletionBatchState& s = detail::completion_batch_state();
    if (--s.depth > 0) return;
    // No batch is open while the listeners run, so nothing is added meanwhile.
    for (auto& listener : s.listeners) listener->end_of_batch();
    s.listeners.clear();  // keeps the capacity for the next round
  }
  CompletionBatch(const CompletionBatch&) = delete;
  CompletionBatch& operator=(const CompletionBatch&) = delete;
};

/// A completion that calls `cb(Outcome<T>)` once, on the completing thread.
template <class T, class Callback>
Completion<T> make_completion(Callback cb) {
  return Completion<T>(std::make_shared<detail::CallbackSlot<T, Callback>>(std::move(cb)));
}

}  // namespace sluice
