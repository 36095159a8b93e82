// join: the branches of a tee come back together, one output per source item.
//
//   branch 0 -> function_node(unlimited, lightweight: arrive<0>) -+
//   branch 1 -> function_node(unlimited, lightweight: arrive<1>) -+-> broadcast_node -> ...
//
// Copies are matched by their sequence number, which every piece between a tee and the
// join keeps (the builder refuses anything else in between): a tee's branches are one
// ordering domain, so the output is that domain again and an ordered stage after the
// join keeps source order. When all N copies have come, `combine` makes the output. A
// copy that comes as a placeholder (filtered or failed in its branch) settles the item
// at once: the join emits a placeholder with that outcome and drops the partners that
// come later, so it never waits for a copy that will not come, and holds at most one
// entry per item in flight.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "sluice/detail/map_node.hpp"
#include "sluice/detail/seq_table.hpp"
#include "sluice/detail/split.hpp"

namespace sluice::detail {

template <class R, class Combine, class... Ts>
class JoinRuntime final : public OutputNode<R> {
  static constexpr std::size_t N = sizeof...(Ts);
  template <class T>
  using Arrive = tbb::flow::function_node<Envelope<T>, tbb::flow::continue_msg,
                                          tbb::flow::queueing_lightweight>;
  struct Pending {
    std::tuple<std::optional<Ts>...> values;
    std::size_t arrived = 0;
    bool settled = false;  // a placeholder came: the item's outcome is given
  };

 public:
  JoinRuntime(BuildContext& ctx, const std::string& name, const StageOptions& opts, Combine combine)
      : run_(ctx.run),
        stats_(ctx.run, name, "join", unlimited, opts.ordered, opts.on_error),
        combine_(std::move(combine)),
        pending_(ctx.run.max_in_flight()),
        out_(ctx.graph),
        arrivals_(make_arrivals(ctx, std::make_index_sequence<N>{})),
        reorder_(ctx.graph, out_, opts.ordered) {
    connect(ctx, std::make_index_sequence<N>{});
  }

  tbb::flow::sender<Envelope<R>>& output() override { return reorder_.output(); }
  StageStats* stats() override { return &stats_; }

 private:
  template <std::size_t... I>
  std::tuple<std::unique_ptr<Arrive<Ts>>...> make_arrivals(BuildContext& ctx,
                                                           std::index_sequence<I...>) {
    return {std::make_unique<Arrive<Ts>>(ctx.graph, tbb::flow::unlimited,
                                         [this](const Envelope<Ts>& in) noexcept {
                                           InlineBody inline_body;
                                           arrive<I>(in);
                                           return tbb::flow::continue_msg{};
                                         })...};
  }

  template <std::size_t... I>
  void connect(BuildContext& ctx, std::index_sequence<I...>) {
    (tbb::flow::make_edge(ctx.input<Ts>(I), *std::get<I>(arrivals_)), ...);
  }

  /// The item the copies stand for: their tee's input again.
  static EnvelopeMeta untee(const EnvelopeMeta& copy) {
    EnvelopeMeta m = copy;
    if (copy.split) m.split = copy.split->parents.empty() ? nullptr : copy.split->parents.front();
    return m;
  }

  template <std::size_t I, class T>
  void arrive(const Envelope<T>& in) noexcept {
    if (run_.cancelled()) return;
    std::optional<Envelope<R>> settled;
    std::optional<std::tuple<std::optional<Ts>...>> complete;
    try {
      pending_.update(in.seq, [&](Pending& p) {
        ++p.arrived;
        if (!p.settled) {
          if (!in.value.has_value()) {
            p.settled = true;
            settled.emplace(placeholder(in));
            std::get<I>(p.values).reset();
          } else {
            std::get<I>(p.values).emplace(in.value.take());
          }
        }
        if (p.arrived != N) return false;
        if (!p.settled) complete.emplace(std::move(p.values));
        return true;
      });
    } catch (...) {
      // Out of memory while matching: the item fails here (this copy stands for it).
      auto failed = Envelope<R>();
      static_cast<EnvelopeMeta&>(failed) = untee(in);
      run_.fail(stats_, failed, std::current_exception());
      settled.emplace(std::move(failed));
    }
    if (!complete) stats_.add_in(1);  // the completing copy is counted with the output
    if (settled) {
      out_.try_put(*settled);
      return;
    }
    if (complete) emit(in, std::move(*complete), std::make_index_sequence<N>{});
  }

  /// The placeholder standing for an item whose copy `in` came without a value.
  Envelope<R> placeholder(const EnvelopeMeta& in) noexcept {
    Envelope<R> e;
    static_cast<EnvelopeMeta&>(e) = untee(in);
    if (in.split) {
      // A filtered copy settles the item as filtered, unless another copy failed first.
      const Fate o = run_.settle_early(*in.split, in.outcome);
      if (o == Fate::filtered) {
        run_.decide(e, o);
      } else {
        e.outcome = o;
      }
    }
    return e;
  }

  template <std::size_t... I>
  void emit(const EnvelopeMeta& copy, std::tuple<std::optional<Ts>...>&& values,
            std::index_sequence<I...>) noexcept {
    Envelope<R> e;
    static_cast<EnvelopeMeta&>(e) = untee(copy);
    TaskTimer timer(stats_);
    try {
      e.value.emplace(std::invoke(combine_, std::move(*std::get<I>(values))...));
      timer.done(1);
    } catch (...) {
      timer.done(0);
      run_.fail(stats_, e, std::current_exception());
    }
    out_.try_put(e);
  }

  RunContext& run_;
  StageStats stats_;
  Combine combine_;
  SeqTable<Pending> pending_;
  tbb::flow::broadcast_node<Envelope<R>> out_;
  std::tuple<std::unique_ptr<Arrive<Ts>>...> arrivals_;
  Reorder<R> reorder_;
};

template <class R, class Combine, class... Ts>
class JoinSpec final : public NodeSpec {
 public:
  JoinSpec(std::string name, Combine combine, StageOptions opts)
      : NodeSpec(std::move(name), "join"), combine_(std::move(combine)), opts_(std::move(opts)) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<JoinRuntime<R, Combine, Ts...>>(ctx, name(), opts_, combine_);
  }
  std::string flow_nodes() const override {
    return std::to_string(sizeof...(Ts)) +
           " function_node(unlimited, lightweight) matching by item -> broadcast_node" +
           (opts_.ordered ? " -> sequencer_node" : "");
  }

 private:
  Combine combine_;
  StageOptions opts_;
};

}  // namespace sluice::detail
