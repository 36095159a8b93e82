// The two ends of a pipeline. Both are where an item's limiter slots come back.
//
// SinkRuntime: a serial function_node calling the user's callback (after a reorder
// buffer when ordered: a serial function_node alone does not keep order).
// HandOffRuntime: the same node pushing into a queue that the caller's thread pops
// (the consumer loop). Slots come back when the caller takes an item, so the queue
// never holds more than max_in_flight items.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

/// End-to-end latency: source to delivery.
class Delivery {
 public:
  void record(const EnvelopeMeta& e) noexcept {
    if (e.born_ns == 0) return;  // not sampled at the source
    latency_.record_shared(
        static_cast<std::uint64_t>(std::max<std::int64_t>(now_ns() - e.born_ns, 0)));
  }
  const Histogram& latency() const noexcept { return latency_; }

 private:
  Histogram latency_;
};

class TerminalNode {
 public:
  virtual ~TerminalNode() = default;
  virtual const Delivery& delivery() const = 0;
};

template <class T, class Fn>
class SinkRuntime final : public RuntimeNode, public TerminalNode {
 public:
  SinkRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream, const std::string& name,
              const SinkOptions& opts, Fn fn)
      : run_(ctx.run),
        stats_(ctx.run, name, "sink", 1, opts.ordered, opts.on_error),
        fn_(std::move(fn)),
        reorder_(ctx.graph, upstream, opts.ordered),
        node_(ctx.graph, tbb::flow::serial,
              [this](const Envelope<T>& in) noexcept { return deliver(in); }) {
    tbb::flow::make_edge(reorder_.output(), node_);
    // The slots of the first source's plain items come back along an edge, so tbb can
    // run the limiter's forwarding as the next task instead of spawning it.
    tbb::flow::make_edge(node_, ctx.run.decrement_port());
  }
  StageStats* stats() override { return &stats_; }
  const Delivery& delivery() const override { return delivery_; }

 private:
  long deliver(const Envelope<T>& in) noexcept {
    if (in.value.has_value() && !run_.cancelled()) {
      TaskTimer timer(stats_);
      try {
        std::invoke(fn_, in.value.take());
        timer.done(1);
      } catch (...) {
        timer.done(0);
        EnvelopeMeta end = in;
        run_.fail(stats_, end, std::current_exception());
        return end_here(end);
      }
      delivery_.record(in);
      if (!in.split) {
        // A plain item (the common case): counted and its slots sent back without
        // copying its envelope.
        run_.count_delivered(in.weight);
        return give_back(in);
      }
      EnvelopeMeta end = in;
      run_.deliver(end);
      return end_here(end);
    }
    return end_here(in);
  }

  /// The slots of the first source's plain items go back along the edge to its
  /// limiter (the returned count); everything else ends through the run.
  long give_back(const EnvelopeMeta& e) noexcept {
    if (e.origin == 0) return static_cast<long>(e.weight);
    run_.end(e);
    return 0;
  }
  long end_here(const EnvelopeMeta& e) noexcept {
    if (!e.split) return give_back(e);
    run_.end(e);
    return 0;
  }

  RunContext& run_;
  StageStats stats_;
  Fn fn_;
  Delivery delivery_;
  Reorder<T> reorder_;
  tbb::flow::function_node<Envelope<T>, long> node_;
};

template <class T, class Fn>
class SinkSpec final : public NodeSpec {
 public:
  SinkSpec(std::string name, Fn fn, SinkOptions opts)
      : NodeSpec(std::move(name), "sink"), fn_(std::move(fn)), opts_(std::move(opts)) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<SinkRuntime<T, Fn>>(ctx, ctx.input<T>(), name(), opts_, fn_);
  }
  std::string flow_nodes() const override {
    return std::string(opts_.ordered ? "sequencer_node -> " : "") + "function_node(serial)";
  }
  bool is_terminal() const override { return true; }
  bool reads_sequence() const override { return opts_.ordered; }

 private:
  Fn fn_;
  SinkOptions opts_;
};

/// The queue between the graph and the caller's consumer loop.
template <class T>
class HandOffRuntime final : public RuntimeNode, public TerminalNode {
 public:
  HandOffRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream,
                 const std::string& name, const SinkOptions& opts)
      : run_(ctx.run),
        stats_(ctx.run, name, "consumer", 1, opts.ordered, opts.on_error),
        reorder_(ctx.graph, upstream, opts.ordered),
        node_(ctx.graph, tbb::flow::serial, [this](const Envelope<T>& in) noexcept {
          push(in);
          return tbb::flow::continue_msg{};
        }) {
    tbb::flow::make_edge(reorder_.output(), node_);
    ctx.run.on_cancel([this] { close(true); });
  }
  StageStats* stats() override { return &stats_; }
  const Delivery& delivery() const override { return delivery_; }
  void finish() override { close(false); }

  /// Blocks until an item is there or the run has ended (nullopt).
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    Envelope<T> e = std::move(queue_.front());
    queue_.pop_front();
    std::optional<T> v(e.value.take());
    stats_.task_done_untimed(1);
    run_.deliver(e);
    delivery_.record(e);
    // Under the lock: close() (at the run's end) cannot slip in between, so the graph
    // is still there to take the slots back.
    run_.end_external(e);
    return v;
  }

 private:
  void push(const Envelope<T>& in) noexcept {
    if (!in.value.has_value()) {
      run_.end(in);
      return;
    }
    try {
      std::lock_guard lock(mutex_);
      if (closed_) return;  // cancelled: counted as such
      queue_.push_back(in);
    } catch (...) {
      EnvelopeMeta end = in;
      run_.fail(stats_, end, std::current_exception());
      run_.end(end);
      return;
    }
    cv_.notify_one();
  }

  void close(bool drop_queued) noexcept {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      if (drop_queued) queue_.clear();
    }
    cv_.notify_all();
  }

  RunContext& run_;
  StageStats stats_;
  Delivery delivery_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Envelope<T>> queue_;
  bool closed_ = false;
  Reorder<T> reorder_;
  tbb::flow::function_node<Envelope<T>, tbb::flow::continue_msg> node_;
};

template <class T>
class HandOffSpec final : public NodeSpec {
 public:
  HandOffSpec(std::string name, SinkOptions opts)
      : NodeSpec(std::move(name), "consumer"), opts_(std::move(opts)) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<HandOffRuntime<T>>(ctx, ctx.input<T>(), name(), opts_);
  }
  std::string flow_nodes() const override {
    return std::string(opts_.ordered ? "sequencer_node -> " : "") +
           "function_node(serial) -> hand-off queue";
  }
  bool is_terminal() const override { return true; }
  bool is_consumer() const override { return true; }
  bool reads_sequence() const override { return opts_.ordered; }

 private:
  SinkOptions opts_;
};

}  // namespace sluice::detail
