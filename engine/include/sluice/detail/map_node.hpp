// map and filter: one function_node each, 1:1 between envelopes, with the stage's
// concurrency cap. Placeholders (items dropped upstream) pass through untouched.
#pragma once

#include <functional>
#include <optional>
#include <sstream>

#include "sluice/detail/clock.hpp"
#include "sluice/detail/ordering.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

inline std::size_t flow_concurrency(std::size_t c) {
  return c == unlimited ? static_cast<std::size_t>(tbb::flow::unlimited) : c;
}

inline std::string concurrency_text(std::size_t c) {
  return c == unlimited ? std::string("unlimited") : std::to_string(c);
}

inline void check_concurrency(const std::string& stage, std::size_t c) {
  if (c == 0) {
    throw std::invalid_argument("sluice: stage '" + stage +
                                "': concurrency must be at least 1 (or sluice::unlimited)");
  }
}

/// Shared by map and filter: a function_node whose body turns Envelope<In> into
/// Envelope<Out>, followed by an optional reorder buffer.
template <class In, class Out, class Body>
class OneToOneRuntime final : public OutputNode<Out> {
  template <class Policy>
  using Node = tbb::flow::function_node<Envelope<In>, Envelope<Out>, Policy>;

 public:
  OneToOneRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<In>>& upstream,
                  const std::string& name, const std::string& kind, const StageOptions& opts,
                  Body body)
      : run_(ctx.run),
        stats_(ctx.run, name, kind, opts.concurrency, opts.ordered, opts.on_error),
        body_(std::move(body)) {
    auto fn = [this](const Envelope<In>& in) noexcept { return body_(run_, stats_, in); };
    tbb::flow::sender<Envelope<Out>>* out;
    if (opts.lightweight) {
      out = &light_.emplace(ctx.graph, flow_concurrency(opts.concurrency), fn);
      tbb::flow::make_edge(upstream, *light_);
    } else {
      out = &queued_.emplace(ctx.graph, flow_concurrency(opts.concurrency), fn);
      tbb::flow::make_edge(upstream, *queued_);
    }
    reorder_.emplace(ctx.graph, *out, opts.ordered);
  }
  tbb::flow::sender<Envelope<Out>>& output() override { return reorder_->output(); }
  StageStats* stats() override { return &stats_; }

 private:
  RunContext& run_;
  StageStats stats_;
  Body body_;
  std::optional<Node<tbb::flow::queueing>> queued_;
  std::optional<Node<tbb::flow::queueing_lightweight>> light_;
  std::optional<Reorder<Out>> reorder_;
};

template <class In, class Out, class Fn>
struct MapBody {
  Fn fn;
  Envelope<Out> operator()(RunContext& run, StageStats& stats, const Envelope<In>& in) noexcept {
    auto out = Envelope<Out>::successor_of(in);
    if (!in.value.has_value() || run.cancelled()) return out;
    TaskTimer timer(stats);
    try {
      out.value.emplace(std::invoke(fn, in.value.take()));
      timer.done(1);
    } catch (...) {
      timer.done(0);
      run.fail(stats, out, std::current_exception());
    }
    return out;
  }
};

template <class T, class Pred>
struct FilterBody {
  Pred pred;
  Envelope<T> operator()(RunContext& run, StageStats& stats, const Envelope<T>& in) noexcept {
    if (!in.value.has_value() || run.cancelled()) return in;
    TaskTimer timer(stats);
    auto out = Envelope<T>::successor_of(in);  // a placeholder: its slots go back where it ends
    try {
      if (static_cast<bool>(std::invoke(pred, in.value.get()))) {
        timer.done(1);
        return in;
      }
      timer.done(0);
      run.filter(stats, out);
    } catch (...) {
      timer.done(0);
      run.fail(stats, out, std::current_exception());
    }
    return out;
  }
};

template <class In, class Out, class Body>
class OneToOneSpec final : public NodeSpec {
 public:
  OneToOneSpec(std::string name, std::string kind, Body body, StageOptions opts)
      : NodeSpec(std::move(name), std::move(kind)), body_(std::move(body)), opts_(std::move(opts)) {
    check_concurrency(this->name(), opts_.concurrency);
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<OneToOneRuntime<In, Out, Body>>(ctx, ctx.input<In>(), name(), kind(),
                                                            opts_, body_);
  }
  bool keeps_identity() const override { return true; }
  bool reads_sequence() const override { return opts_.ordered; }
  std::string flow_nodes() const override {
    return "function_node(" + concurrency_text(opts_.concurrency) +
           (opts_.lightweight ? ", lightweight" : "") + ")" +
           (opts_.ordered ? " -> sequencer_node" : "");
  }

 private:
  Body body_;
  StageOptions opts_;
};

}  // namespace sluice::detail
