// async_map: an operation started with (input, Completion) that completes on any thread.
//
//   upstream -> buffer_node -> limiter_node(max_in_flight) -> async_node -> [sequencer] -> ...
//                                   ^                            |
//                                   +------ decrement (1) -------+
//
// The async_node's own concurrency caps only body calls, not operations in flight,
// hence the limiter; the buffer in front keeps what the limiter rejects (a limiter
// with nothing buffering before it drops it). Each started operation holds one
// reserve_wait on the graph, released after its completion's try_put, or by the
// cancel sweep; a completion that arrives after that sweep is dropped.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "sluice/completion.hpp"
#include "sluice/detail/clock.hpp"
#include "sluice/detail/map_node.hpp"
#include "sluice/detail/ordering.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

/// What completions reach: the gateway while the run is open, nothing once closed.
template <class Out, class Gateway>
class AsyncPort {
 public:
  AsyncPort(Gateway& gw, RunContext& run, StageStats& stats) : gw_(gw), run_(run), stats_(stats) {}

  /// Takes a graph wait for a new operation; false once closed.
  bool open_operation() {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    ++outstanding_;
    gw_.reserve_wait();
    return true;
  }

  /// Hands a finished operation's envelope to the graph, unless closed meanwhile.
  void deliver(Envelope<Out>&& e, std::exception_ptr error, std::int64_t started_ns) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;  // the cancel sweep already released this operation's wait
      --outstanding_;
    }
    stats_.op_ended(now_ns() - started_ns);
    if (error) {
      run_.fail(stats_, e.index, error, e.weight);
      e.value.reset();  // travels on as a placeholder
    } else {
      stats_.add_out(1);
    }
    gw_.try_put(e);
    gw_.release_wait();
  }

  /// Releases the waits of every operation still out; later completions are dropped.
  void close() noexcept {
    std::size_t n = 0;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      n = outstanding_;
      outstanding_ = 0;
    }
    for (std::size_t i = 0; i < n; ++i) gw_.release_wait();
  }

  bool closed() const noexcept {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  Gateway& gw_;
  RunContext& run_;
  StageStats& stats_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::size_t outstanding_ = 0;
};

/// One operation in flight: the identity of its envelope and where to deliver.
template <class Out, class Gateway>
class AsyncOperation final : public CompletionSlot<Out> {
 public:
  AsyncOperation(std::shared_ptr<AsyncPort<Out, Gateway>> port, Envelope<Out> meta)
      : port_(std::move(port)), meta_(std::move(meta)), started_ns_(now_ns()) {}

  void deliver(Outcome<Out>&& o) noexcept override {
    if (o.value) {
      try {
        meta_.value.emplace(std::move(*o.value));
      } catch (...) {
        o.error = std::current_exception();
      }
    } else if (!o.error) {
      o.error = std::make_exception_ptr(std::runtime_error("operation completed without a value"));
    }
    port_->deliver(std::move(meta_), o.error, started_ns_);
  }
  bool cancelled() const noexcept override { return port_->closed(); }

 private:
  std::shared_ptr<AsyncPort<Out, Gateway>> port_;
  Envelope<Out> meta_;
  std::int64_t started_ns_;
};

template <class In, class Out, class Op>
class AsyncRuntime : public OutputNode<Out> {
  using Node = tbb::flow::async_node<Envelope<In>, Envelope<Out>>;
  using Gateway = typename Node::gateway_type;
  using Port = AsyncPort<Out, Gateway>;

 public:
  AsyncRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<In>>& upstream,
               const std::string& name, const std::string& kind, Op op, const AsyncOptions& opts,
               std::size_t body_concurrency)
      : run_(ctx.run),
        stats_(ctx.run, name, kind, opts.max_in_flight, opts.ordered, opts.on_error),
        op_(std::move(op)),
        buffer_(ctx.graph),
        limiter_(ctx.graph, opts.max_in_flight),
        node_(ctx.graph, flow_concurrency(body_concurrency),
              [this](const Envelope<In>& in, typename Node::gateway_type& gw) { start(in, gw); }),
        count_out_(ctx.graph, tbb::flow::unlimited,
                   [](const Envelope<Out>&) noexcept -> long { return 1; }),
        // Successors attach through the output port: async_node's own sender interface
        // ignores register_successor (it only asserts in debug builds of oneTBB).
        reorder_(ctx.graph, tbb::flow::output_port<0>(node_), opts.ordered),
        port_(std::make_shared<Port>(node_.gateway(), ctx.run, stats_)) {
    stats_.mark_async();
    tbb::flow::make_edge(upstream, buffer_);
    tbb::flow::make_edge(buffer_, limiter_);
    tbb::flow::make_edge(limiter_, node_);
    tbb::flow::make_edge(tbb::flow::output_port<0>(node_), count_out_);
    tbb::flow::make_edge(count_out_, limiter_.decrementer());
    auto port = port_;
    ctx.run.on_cancel([port] { port->close(); });
    if (opts.on_cancel) ctx.run.on_cancel(opts.on_cancel);
  }

  tbb::flow::sender<Envelope<Out>>& output() override { return reorder_.output(); }
  StageStats* stats() override { return &stats_; }
  void finish() override { port_->close(); }
  Op& op() noexcept { return op_; }

 private:
  void start(const Envelope<In>& in, typename Node::gateway_type& gw) noexcept {
    auto meta = Envelope<Out>::successor_of(in);
    if (!in.value.has_value()) {
      gw.try_put(meta);  // a placeholder passes straight through
      return;
    }
    if (run_.cancelled()) return;
    std::shared_ptr<AsyncOperation<Out, Gateway>> operation;
    try {
      operation = std::make_shared<AsyncOperation<Out, Gateway>>(port_, meta);
    } catch (...) {
      run_.fail(stats_, in.index, std::current_exception(), in.weight);
      gw.try_put(meta);
      return;
    }
    if (!port_->open_operation()) return;
    stats_.add_in(1);
    stats_.op_started();
    Completion<Out> done(operation);
    try {
      op_(in.value.take(), done);
    } catch (...) {
      done.fail(std::current_exception());  // a synchronous throw is a failed operation
    }
  }

  RunContext& run_;
  StageStats stats_;
  Op op_;
  tbb::flow::buffer_node<Envelope<In>> buffer_;
  tbb::flow::limiter_node<Envelope<In>, long> limiter_;
  Node node_;
  tbb::flow::function_node<Envelope<Out>, long> count_out_;
  Reorder<Out> reorder_;
  std::shared_ptr<Port> port_;
};

template <class In, class Out, class Op>
class AsyncSpec final : public NodeSpec {
 public:
  AsyncSpec(std::string name, Op op, AsyncOptions opts)
      : NodeSpec(std::move(name), "async_map"), op_(std::move(op)), opts_(std::move(opts)) {
    if (opts_.max_in_flight == 0 || opts_.max_in_flight == unlimited) {
      throw std::invalid_argument("sluice: async_map '" + this->name() +
                                  "': max_in_flight must be a positive number");
    }
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<AsyncRuntime<In, Out, Op>>(
        ctx, ctx.upstream<In>(upstreams()[0]).output(), name(), kind(), op_, opts_, unlimited);
  }
  std::size_t useful_in_flight() const override { return opts_.max_in_flight; }
  std::string flow_nodes() const override {
    std::ostringstream s;
    s << "buffer_node -> limiter_node(" << opts_.max_in_flight << ") -> async_node"
      << (opts_.ordered ? " -> sequencer_node" : "");
    return s.str();
  }

 private:
  Op op_;
  AsyncOptions opts_;
};

}  // namespace sluice::detail
