// The wiring of a custom stage (sluice/stage_api.hpp):
//
//   upstream -> [sequencer] -> async_node(concurrency: on_item) ~~> settle -> [sequencer] -> ...
//                                   ^ gateway: the port, from bodies or any other thread
//
// The async_node is there for its gateway: a port may emit from outside the graph (a
// timer closing a window, an I/O thread) as well as from the body. `settle` counts a
// group's items as delivered inside the graph, as its output leaves the stage: counted
// any earlier (on the emitting thread, say), the driver could see every item ended and
// finish the run while the output was still on its way. The last sequencer restores the
// order of emission: not even two serial nodes in a row keep the order of what passes
// through them.
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include <oneapi/tbb/flow_graph.h>

#include "sluice/detail/map_node.hpp"
#include "sluice/detail/ordering.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

/// Makes the engine's side of ports and tickets, which users cannot.
struct TicketAccess {
  template <class Out>
  static StagePort<Out> port(std::shared_ptr<PortCore> core, OutputSink<Out> sink) {
    return StagePort<Out>(std::move(core), sink);
  }
  template <class Out>
  static ItemTicket ticket(StagePort<Out>& port, const EnvelopeMeta& meta) {
    return port.ticket(meta);
  }
};

/// The stage a factory makes for input type T.
template <class Factory, class T>
auto make_custom_stage(const Factory& f) {
  if constexpr (requires { f.template operator()<T>(); }) {
    return f.template operator()<T>();
  } else {
    return f();
  }
}
template <class Factory, class T>
using CustomStageOf = decltype(make_custom_stage<Factory, T>(std::declval<const Factory&>()));

template <class In, class Stage>
class CustomRuntime final : public OutputNode<typename Stage::output_type> {
  using Out = typename Stage::output_type;
  using Message = CustomMessage<Out>;
  using Node = tbb::flow::async_node<Envelope<In>, Message>;
  using Gateway = typename Node::gateway_type;

 public:
  template <class Factory>
  CustomRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<In>>& upstream,
                const std::string& name, const Factory& factory, const CustomStageOptions& opts)
      : run_(ctx.run),
        stats_(ctx.run, name, opts.kind, opts.concurrency, opts.ordered, opts.on_error),
        core_(std::make_shared<PortCore>(ctx.run, stats_, name)),
        input_(ctx.graph, upstream, opts.ordered),
        node_(ctx.graph, flow_concurrency(opts.concurrency),
              [this](const Envelope<In>& in, Gateway&) noexcept { item(in); }),
        settle_(ctx.graph, tbb::flow::unlimited,
                [this](const Message& m) noexcept {
                  if (m.settles != 0) run_.count_delivered(m.settles);
                  return m.envelope;
                }),
        output_(ctx.graph, settle_, opts.ordered_output),
        port_(TicketAccess::port<Out>(core_, OutputSink<Out>{&node_.gateway()})),
        // A stage need not be movable (it may own a mutex or a thread): made in place.
        stage_(new Stage(make_custom_stage<Factory, In>(factory))) {
    tbb::flow::make_edge(input_.output(), node_);
    tbb::flow::make_edge(tbb::flow::output_port<0>(node_), settle_);
    if constexpr (requires(Stage & s) { s.on_cancel(); }) {
      // A cancel may come from any thread, also once the run is over (a RunState cancels
      // as it goes away): never into a stage that has stopped.
      ctx.run.on_cancel([this] {
        std::lock_guard lock(lifecycle_);
        if (!stopped_) call("on_cancel", [&] { stage_->on_cancel(); });
      });
    }
  }
  ~CustomRuntime() override { finish(); }

  tbb::flow::sender<Envelope<Out>>& output() override { return output_.output(); }
  StageStats* stats() override { return &stats_; }

  void activate() override {
    if constexpr (requires(Stage & s) { s.on_start(port_); }) {
      call("on_start", [&] { stage_->on_start(port_); });
    }
  }

  bool flush() override {
    if constexpr (requires(Stage & s) {
                    { s.on_end_of_input(port_) } -> std::convertible_to<bool>;
                  }) {
      bool emitted = false;
      call("on_end_of_input", [&] { emitted = static_cast<bool>(stage_->on_end_of_input(port_)); });
      return emitted && !run_.cancelled();
    } else {
      return false;
    }
  }

  void finish() override {
    {
      std::lock_guard lock(lifecycle_);
      if (stopped_) return;
      stopped_ = true;
    }
    if constexpr (requires(Stage & s) { s.on_stop(); }) {
      call("on_stop", [&] { stage_->on_stop(); });
    }
    // The run is over (ended, or cancelled): tickets the stage still holds need no
    // outcome, and must not reach a graph that is being taken down.
    core_->close();
    stage_.reset();
  }

 private:
  void item(const Envelope<In>& in) noexcept {
    if (!in.value.has_value() || run_.cancelled()) {
      run_.end(in);  // placeholders end here: the stage numbers its own outputs
      return;
    }
    PortCore::InBody inside(*core_);
    TaskTimer timer(stats_);
    ItemTicket ticket = TicketAccess::ticket(port_, in);
    try {
      stage_->on_item(in.value.take(), std::move(ticket), port_);
    } catch (...) {
      if (ticket.live()) {
        port_.fail(std::move(ticket), std::current_exception());
      } else {
        // The item went on (emitted, grouped) before the throw: the failure is the
        // stage's, with no item of its own to fail.
        run_.fail(stats_, in.index, std::current_exception(), 0);
      }
    }
    timer.done(0);  // outputs are counted as the port emits them
    // A ticket neither ended nor kept: ~ItemTicket fails it, saying so.
  }

  /// Runs a lifecycle call; one that throws stops the run, naming the stage.
  template <class Fn>
  void call(const char* what, Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
      run_.stop(stats_, std::current_exception(), what);
    }
  }

  RunContext& run_;
  StageStats stats_;
  std::shared_ptr<PortCore> core_;
  Reorder<In> input_;
  Node node_;
  tbb::flow::function_node<Message, Envelope<Out>> settle_;
  Reorder<Out> output_;
  StagePort<Out> port_;
  std::unique_ptr<Stage> stage_;
  std::mutex lifecycle_;  // a cancel hook against finish()
  bool stopped_ = false;
};

