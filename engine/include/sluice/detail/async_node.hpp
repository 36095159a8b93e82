// async_map: an operation started with (input, Completion) that completes on any thread.
//
//   upstream -> queue_node -> limiter_node(max_in_flight) -> async_node ~~> drain -> [seq] -> ...
//                                   ^                                        |
//                                   +-------- decrement (per batch) ---------+
//
// The async_node's own concurrency caps only body calls, not operations in flight,
// hence the limiter; the buffer in front keeps what the limiter rejects (a limiter
// with nothing buffering before it drops it). The buffer is a FIFO queue_node: a
// buffer_node hands out its newest item first, so under load an early item could wait
// behind later ones and an ordered stage's reorder buffer would fill with items waiting
// for it.
//
// Completions do not enter the graph one by one: each would be a task enqueued into the
// arena from a foreign thread, waking a worker that then spins looking for more, which
// for an I/O thread completing tens of thousands of requests a second costs more than
// the requests. They queue in the port instead, and only the first of a batch signals
// the gateway (~~>) — at once, or when the completing thread's CompletionBatch ends;
// the drain node's task then puts the whole batch into the graph and gives the limiter
// back its slots in one decrement. A completion that arrives after the cancel sweep is
// dropped.
//
// An operation in flight holds no wait on the graph, only a count in the run: the graph
// goes idle while every item is out, wait_for_all returns, and the driver sleeps on the
// run's condition variable until a signal wakes it (RunState::drive). A graph wait held
// per operation would keep the driver inside wait_for_all instead, where oneTBB spins and
// yields through every gap between completions (bench_http, one request in flight at
// 1 ms: 1.09 ms of CPU per request that way, 0.23 ms this way). Only a signal on its
// way holds a wait, so that the graph outlives the gateway call and the driver cannot
// find the graph idle between the put and its wake-up.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <tuple>

#include "sluice/completion.hpp"
#include "sluice/detail/clock.hpp"
#include "sluice/detail/map_node.hpp"
#include "sluice/detail/ordering.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

/// What the async_node emits: a signal that the port has finished operations to drain,
/// or one envelope that passes straight through (a placeholder).
template <class Out>
struct AsyncMessage {
  bool drain = false;
  Envelope<Out> envelope{};
};

/// A finished operation waiting in its port for the drain.
template <class Out>
struct FinishedOperation {
  Envelope<Out> envelope;
  FinishedOperation* next = nullptr;
  std::shared_ptr<FinishedOperation> keep_alive;  // set while queued
};

