// flat_map and unbatch: zero or many outputs per input. The outputs start a new
// ordering domain: they are numbered densely as they are emitted, and carry the input's
// limiter slots (an input with no outputs ends here, as filtered).
//
// Unordered: one multifunction_node with the stage's concurrency computes and emits.
// Ordered: a function_node computes the outputs with the stage's concurrency, a
// sequencer restores input order, and a serial multifunction_node emits them.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <ranges>
#include <tuple>
#include <vector>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

/// How the input's limiter slots are shared among its outputs.
enum class WeightSplit {
  first,  // flat_map: the first output stands for the input
  even,   // unbatch: each item of a batch gets its own slot back
};

template <class T>
class Renumber {
 public:
  explicit Renumber(WeightSplit split) : split_(split) {}

  /// Emits `items` as envelopes descending from `parent` through `port`.
  template <class Port>
  void emit(RunContext& run, StageStats& stats, const EnvelopeMeta& parent, std::vector<T>&& items,
            Port& port) {
    if (items.empty()) {
      EnvelopeMeta end = parent;
      run.filter(stats, end);
      run.end(end);
      return;
    }
    const auto k = static_cast<std::uint32_t>(items.size());
    // A tee's copy keeps its split whole on the first output: a split is not divisible.
    std::uint32_t share = split_ == WeightSplit::even && !parent.split ? parent.weight / k : 0;
    std::uint32_t first_weight = parent.weight - share * (k - 1);
    std::uint64_t first = next_.fetch_add(items.size(), std::memory_order_relaxed);
    for (std::size_t i = 0; i < items.size(); ++i) {
      Envelope<T> e;
      e.seq = first + i;
      e.index = parent.index;
      e.born_ns = parent.born_ns;
      e.weight = i == 0 ? first_weight : share;
      e.origin = parent.origin;
      if (i == 0) e.split = parent.split;
      e.value.emplace(std::move(items[i]));
      port.try_put(e);
    }
    stats.add_out(items.size());
  }

 private:
  WeightSplit split_;
  std::atomic<std::uint64_t> next_{0};
};

/// Turns an input into its outputs, collected in a vector.
template <class In, class Out, class Fn>
struct ExpandWith {
  Fn fn;
  std::vector<Out> operator()(In&& v) {
    decltype(auto) r = std::invoke(fn, std::move(v));
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(r)>, std::vector<Out>>) {
      return std::vector<Out>(std::move(r));
    } else {
      std::vector<Out> out;
      for (auto&& x : r) out.push_back(std::forward<decltype(x)>(x));
      return out;
    }
  }
};

template <class In, class Out, class Expand>
class ExpandRuntime final : public OutputNode<Out> {
  using Emitter = tbb::flow::multifunction_node<Envelope<In>, std::tuple<Envelope<Out>>>;
  using Collected = Envelope<std::vector<Out>>;
  using Collector = tbb::flow::function_node<Envelope<In>, Collected>;
  using Releaser = tbb::flow::multifunction_node<Collected, std::tuple<Envelope<Out>>>;

 public:
  ExpandRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<In>>& upstream,
                const std::string& name, const std::string& kind, const StageOptions& opts,
                Expand expand, WeightSplit split)
      : run_(ctx.run),
        stats_(ctx.run, name, kind, opts.concurrency, opts.ordered, opts.on_error),
        expand_(std::move(expand)),
        renumber_(split) {
    if (!opts.ordered) {
      emitter_.emplace(ctx.graph, flow_concurrency(opts.concurrency),
                       [this](const Envelope<In>& in, typename Emitter::output_ports_type& ports) {
                         auto c = compute(in);
                         release(c, std::get<0>(ports));
                       });
      tbb::flow::make_edge(upstream, *emitter_);
    } else {
      collector_.emplace(ctx.graph, flow_concurrency(opts.concurrency),
                         [this](const Envelope<In>& in) { return compute(in); });
      sequencer_.emplace(ctx.graph, SeqOf{});
      releaser_.emplace(ctx.graph, tbb::flow::serial,
                        [this](const Collected& c, typename Releaser::output_ports_type& ports) {
                          release(c, std::get<0>(ports));
                        });
      tbb::flow::make_edge(upstream, *collector_);
      tbb::flow::make_edge(*collector_, *sequencer_);
      tbb::flow::make_edge(*sequencer_, *releaser_);
    }
  }

  tbb::flow::sender<Envelope<Out>>& output() override {
    if (emitter_) return tbb::flow::output_port<0>(*emitter_);
    return tbb::flow::output_port<0>(*releaser_);
  }
  StageStats* stats() override { return &stats_; }

 private:
  Collected compute(const Envelope<In>& in) noexcept {
    auto c = Collected::successor_of(in);
    if (!in.value.has_value() || run_.cancelled()) return c;
    TaskTimer timer(stats_);
    try {
      c.value.emplace(expand_(in.value.take()));
      timer.done(0);
    } catch (...) {
      timer.done(0);
      run_.fail(stats_, c, std::current_exception());
    }
    return c;
  }

  template <class Port>
  void release(const Collected& c, Port& port) noexcept {
    if (!c.value.has_value()) {
      run_.end(c);  // dropped upstream or failed here: it ends here
      return;
    }
    try {
      renumber_.emit(run_, stats_, c, c.value.take(), port);
    } catch (...) {
      EnvelopeMeta end = c;
      run_.fail(stats_, end, std::current_exception());
      run_.end(end);
    }
  }

  RunContext& run_;
  StageStats stats_;
  Expand expand_;
  Renumber<Out> renumber_;
  std::optional<Emitter> emitter_;
  std::optional<Collector> collector_;
  std::optional<tbb::flow::sequencer_node<Collected>> sequencer_;
  std::optional<Releaser> releaser_;
};

template <class In, class Out, class Expand>
class ExpandSpec final : public NodeSpec {
 public:
  ExpandSpec(std::string name, std::string kind, Expand expand, StageOptions opts,
             WeightSplit split)
      : NodeSpec(std::move(name), std::move(kind)),
        expand_(std::move(expand)),
        opts_(std::move(opts)),
        split_(split) {
    check_concurrency(this->name(), opts_.concurrency);
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<ExpandRuntime<In, Out, Expand>>(ctx, ctx.input<In>(), name(), kind(),
                                                            opts_, expand_, split_);
  }
  bool numbers_output() const override { return true; }
  std::string flow_nodes() const override {
    if (!opts_.ordered) return "multifunction_node(" + concurrency_text(opts_.concurrency) + ")";
    return "function_node(" + concurrency_text(opts_.concurrency) +
           ") -> sequencer_node -> multifunction_node(serial)";
  }

 private:
  Expand expand_;
  StageOptions opts_;
  WeightSplit split_;
};

}  // namespace sluice::detail
