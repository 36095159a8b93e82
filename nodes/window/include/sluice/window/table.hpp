// Table: the open windows of a tumbling-window stage, by key, and the rules that close
// them. It knows nothing of threads or graphs (the stage locks around it), so the rules
// can be tested alone with made-up times. What a window holds of its items is `Members`
// (the stage's sluice::ItemGroup; anything with add(Item&&) in a test).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "sluice/window/types.hpp"

namespace sluice::window::detail {

template <class Key, class Acc, class Members>
class Table {
 public:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  /// A window that has closed, and its items.
  struct Closed {
    Window<Key, Acc> window;
    Members members{};
  };

  /// `origin_ns`: when the run started; time windows are aligned on it.
  Table(Size size, std::int64_t origin_ns, bool emit_empty)
      : size_(size), origin_ns_(origin_ns), emit_empty_(emit_empty && size.by_time()) {}

  /// Folds an item of `key` at time `now_ns` with `fold(Acc&)` and adds it to the
  /// window's members; a window this closes (a count window reaching its size) is
  /// appended to `out`. If `fold` throws, the table is as before, apart from what `fold`
  /// did to an existing accumulator, and `item` is untouched.
  template <class Item, class Fold>
  void add(const Key& key, std::int64_t now_ns, Item&& item, Fold&& fold,
           std::vector<Closed>& out) {
    const std::uint64_t interval =
        size_.by_time() ? std::max(interval_of(now_ns), next_to_close_) : 0;
    auto& windows = open_[interval];
    auto [it, created] = windows.try_emplace(key);
    Open& w = it->second;
    try {
      fold(w.value);
    } catch (...) {
      if (created) windows.erase(it);
      if (windows.empty() && size_.by_time()) drop_empty_intervals();
      throw;
    }
    if (created) {
      w.opened_ns = now_ns;
      if (emit_empty_) seen_.try_emplace(key, interval);
    }
    ++w.count;
    w.members.add(std::forward<Item>(item));
    if (!size_.by_time() && w.count == size_.items()) {
      out.push_back(close_counted(it->first, std::move(w), now_ns, false));
      windows.erase(it);
    }
  }

  /// Closes the time windows whose interval ended at or before `now_ns`.
  void close_due(std::int64_t now_ns, std::vector<Closed>& out) {
    if (!size_.by_time() || ended_) return;
    const std::uint64_t current = interval_of(now_ns);
    while (next_to_close_ < current) {
      if (!emit_empty_) {  // skip the intervals nobody had an item in
        if (open_.empty() || open_.begin()->first >= current) {
          next_to_close_ = current;
          break;
        }
        next_to_close_ = std::max(next_to_close_, open_.begin()->first);
      }
      close_interval(next_to_close_, false, out);
      ++next_to_close_;
    }
  }

  /// End of input: closes every open window; those whose time or count was not yet up
  /// are partial. Nothing is added or closed afterwards.
  void close_all(std::int64_t now_ns, std::vector<Closed>& out) {
    if (ended_) return;
    close_due(now_ns, out);
    ended_ = true;
    if (size_.by_time()) {
      while (!open_.empty()) close_interval(open_.begin()->first, true, out, false);
      return;
    }
    auto& windows = open_[0];
    for (auto& [key, w] : windows) out.push_back(close_counted(key, std::move(w), now_ns, true));
    open_.clear();
  }

  /// When the next time window is due, or kNever.
  std::int64_t next_deadline() const noexcept {
    if (!size_.by_time() || ended_) return kNever;
    if (emit_empty_ && !seen_.empty()) return end_of(next_to_close_);
    if (open_.empty()) return kNever;
    return end_of(std::max(open_.begin()->first, next_to_close_));
  }

  bool ended() const noexcept { return ended_; }
  /// Open windows (for tests and reports).
  std::size_t open_windows() const noexcept {
    std::size_t n = 0;
    for (const auto& [k, windows] : open_) n += windows.size();
    return n;
  }

 private:
  struct Open {
    Acc value{};
    std::uint64_t count = 0;
    Members members{};
    std::int64_t opened_ns = 0;
  };

  std::uint64_t interval_of(std::int64_t now_ns) const noexcept {
    if (now_ns <= origin_ns_) return 0;
    return static_cast<std::uint64_t>((now_ns - origin_ns_) / size_.span().count());
  }
  std::int64_t end_of(std::uint64_t interval) const noexcept {
    return origin_ns_ + static_cast<std::int64_t>(interval + 1) * size_.span().count();
  }

  void close_interval(std::uint64_t k, bool partial, std::vector<Closed>& out,
                      bool with_empty = true) {
    const auto start =
        std::chrono::nanoseconds(static_cast<std::int64_t>(k) * size_.span().count());
    auto node = open_.extract(k);
    std::map<Key, Open> windows;
    if (!node.empty()) windows = std::move(node.mapped());
    if (emit_empty_ && with_empty) {
      // Keys seen by interval k, not later ones: the timer may close k after an item of a
      // new key arrived in k + 1.
      for (const auto& [key, first] : seen_) {
        if (first <= k) windows.try_emplace(key);
      }
    }
    for (auto& [key, w] : windows) {
      Closed c;
      c.window.key = key;
      c.window.value = std::move(w.value);
      c.window.count = w.count;
      c.window.number = k;
      c.window.start = start;
      c.window.end = start + size_.span();
      c.window.partial = partial;
      c.members = std::move(w.members);
      out.push_back(std::move(c));
    }
  }

  Closed close_counted(const Key& key, Open&& w, std::int64_t now_ns, bool partial) {
    Closed c;
    c.window.key = key;
    c.window.value = std::move(w.value);
    c.window.count = w.count;
    c.window.number = closed_per_key_[key]++;
    c.window.start = std::chrono::nanoseconds(w.opened_ns - origin_ns_);
    c.window.end = std::chrono::nanoseconds(now_ns - origin_ns_);
    c.window.partial = partial;
    c.members = std::move(w.members);
    return c;
  }

  void drop_empty_intervals() {
    std::erase_if(open_, [](const auto& kv) { return kv.second.empty(); });
  }

  Size size_;
  std::int64_t origin_ns_;
  bool emit_empty_;
  bool ended_ = false;
  std::uint64_t next_to_close_ = 0;                    // time windows: first interval still open
  std::map<std::uint64_t, std::map<Key, Open>> open_;  // by interval (count windows: 0 only)
  std::map<Key, std::uint64_t> seen_;                  // keys seen so far and their first interval
  std::map<Key, std::uint64_t> closed_per_key_;        // count windows: how many closed
};

}  // namespace sluice::window::detail