/// What completions reach: the drain queue while the run is open, nothing once closed.
template <class Out, class Gateway>
class AsyncPort final : public BatchListener,
                        public std::enable_shared_from_this<AsyncPort<Out, Gateway>> {
 public:
  using Finished = FinishedOperation<Out>;

  AsyncPort(Gateway& gw, RunContext& run, StageStats& stats) : gw_(gw), run_(run), stats_(stats) {}

  /// Counts a new operation in flight; false once closed: it must not start.
  bool open_operation() noexcept {
    if (closed()) return false;
    run_.operation_started();
    return true;
  }

  /// Queues a finished operation's envelope for the graph, unless closed meanwhile.
  void deliver(std::shared_ptr<Finished> op, std::exception_ptr error,
               std::int64_t started_ns) noexcept {
    {
      // A graph wait for the length of this call: a run cancelled meanwhile is not torn
      // down (its driver waits for the graph first) while this touches its statistics.
      std::lock_guard lock(mutex_);
      if (closed_.load(std::memory_order_relaxed)) return;  // after the cancel sweep
      gw_.reserve_wait();
    }
    stats_.op_ended(now_ns() - started_ns);
    Envelope<Out>& e = op->envelope;
    if (error) {
      run_.fail(stats_, e, error);  // may cancel, and so close, the run
      e.value.reset();              // travels on as a placeholder
    } else {
      stats_.add_out(1);
    }
    enqueue(std::move(op));
    gw_.release_wait();
  }

  /// Puts every queued envelope through `put`, then calls `release(n)` for the n put,
  /// until the queue is empty; the first completion after that signals again.
  template <class Put, class Release>
  void drain(Put&& put, Release&& release) noexcept {
    for (;;) {
      Finished* batch = nullptr;
      std::size_t n = 0;
      {
        std::lock_guard lock(mutex_);
        batch = head_;
        n = queued_;
        head_ = tail_ = nullptr;
        queued_ = 0;
        if (n == 0) {
          draining_ = false;
          return;
        }
      }
      while (batch != nullptr) {
        Finished* next = batch->next;
        put(batch->envelope);
        batch->keep_alive.reset();  // may free it: read `next` first
        batch = next;
      }
      run_.operations_settled(n);
      release(n);
    }
  }

  /// Drops what is queued; later completions are dropped too.
  void close() noexcept {
    Finished* queued = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (closed_.load(std::memory_order_relaxed)) return;
      closed_.store(true, std::memory_order_release);
      queued = head_;
      head_ = tail_ = nullptr;
      queued_ = 0;
    }
    while (queued != nullptr) {
      Finished* next = queued->next;
      queued->keep_alive.reset();
      queued = next;
    }
  }

  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  void end_of_batch() noexcept override { signal(); }

 private:
  void enqueue(std::shared_ptr<Finished> op) noexcept {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_.load(std::memory_order_relaxed)) return;
      Finished* raw = op.get();
      raw->next = nullptr;
      raw->keep_alive = std::move(op);
      (tail_ != nullptr ? tail_->next : head_) = raw;
      tail_ = raw;
      ++queued_;
      first = !draining_;
      draining_ = true;
      if (first) gw_.reserve_wait();  // released by signal()
    }
    if (first && !defer_to_batch(this->shared_from_this())) signal();
  }

  void signal() noexcept {
    gw_.try_put(AsyncMessage<Out>{.drain = true});
    // The driver is woken too (when it sleeps): a worker may not come for the drain (none
    // in the process, or all busy in another arena), and once the source is done the
    // driver must look whether this was the last. It is told before the wait is let go:
    // once it is, the run may end and be destroyed.
    run_.notify_driver();
    gw_.release_wait();
  }

  Gateway& gw_;
  RunContext& run_;
  StageStats& stats_;
  std::mutex mutex_;
  std::atomic<bool> closed_{false};  // written under mutex_; read without it
  Finished* head_ = nullptr;         // queued, oldest first
  Finished* tail_ = nullptr;
  std::size_t queued_ = 0;
  bool draining_ = false;  // a drain signal is on its way, or the drain is running
};

/// One operation in flight: the identity of its envelope and where to deliver.
template <class Out, class Gateway>
class AsyncOperation final : public CompletionSlot<Out>,
                             public FinishedOperation<Out>,
                             public std::enable_shared_from_this<AsyncOperation<Out, Gateway>> {
 public:
  AsyncOperation(std::shared_ptr<AsyncPort<Out, Gateway>> port, Envelope<Out> meta)
      : port_(std::move(port)), started_ns_(now_ns()) {
    this->envelope = std::move(meta);
  }

  void deliver(Outcome<Out>&& o) noexcept override {
    if (o.value) {
      try {
        this->envelope.value.emplace(std::move(*o.value));
      } catch (...) {
        o.error = std::current_exception();
      }
    } else if (!o.error) {
      o.error = std::make_exception_ptr(std::runtime_error("operation completed without a value"));
    }
    // The completion that called this holds a reference, so the object is alive here.
    port_->deliver(this->shared_from_this(), o.error, started_ns_);
  }
  bool cancelled() const noexcept override { return port_->closed(); }

 private:
  std::shared_ptr<AsyncPort<Out, Gateway>> port_;
  std::int64_t started_ns_;
};

