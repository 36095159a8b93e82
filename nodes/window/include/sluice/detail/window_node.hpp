// The wiring of a tumbling-window stage:
//
//   upstream -> [sequencer] -> async_node(serial: key, reduce) -> settle -> sequencer -> ...
//                                   ^ gateway
//                              timer thread (time windows): closes windows when due
//
// Windows close in three places: in the body (a count window reaching its size), on
// the timer thread (a time window's interval ending, even when no item comes), and in
// flush() (end of input). Each takes the table's lock, numbers what it closes, and puts
// it through the async_node's gateway; the sequencer at the end restores the order in
// which they closed. It must come last: not even two serial function_nodes in a row keep
// the order of what passes through them (the second may take the next message before
// the first has handed on the one before). The timer holds a graph wait while it emits and wakes
// the driver, as any thread outside the graph that puts work into it must.
//
// A window's items count as delivered in `settle`, inside the graph: counted any
// earlier (say, on the timer thread as it closes them), the driver could see every
// item ended and finish the run while their window was still on its way.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/ordering.hpp"
#include "sluice/detail/spec.hpp"
#include "sluice/detail/window_table.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/window_types.hpp"

namespace sluice::detail {

struct WindowConfig {
  bool ordered = false;
  bool emit_empty = false;
  std::optional<ErrorPolicy> on_error{};
};

template <class T, class Key, class Acc, class KeyFn, class ReduceFn>
class WindowRuntime final : public OutputNode<Window<Key, Acc>> {
  using W = Window<Key, Acc>;
  struct Pending {
    W window;
    std::uint64_t items;  // source items folded into it, delivered when it settles
  };
  using Node = tbb::flow::async_node<Envelope<T>, Envelope<Pending>>;
  using Gateway = typename Node::gateway_type;
  using Table = WindowTable<Key, Acc>;
  using Closed = typename Table::Closed;

 public:
  WindowRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream,
                const std::string& name, WindowSize size, const KeyFn& key, const ReduceFn& reduce,
                const WindowConfig& cfg)
      : run_(ctx.run),
        stats_(ctx.run, name, "window", 1, cfg.ordered, cfg.on_error),
        key_(key),
        reduce_(reduce),
        by_time_(size.by_time()),
        table_(size, ctx.run.started_ns(), cfg.emit_empty),
        input_(ctx.graph, upstream, cfg.ordered),
        node_(ctx.graph, tbb::flow::serial,
              [this](const Envelope<T>& in, Gateway& gw) noexcept { fold(in, gw); }),
        settle_(ctx.graph, tbb::flow::unlimited,
                [this](const Envelope<Pending>& in) noexcept { return settle(in); }),
        output_(ctx.graph, settle_, true) {
    tbb::flow::make_edge(input_.output(), node_);
    tbb::flow::make_edge(tbb::flow::output_port<0>(node_), settle_);
    if (by_time_) ctx.run.on_cancel([this] { stop_timer(false); });
  }
  ~WindowRuntime() override { stop_timer(true); }

  tbb::flow::sender<Envelope<W>>& output() override { return output_.output(); }
  StageStats* stats() override { return &stats_; }

  void activate() override {
    if (by_time_) timer_ = std::thread([this] { run_timer(); });
  }

  bool flush() override {
    std::vector<Envelope<Pending>> out;
    std::unique_lock lock(mutex_);
    std::vector<Closed> closed;
    table_.close_all(now_ns(), closed);
    number(closed, out);
    cv_.notify_all();  // the timer has nothing left to wait for
    if (out.empty()) return false;
    emit_from_outside(out, lock);
    return true;
  }

  void finish() override { stop_timer(true); }

 private:
  void fold(const Envelope<T>& in, Gateway& gw) noexcept {
    if (!in.value.has_value() || run_.cancelled()) {
      run_.end(in);  // placeholders end here: windows are new items
      return;
    }
    // A tee's copy is delivered when it is folded (its siblings decide the item's
    // outcome); a plain item is counted with its window when the window is delivered.
    EnvelopeMeta item = in;
    if (item.split) {
      item.weight = 0;
      item.outcome = Fate::delivered;
    }
    TaskTimer timer(stats_);
    std::vector<Envelope<Pending>> out;
    try {
      T value = in.value.take();
      Key key = key_(std::as_const(value));
      std::lock_guard lock(mutex_);
      const std::int64_t before = table_.next_deadline();
      std::vector<Closed> closed;
      table_.add(
          key, now_ns(), item, [&](Acc& acc) { reduce_(acc, std::move(value)); }, closed);
      number(closed, out);
      if (table_.next_deadline() < before) cv_.notify_all();  // the timer sleeps until then
    } catch (...) {
      item = in;
      run_.fail(stats_, item, std::current_exception());
    }
    // The item is folded (or failed): its slot goes back now, so open windows never
    // hold the pipeline's in-flight budget.
    run_.end(item);
    for (auto& e : out) gw.try_put(e);
    timer.done(out.size());
  }

