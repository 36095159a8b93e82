// Keyed tumbling windows: items are grouped by a key and by processing time (or by
// count), and each group is folded into an accumulator by a user reduce function.
//
//   struct Stats { std::uint64_t ok = 0, errors = 0; };
//   auto windows = responses.then(sluice::tumbling_window<Stats>(
//       "per-10s", sluice::every(std::chrono::seconds(10)),
//       [](const Response& r) { return r.host; },                       // key
//       [](Stats& s, Response r) { (r.ok() ? s.ok : s.errors) += 1; }));  // reduce
//   windows.sink("print", [](sluice::Window<std::string, Stats> w) { ... });
//
// Time windows are aligned on the run's start: window k of every key covers
// [k * size, (k + 1) * size) of processing time. A timer closes each window when its
// time is up, whether or not more items come. Count windows close when a key has
// gathered n items. At the end of input the open windows are flushed, marked partial.
//
// The reduce function runs one call at a time, so accumulators need no locking. A
// window holds no item: each item's in-flight slot is given back as it is folded, so
// memory grows with open windows (keys), not with items. Items count as delivered when
// their window is emitted; windows leave in the order they close.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/detail/window_node.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/window_types.hpp"

namespace sluice {

/// Tumbling windows of `size` of processing time.
inline WindowSize every(std::chrono::nanoseconds size) {
  return WindowSize::time(size);
}
/// Tumbling windows of `n` items per key.
inline WindowSize every_n(std::uint64_t n) {
  return WindowSize::count(n);
}

struct WindowOptions {
  /// Fold items in input order (a reorder buffer in front of the reduce).
  bool ordered = false;
  /// Time windows: at each close, also emit an empty window (count 0) for every key seen
  /// earlier in the run that had no item in it, so a stalled stream shows as zeros.
  bool emit_empty = false;
  /// Overrides the run's policy for failures of the key or reduce function.
  std::optional<ErrorPolicy> on_error{};
};

/// The stage built by tumbling_window(); add it with Flow::then.
template <class Acc, class KeyFn, class ReduceFn>
class TumblingWindow {
 public:
  template <class T>
  using key_type = std::remove_cvref_t<std::invoke_result_t<KeyFn&, const T&>>;
  template <class T>
  using output_type = Window<key_type<T>, Acc>;

  TumblingWindow(std::string name, WindowSize size, KeyFn key, ReduceFn reduce,
                 WindowOptions options)
      : name_(std::move(name)),
        size_(size),
        key_(std::move(key)),
        reduce_(std::move(reduce)),
        options_(std::move(options)) {}

  template <class T>
  std::unique_ptr<detail::NodeSpec> make_spec() && {
    static_assert(std::is_invocable_v<KeyFn&, const T&>,
                  "sluice::tumbling_window: the key function cannot be called with const T& of "
                  "the previous stage's output type");
    static_assert(std::totally_ordered<key_type<T>>,
                  "sluice::tumbling_window: keys must be comparable with < (windows that close "
                  "together leave in key order)");
    static_assert(std::is_invocable_v<ReduceFn&, Acc&, T&&>,
                  "sluice::tumbling_window: the reduce function must be callable as "
                  "reduce(Acc&, T) with T the previous stage's output type");
    using Spec = detail::WindowSpec<T, key_type<T>, Acc, KeyFn, ReduceFn>;
    return std::make_unique<Spec>(
        std::move(name_), size_, std::move(key_), std::move(reduce_),
        detail::WindowConfig{options_.ordered, options_.emit_empty, std::move(options_.on_error)});
  }

 private:
  std::string name_;
  WindowSize size_;
  KeyFn key_;
  ReduceFn reduce_;
  WindowOptions options_;
};

/// A keyed tumbling-window reduce stage; Acc is the accumulator (default-constructed
/// for each new window). See the top of this header.
template <class Acc, class KeyFn, class ReduceFn>
TumblingWindow<Acc, KeyFn, ReduceFn> tumbling_window(std::string name, WindowSize size, KeyFn key,
                                                     ReduceFn reduce, WindowOptions options = {}) {
  static_assert(std::is_default_constructible_v<Acc>,
                "sluice::tumbling_window: the accumulator type must be default-constructible");
  return {std::move(name), size, std::move(key), std::move(reduce), std::move(options)};
}

}  // namespace sluice