template <class In, class Out, class Op>
class AsyncRuntime : public OutputNode<Out> {
  using Message = AsyncMessage<Out>;
  using Node = tbb::flow::async_node<Envelope<In>, Message>;
  using Gateway = typename Node::gateway_type;
  using Port = AsyncPort<Out, Gateway>;
  using Drain = tbb::flow::multifunction_node<Message, std::tuple<Envelope<Out>>>;

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
              [this](const Envelope<In>& in, Gateway& gw) { start(in, gw); }),
        // At most one drain signal is out at a time (the port keeps the rest queued), so
        // the drain never runs twice at once; pass-through envelopes need no order.
        drain_(ctx.graph, tbb::flow::unlimited,
               [this](const Message& m, typename Drain::output_ports_type& ports) {
                 auto& out = std::get<0>(ports);
                 if (!m.drain) {
                   out.try_put(m.envelope);
                   limiter_.decrementer().try_put(1);
                   return;
                 }
                 port_->drain(
                     [&](const Envelope<Out>& e) { out.try_put(e); },
                     [&](std::size_t n) { limiter_.decrementer().try_put(static_cast<long>(n)); });
               }),
        // Successors attach through the output port: a multifunction_node's own sender
        // interface is not where its messages come out.
        reorder_(ctx.graph, tbb::flow::output_port<0>(drain_), opts.ordered),
        port_(std::make_shared<Port>(node_.gateway(), ctx.run, stats_)) {
    stats_.mark_async();
    tbb::flow::make_edge(upstream, buffer_);
    tbb::flow::make_edge(buffer_, limiter_);
    tbb::flow::make_edge(limiter_, node_);
    tbb::flow::make_edge(tbb::flow::output_port<0>(node_), drain_);
    auto port = port_;
    ctx.run.on_cancel([port] { port->close(); });
    // An operation type that can abort what it started says so with a cancel() member:
    // it is called on cancel without the user wiring it (AsyncOptions::on_cancel is for
    // anything else).
    if constexpr (requires(Op & o) { o.cancel(); }) ctx.run.on_cancel([this] { op_.cancel(); });
    if (opts.on_cancel) ctx.run.on_cancel(opts.on_cancel);
  }

  tbb::flow::sender<Envelope<Out>>& output() override { return reorder_.output(); }
  StageStats* stats() override { return &stats_; }
  void finish() override { port_->close(); }
  Op& op() noexcept { return op_; }

 private:
  using Operation = AsyncOperation<Out, Gateway>;

  void start(const Envelope<In>& in, Gateway& gw) noexcept {
    auto meta = Envelope<Out>::successor_of(in);
    if (!in.value.has_value()) {
      gw.try_put(Message{.envelope = meta});  // a placeholder passes straight through
      return;
    }
    if (run_.cancelled()) return;
    std::shared_ptr<Operation> operation;
    try {
      operation = std::make_shared<Operation>(port_, meta);
    } catch (...) {
      run_.fail(stats_, meta, std::current_exception());
      gw.try_put(Message{.envelope = meta});
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
  tbb::flow::queue_node<Envelope<In>> buffer_;
  tbb::flow::limiter_node<Envelope<In>, long> limiter_;
  Node node_;
  Drain drain_;
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
    return std::make_unique<AsyncRuntime<In, Out, Op>>(ctx, ctx.input<In>(), name(), kind(), op_,
                                                       opts_, unlimited);
  }
  std::size_t useful_in_flight() const override { return opts_.max_in_flight; }
  bool keeps_identity() const override { return true; }
  bool reads_sequence() const override { return opts_.ordered; }
  std::string flow_nodes() const override {
    std::ostringstream s;
    s << "queue_node -> limiter_node(" << opts_.max_in_flight
      << ") -> async_node -> multifunction_node (completions in batches)"
      << (opts_.ordered ? " -> sequencer_node" : "");
    return s.str();
  }

 private:
  Op op_;
  AsyncOptions opts_;
};

}  // namespace sluice::detail