  /// Gives each closed window its place in the output order and its envelope. Called
  /// with the lock held, so the numbers follow the order of closing.
  void number(std::vector<Closed>& closed, std::vector<Envelope<Pending>>& out) noexcept {
    for (Closed& c : closed) {
      Envelope<Pending> e;
      e.seq = next_seq_++;
      e.index = c.first.index;
      e.born_ns = c.items != 0 ? c.first.born_ns : now_ns();
      e.weight = 0;  // a window holds no limiter slot: its items gave theirs back
      try {
        e.value.emplace(Pending{std::move(c.window), c.items});
      } catch (...) {
        run_.fail(stats_, c.first.index, std::current_exception(), clamp_weight(c.items));
      }
      out.push_back(std::move(e));  // a failed one travels on as a placeholder
    }
  }

  /// Puts windows closed outside a body (timer, flush) into the graph. The graph wait
  /// is taken before `lock` is let go, so the driver cannot find the graph idle in
  /// between.
  void emit_from_outside(std::vector<Envelope<Pending>>& out, std::unique_lock<std::mutex>& lock) {
    Gateway& gw = node_.gateway();
    gw.reserve_wait();
    lock.unlock();
    for (auto& e : out) gw.try_put(e);
    stats_.add_out(out.size());
    gw.release_wait();
    run_.notify_driver();
  }

  Envelope<W> settle(const Envelope<Pending>& in) noexcept {
    auto out = Envelope<W>::successor_of(in);
    if (!in.value.has_value()) return out;
    Pending p = in.value.take();
    try {
      out.value.emplace(std::move(p.window));
      run_.count_delivered(p.items);
    } catch (...) {
      run_.fail(stats_, in.index, std::current_exception(), clamp_weight(p.items));
    }
    return out;
  }

  static std::uint32_t clamp_weight(std::uint64_t items) noexcept {
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(items, UINT32_MAX));
  }

  void run_timer() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const std::int64_t deadline = table_.next_deadline();
      if (deadline == Table::kNever) {
        cv_.wait(lock);
        continue;
      }
      const std::int64_t now = now_ns();
      if (now < deadline) {
        cv_.wait_for(lock, std::chrono::nanoseconds(deadline - now));
        continue;
      }
      if (run_.cancelled()) break;
      std::vector<Closed> closed;
      table_.close_due(now, closed);
      std::vector<Envelope<Pending>> out;
      number(closed, out);
      if (out.empty()) continue;
      emit_from_outside(out, lock);
      lock.lock();
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

  RunContext& run_;
  StageStats stats_;
  KeyFn key_;
  ReduceFn reduce_;
  bool by_time_;
  std::mutex mutex_;  // guards table_, next_seq_, stopping_
  std::condition_variable cv_;
  Table table_;
  std::uint64_t next_seq_ = 0;
  bool stopping_ = false;
  std::thread timer_;
  Reorder<T> input_;
  Node node_;
  tbb::flow::function_node<Envelope<Pending>, Envelope<W>> settle_;
  Reorder<W> output_;
};

template <class T, class Key, class Acc, class KeyFn, class ReduceFn>
class WindowSpec final : public NodeSpec {
 public:
  WindowSpec(std::string name, WindowSize size, KeyFn key, ReduceFn reduce, WindowConfig cfg)
      : NodeSpec(std::move(name), "window"),
        size_(size),
        key_(std::move(key)),
        reduce_(std::move(reduce)),
        cfg_(std::move(cfg)) {}

  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<WindowRuntime<T, Key, Acc, KeyFn, ReduceFn>>(
        ctx, ctx.input<T>(), name(), size_, key_, reduce_, cfg_);
  }
  std::string flow_nodes() const override {
    return std::string(cfg_.ordered ? "sequencer_node -> " : "") + "async_node(serial, tumbling " +
           size_.describe() + (size_.by_time() ? ", timer thread" : "") +
           ") -> function_node(settle) -> sequencer_node";
  }

 private:
  WindowSize size_;
  KeyFn key_;
  ReduceFn reduce_;
  WindowConfig cfg_;
};

}  // namespace sluice::detail