template <class Factory>
class CustomStage;

template <class In, class Factory>
class CustomSpec final : public NodeSpec {
 public:
  CustomSpec(std::string name, Factory factory, CustomStageOptions opts)
      : NodeSpec(std::move(name), opts.kind), factory_(std::move(factory)), opts_(std::move(opts)) {
    check_concurrency(this->name(), opts_.concurrency);
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    using Stage = CustomStageOf<Factory, In>;
    return std::make_unique<CustomRuntime<In, Stage>>(ctx, ctx.input<In>(), name(), factory_,
                                                      opts_);
  }
  bool numbers_output() const override { return true; }
  std::string flow_nodes() const override {
    std::ostringstream s;
    if (opts_.ordered) s << "sequencer_node -> ";
    s << "async_node(" << concurrency_text(opts_.concurrency)
      << (opts_.describe.empty() ? "" : ", ") << opts_.describe << ") -> function_node(settle)"
      << (opts_.ordered_output ? " -> sequencer_node" : "");
    return s.str();
  }

 private:
  Factory factory_;
  CustomStageOptions opts_;
};

/// What sluice::custom_stage returns, for Flow::then.
template <class Factory>
class CustomStage {
 public:
  template <class T>
  using output_type = typename CustomStageOf<Factory, T>::output_type;

  CustomStage(std::string name, Factory factory, CustomStageOptions options)
      : name_(std::move(name)), factory_(std::move(factory)), options_(std::move(options)) {}

  template <class T>
  std::unique_ptr<NodeSpec> make_spec() && {
    using Stage = CustomStageOf<Factory, T>;
    static_assert(
        requires { typename Stage::output_type; },
        "sluice::custom_stage: the stage must name its output: `using output_type = "
        "Out;`");
    static_assert(
        requires(Stage & s, T && v, ItemTicket && t, StagePort<typename Stage::output_type> & p) {
          s.on_item(std::move(v), std::move(t), p);
        },
        "sluice::custom_stage: the stage must have on_item(T value, ItemTicket&& "
        "ticket, StagePort<output_type>& port) for T the flow's value type");
    return std::make_unique<CustomSpec<T, Factory>>(std::move(name_), std::move(factory_),
                                                    std::move(options_));
  }

 private:
  std::string name_;
  Factory factory_;
  CustomStageOptions options_;
};

}  // namespace sluice::detail
