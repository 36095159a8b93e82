// The values of the window family: how big a window is, and what a closed one carries.
//
//   sluice::window::Size s = sluice::window::every(10s);  // or every_n(100)
//   void print(const sluice::window::Window<int, Stats>& w) {
//     std::printf("key %d window %llu: %llu items%s\n", w.key, (unsigned long long)w.number,
//                 (unsigned long long)w.count, w.partial ? " (partial)" : "");
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sluice::window {

/// A tumbling window's size: a span of processing time, or a number of items per key.
class Size {
 public:
  static Size time(std::chrono::nanoseconds span) {
    if (span <= std::chrono::nanoseconds::zero()) {
      throw std::invalid_argument("sluice: a time window must last longer than zero");
    }
    return Size(span, 0);
  }
  static Size count(std::uint64_t n) {
    if (n == 0) throw std::invalid_argument("sluice: a count window needs at least one item");
    return Size(std::chrono::nanoseconds::zero(), n);
  }
  bool by_time() const noexcept { return items_ == 0; }
  std::chrono::nanoseconds span() const noexcept { return span_; }
  std::uint64_t items() const noexcept { return items_; }
  /// "10s", "250ms", "100 items": for to_dot() and messages.
  std::string describe() const {
    if (!by_time()) return std::to_string(items_) + " items";
    auto ns = span_.count();
    if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
    if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
    return std::to_string(ns) + "ns";
  }

 private:
  Size(std::chrono::nanoseconds span, std::uint64_t items) : span_(span), items_(items) {}
  std::chrono::nanoseconds span_;
  std::uint64_t items_;
};

/// A closed window of one key. Times are processing time since the run started.
template <class Key, class Acc>
struct Window {
  Key key{};
  Acc value{};
  /// Items reduced into it (0 for an empty window, see Options::emit_empty).
  std::uint64_t count = 0;
  /// Time windows: the interval index since the run started (the same for every key).
  /// Count windows: how many windows of this key closed before this one.
  std::uint64_t number = 0;
  /// Time windows: the interval's bounds. Count windows: its first item and its close.
  std::chrono::nanoseconds start{};
  std::chrono::nanoseconds end{};
  /// Closed by the end of input before its time was up or its count reached.
  bool partial = false;
};

/// Tumbling windows of `size` of processing time.
inline Size every(std::chrono::nanoseconds size) {
  return Size::time(size);
}
/// Tumbling windows of `n` items per key.
inline Size every_n(std::uint64_t n) {
  return Size::count(n);
}

}  // namespace sluice::window
