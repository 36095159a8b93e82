// join_by_key: two independent flows matched on a key, one output per matched pair.
//
//   flow a -> function_node(unlimited, lightweight: arrive<a>) -+
//   flow b -> function_node(unlimited, lightweight: arrive<b>) -+-> broadcast_node -> ...
//
// Each side keeps its unmatched items waiting, in arrival order, indexed by key. An item
// arriving on one side takes the oldest waiting item of the other side with an equal key
// (one-to-one: each item is matched at most once; duplicates of a key pair up in arrival
// order), or waits itself. At most max_waiting items wait per side: one more evicts the
// oldest of that side, and flush() (end of input) evicts everything still waiting. An
// evicted item ends filtered or failed (KeyedJoinOptions::unmatched), after the user's
// hook, if any, has seen it.
//
// Slots: a waiting item keeps its own slots (those of its source, or its tee's Split).
// The joined item stands for both inputs through the same SlotGather a batch uses: plain
// weight when both came from one source as plain items, a Split over them otherwise, so
// its outcome downstream becomes the outcome of both, and each source gets its slots back
// when it ends. Since the waiting items keep their slots, PipelineSpec::required_in_flight
// makes every source let through more than the join can hold (holds()): the join never
// takes all of a source's slots, so a side can always receive one more item, which
// matches or evicts. That is why a count bound cannot deadlock.
//
// The inputs' sequence numbers mean nothing here (two domains, matched in any order):
// the output is a new ordering domain, and placeholders end at the join.
#pragma once

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/detail/map_node.hpp"
#include "sluice/detail/split.hpp"
#include "sluice/keyed_join.hpp"

namespace sluice::detail {

/// join_by_key without an unmatched-item hook.
struct NoUnmatchedHook {};

/// One side's waiting items: arrival order (front: oldest) and an index by key whose
/// lists are in arrival order too, so the oldest item overall is the first of its key.
template <class K, class V>
class WaitingSide {
 public:
  struct Item {
    K key;
    EnvelopeMeta meta;
    V value;
  };

  /// The oldest item waiting with key `k`, taken out; nullopt if none.
  std::optional<Item> take(const K& k) {
    auto it = by_key_.find(k);
    if (it == by_key_.end()) return std::nullopt;
    auto pos = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) by_key_.erase(it);
    std::optional<Item> out(std::move(*pos));
    fifo_.erase(pos);
    return out;
  }
  /// Adds `item` as the newest. Strong guarantee: on a throw nothing was added.
  void put(Item item) {
    fifo_.push_back(std::move(item));
    try {
      by_key_[fifo_.back().key].push_back(std::prev(fifo_.end()));
    } catch (...) {
      fifo_.pop_back();
      throw;
    }
  }
  /// The oldest item, taken out (the side must not be empty).
  Item take_oldest() {
    auto it = by_key_.find(fifo_.front().key);
    it->second.pop_front();
    if (it->second.empty()) by_key_.erase(it);
    Item out = std::move(fifo_.front());
    fifo_.pop_front();
    return out;
  }
  std::size_t size() const noexcept { return fifo_.size(); }

 private:
  std::list<Item> fifo_;
  std::unordered_map<K, std::deque<typename std::list<Item>::iterator>> by_key_;
};

template <class R, class K, class A, class B, class KeyA, class KeyB, class Combine, class Hook>
class KeyedJoinRuntime final : public OutputNode<R> {
  template <class T>
  using Arrive = tbb::flow::function_node<Envelope<T>, tbb::flow::continue_msg,
                                          tbb::flow::queueing_lightweight>;
  using SideA = WaitingSide<K, A>;
  using SideB = WaitingSide<K, B>;

