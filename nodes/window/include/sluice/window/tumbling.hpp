// Keyed tumbling windows: items are grouped by a key and by processing time (or by
// count), and each group is folded into an accumulator by a user reduce function.
//
//   struct Stats { std::uint64_t ok = 0, errors = 0; };
//   auto windows = responses.then(sluice::window::tumbling<Stats>(
//       "per-10s", sluice::window::every(std::chrono::seconds(10)),
//       [](const Response& r) { return r.host; },                       // key
//       [](Stats& s, Response r) { (r.ok() ? s.ok : s.errors) += 1; }));  // reduce
//   windows.sink("print", [](sluice::window::Window<std::string, Stats> w) { ... });
//
// Time windows are aligned on the run's start: window k of every key covers
// [k * size, (k + 1) * size) of processing time. A timer closes each window when its
// time is up, whether or not more items come. Count windows close when a key has
// gathered n items. At the end of input the open windows are flushed, marked partial.
//
// The reduce function runs one call at a time, so accumulators need no locking. A
// window holds no item: each item's in-flight slot is given back as it is folded (it
// joins the window's sluice::ItemGroup), so memory grows with open windows (keys), not
// with items. Items count as delivered when their window is emitted; windows leave in
// the order they close.
//
// The stage is written against the public stage interface (sluice/stage_api.hpp):
// windows close in three places, each under the table's lock, which is also where they
// are emitted, so the port numbers them in the order they closed: in on_item (a count
// window reaching its size), on the timer thread (a time window's interval ending, even
// when no item comes), and in on_end_of_input.
#pragma once

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/error_policy.hpp"
#include "sluice/stage_api.hpp"
#include "sluice/window/table.hpp"
#include "sluice/window/types.hpp"

namespace sluice::window {

struct Options {
  /// Fold items in input order (a reorder buffer in front of the reduce).
  bool ordered = false;
  /// Time windows: at each close, also emit an empty window (count 0) for every key seen
  /// earlier in the run that had no item in it, so a stalled stream shows as zeros.
  bool emit_empty = false;
  /// Overrides the run's policy for failures of the key or reduce function.
  std::optional<ErrorPolicy> on_error{};
};

namespace detail {

/// One run's tumbling-window stage: the table, its lock, and the timer thread.
template <class T, class Key, class Acc, class KeyFn, class ReduceFn>
class TumblingStage {
  using Closing = Table<Key, Acc, ItemGroup>;
  using Closed = typename Closing::Closed;

 public:
  using output_type = Window<Key, Acc>;

  TumblingStage(Size size, const KeyFn& key, const ReduceFn& reduce, bool emit_empty)
      : size_(size), key_(key), reduce_(reduce), emit_empty_(emit_empty) {}
  TumblingStage(const TumblingStage&) = delete;
  TumblingStage& operator=(const TumblingStage&) = delete;
  ~TumblingStage() { on_stop(); }

  void on_start(StagePort<output_type>& port) {
    port_ = &port;
    table_.emplace(size_, ns_of(port.run_started()), emit_empty_);
    if (size_.by_time()) timer_ = std::thread([this] { run_timer(); });
  }

  void on_item(T value, ItemTicket&& ticket, StagePort<output_type>& port) {
    Key key = key_(std::as_const(value));
    std::lock_guard lock(mutex_);
    const std::int64_t before = table_->next_deadline();
    std::vector<Closed> closed;
    // On a throw from reduce the ticket is untouched and the stage interface fails it.
    table_->add(
        key, now(), std::move(ticket), [&](Acc& acc) { reduce_(acc, std::move(value)); }, closed);
    emit(closed, port);
    if (table_->next_deadline() < before) cv_.notify_all();  // the timer sleeps until then
  }

  bool on_end_of_input(StagePort<output_type>& port) {
    std::lock_guard lock(mutex_);
    std::vector<Closed> closed;
    table_->close_all(now(), closed);
    cv_.notify_all();  // the timer has nothing left to wait for
    emit(closed, port);
    return !closed.empty();
  }

  void on_cancel() { stop_timer(false); }
  void on_stop() { stop_timer(true); }

 private:
  static std::int64_t ns_of(std::chrono::steady_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static std::int64_t now() noexcept { return ns_of(std::chrono::steady_clock::now()); }

  /// Emits closed windows; called with the lock held, so they leave in closing order.
  static void emit(std::vector<Closed>& closed, StagePort<output_type>& port) {
    for (Closed& c : closed) port.emit(std::move(c.members), std::move(c.window));
  }

  void run_timer() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const std::int64_t deadline = table_->next_deadline();
      if (deadline == Closing::kNever) {
        cv_.wait(lock);
        continue;
      }
      const std::int64_t t = now();
      if (t < deadline) {
        cv_.wait_for(lock, std::chrono::nanoseconds(deadline - t));
        continue;
      }
      if (port_->cancelled()) break;
      std::vector<Closed> closed;
      table_->close_due(t, closed);
      try {
        emit(closed, *port_);
      } catch (...) {
        // Out of memory copying a window out: its items fail, the timer goes on.
        for (Closed& c : closed) {
          if (!c.members.empty()) port_->fail(std::move(c.members), std::current_exception());
        }
      }
    }
  }

  void stop_timer(bool join) noexcept {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (join && timer_.joinable()) timer_.join();
  }

  Size size_;
  KeyFn key_;
  ReduceFn reduce_;
  bool emit_empty_;
  StagePort<output_type>* port_ = nullptr;
  std::mutex mutex_;  // guards table_ and stopping_
  std::condition_variable cv_;
  std::optional<Closing> table_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace detail

/// A keyed tumbling-window reduce stage for Flow::then; Acc is the accumulator
/// (default-constructed for each new window). See the top of this header.
template <class Acc, class KeyFn, class ReduceFn>
auto tumbling(std::string name, Size size, KeyFn key, ReduceFn reduce, Options options = {}) {
  static_assert(std::is_default_constructible_v<Acc>,
                "sluice::window::tumbling: the accumulator type must be default-constructible");
  auto factory = [size, key = std::move(key), reduce = std::move(reduce),
                  emit_empty = options.emit_empty]<class T>() {
    static_assert(std::is_invocable_v<const KeyFn&, const T&>,
                  "sluice::window::tumbling: the key function cannot be called with const T& of "
                  "the previous stage's output type");
    using Key = std::remove_cvref_t<std::invoke_result_t<const KeyFn&, const T&>>;
    static_assert(std::totally_ordered<Key>,
                  "sluice::window::tumbling: keys must be comparable with < (windows that close "
                  "together leave in key order)");
    static_assert(std::is_invocable_v<ReduceFn&, Acc&, T&&>,
                  "sluice::window::tumbling: the reduce function must be callable as "
                  "reduce(Acc&, T) with T the previous stage's output type");
    return detail::TumblingStage<T, Key, Acc, KeyFn, ReduceFn>(size, key, reduce, emit_empty);
  };
  return custom_stage(
      std::move(name), std::move(factory),
      {.concurrency = 1,
       .ordered = options.ordered,
       .ordered_output = true,
       .on_error = std::move(options.on_error),
       .kind = "window",
       .describe = "tumbling " + size.describe() + (size.by_time() ? ", timer thread" : "")});
}

}  // namespace sluice::window