 public:
  KeyedJoinRuntime(BuildContext& ctx, const std::string& name, const KeyedJoinOptions& opts,
                   KeyA key_a, KeyB key_b, Combine combine, Hook hook)
      : run_(ctx.run),
        stats_(ctx.run, name, "join_by_key", unlimited, false, std::nullopt),
        name_(name),
        opts_(opts),
        key_a_(std::move(key_a)),
        key_b_(std::move(key_b)),
        combine_(std::move(combine)),
        hook_(std::move(hook)),
        out_(ctx.graph),
        arrive_a_(ctx.graph, tbb::flow::unlimited,
                  [this](const Envelope<A>& in) noexcept {
                    InlineBody inline_body;
                    arrive<JoinSide::a>(in, key_a_, side_a_, side_b_);
                    return tbb::flow::continue_msg{};
                  }),
        arrive_b_(ctx.graph, tbb::flow::unlimited, [this](const Envelope<B>& in) noexcept {
          InlineBody inline_body;
          arrive<JoinSide::b>(in, key_b_, side_b_, side_a_);
          return tbb::flow::continue_msg{};
        }) {
    tbb::flow::make_edge(ctx.input<A>(0), arrive_a_);
    tbb::flow::make_edge(ctx.input<B>(1), arrive_b_);
  }

  tbb::flow::sender<Envelope<R>>& output() override { return out_; }
  StageStats* stats() override { return &stats_; }

  /// End of input: whatever still waits will never be matched.
  bool flush() override {
    std::vector<typename SideA::Item> left_a;
    std::vector<typename SideB::Item> left_b;
    {
      std::lock_guard lock(mutex_);
      // Taken one by one so that a failed allocation leaves the rest waiting for the
      // next flush rather than lost.
      try {
        left_a.reserve(side_a_.size());
        while (side_a_.size() != 0) left_a.push_back(side_a_.take_oldest());
        left_b.reserve(side_b_.size());
        while (side_b_.size() != 0) left_b.push_back(side_b_.take_oldest());
      } catch (...) {
      }
    }
    for (auto& w : left_a) unmatched(JoinSide::a, std::move(w), true);
    for (auto& w : left_b) unmatched(JoinSide::b, std::move(w), true);
    return !left_a.empty() || !left_b.empty();
  }

 private:
  template <JoinSide S, class T, class KeyFn, class Mine, class Other>
  void arrive(const Envelope<T>& in, KeyFn& key_fn, Mine& mine, Other& other) noexcept {
    if (run_.cancelled()) return;
    if (!in.value.has_value()) {
      run_.end(in);  // a placeholder ends here: the output is a new ordering domain
      return;
    }
    std::optional<typename Mine::Item> item;
    std::optional<typename Other::Item> partner;
    std::optional<typename Mine::Item> evicted;
    try {
      item.emplace(typename Mine::Item{std::invoke(key_fn, in.value.get()), in, in.value.take()});
      std::lock_guard lock(mutex_);
      partner = other.take(item->key);
      if (!partner) {
        mine.put(std::move(*item));
        if (mine.size() > opts_.max_waiting) evicted.emplace(mine.take_oldest());
      }
    } catch (...) {
      // The key function threw (or memory ran out): the item fails here. Nothing of it
      // is waiting (put() adds all or nothing).
      stats_.add_in(1);
      EnvelopeMeta failed = in;
      run_.fail(stats_, failed, std::current_exception());
      run_.end(failed);
      return;
    }
    if (partner) {
      if constexpr (S == JoinSide::a) {
        emit(std::move(*item), std::move(*partner));
      } else {
        emit(std::move(*partner), std::move(*item));
      }
      return;
    }
    stats_.add_in(1);  // an arrival that pairs up is counted with the output instead
    if (evicted) unmatched(S, std::move(*evicted), false);
  }

  /// The joined item: it stands for both inputs and holds their slots.
  void emit(typename SideA::Item&& a, typename SideB::Item&& b) noexcept {
    Envelope<R> e;
    e.seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    e.index = a.meta.index;
    // Latency from the earlier of the two (0: not measured).
    e.born_ns = a.meta.born_ns == 0   ? b.meta.born_ns
                : b.meta.born_ns == 0 ? a.meta.born_ns
                                      : std::min(a.meta.born_ns, b.meta.born_ns);
    TaskTimer timer(stats_);
    try {
      SlotGather slots;
      slots.add(a.meta);
      slots.add(b.meta);
      slots.apply(e);
    } catch (...) {
      // Out of memory before the pair became one item: each input fails on its own.
      timer.done(0);
      const std::exception_ptr error = std::current_exception();
      run_.fail(stats_, a.meta, error);
      run_.end(a.meta);
      run_.fail(stats_, b.meta, error);
      run_.end(b.meta);
      return;
    }
    try {
      e.value.emplace(std::invoke(combine_, std::move(a.value), std::move(b.value)));
      timer.done(1);
    } catch (...) {
      timer.done(0);
      run_.fail(stats_, e, std::current_exception());  // both inputs fail: the pair is one item
    }
    out_.try_put(e);
  }

  /// `w` will never be matched: the hook sees it, then it ends with the configured outcome.
  template <class Item>
  void unmatched(JoinSide side, Item&& w, bool at_end) noexcept {
    EnvelopeMeta m = std::move(w.meta);
    const Unmatched u{side, m.index, at_end};
    if constexpr (!std::is_same_v<Hook, NoUnmatchedHook>) {
      try {
        std::lock_guard lock(hook_mutex_);
        std::invoke(hook_, std::as_const(w.value), u);
      } catch (...) {
        run_.fail(stats_, m, std::current_exception());
        run_.end(m);
        return;
      }
    }
    if (opts_.unmatched == UnmatchedOutcome::filtered) {
      run_.filter(stats_, m);
    } else {
      std::exception_ptr error;
      try {
        error = std::make_exception_ptr(NoPartnerError(name_, u, opts_.max_waiting));
      } catch (...) {
        error = std::current_exception();
      }
      run_.fail(stats_, m, std::move(error));
    }
    run_.end(m);
  }

  RunContext& run_;
  StageStats stats_;
  std::string name_;
  KeyedJoinOptions opts_;
  KeyA key_a_;
  KeyB key_b_;
  Combine combine_;
  Hook hook_;
  std::mutex hook_mutex_;  // the hook is called one item at a time
  std::mutex mutex_;       // guards both sides
  SideA side_a_;
  SideB side_b_;
  std::atomic<std::uint64_t> next_seq_{0};
  tbb::flow::broadcast_node<Envelope<R>> out_;
  Arrive<A> arrive_a_;
  Arrive<B> arrive_b_;
};

template <class R, class K, class A, class B, class KeyA, class KeyB, class Combine, class Hook>
class KeyedJoinSpec final : public NodeSpec {
 public:
  KeyedJoinSpec(std::string name, KeyA key_a, KeyB key_b, Combine combine, Hook hook,
                KeyedJoinOptions opts)
      : NodeSpec(std::move(name), "join_by_key"),
        key_a_(std::move(key_a)),
        key_b_(std::move(key_b)),
        combine_(std::move(combine)),
        hook_(std::move(hook)),
        opts_(opts) {
    if (opts_.max_waiting == 0) {
      throw std::invalid_argument("sluice: join_by_key '" + this->name() +
                                  "': max_waiting must be at least 1 (items waiting per side)");
    }
    if (opts_.max_waiting > kMostWaiting) {
      throw std::invalid_argument("sluice: join_by_key '" + this->name() + "': max_waiting " +
                                  std::to_string(opts_.max_waiting) + " is larger than " +
                                  std::to_string(kMostWaiting));
    }
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<KeyedJoinRuntime<R, K, A, B, KeyA, KeyB, Combine, Hook>>(
        ctx, name(), opts_, key_a_, key_b_, combine_, hook_);
  }
  /// A joined item stands for at most two source items.
  std::size_t gathers() const override { return 2; }
  bool numbers_output() const override { return true; }
  std::size_t holds() const override { return 2 * opts_.max_waiting; }
  std::string flow_nodes() const override {
    return "2 function_node(unlimited, lightweight) matching by key, at most " +
           std::to_string(opts_.max_waiting) + " waiting per side -> broadcast_node";
  }

 private:
  static constexpr std::size_t kMostWaiting = std::size_t{1} << 30;
  KeyA key_a_;
  KeyB key_b_;
  Combine combine_;
  Hook hook_;
  KeyedJoinOptions opts_;
};

}  // namespace sluice::detail
