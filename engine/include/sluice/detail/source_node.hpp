// Source: an input_node that pulls from the user's range or generator, then the run's
// limiter_node (max_in_flight), then, for a rate-limited source, a pacer.
//
// input_node is serial and caches one item it could not hand on, which is what makes
// the limiter in front of everything safe: a limiter_node drops what it rejects unless
// its predecessor buffers. The input body never blocks: pacing happens in an async
// stage of its own (PacedRelease), not by sleeping inside the body.
#pragma once

#include <functional>
#include <optional>
#include <sstream>

#include "sluice/detail/async_node.hpp"
#include "sluice/detail/clock.hpp"
#include "sluice/detail/paced_release.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

template <class T>
using Puller = std::function<std::optional<T>()>;

template <class T>
class SourceRuntime final : public OutputNode<T> {
 public:
  SourceRuntime(BuildContext& ctx, const std::string& name, Puller<T> pull,
                const SourceOptions& opts)
      : run_(ctx.run),
        stats_(ctx.run, name, "source", 1, true, std::nullopt),
        pull_(std::move(pull)),
        limit_(opts.limit),
        input_(ctx.graph, [this](tbb::flow_control& fc) { return next(fc); }),
        limiter_(ctx.graph, ctx.run.max_in_flight()) {
    tbb::flow::make_edge(input_, limiter_);
    run_.set_limiter(&limiter_.decrementer());
    if (opts.items_per_second > 0) {
      pacer_.emplace(ctx, name + ".pace", limiter_, opts.items_per_second);
    }
  }

  void activate() override { input_.activate(); }
  tbb::flow::sender<Envelope<T>>& output() override {
    return pacer_ ? pacer_->output() : static_cast<tbb::flow::sender<Envelope<T>>&>(limiter_);
  }
  StageStats* stats() override { return &stats_; }
  void collect_stats(std::vector<StageStats*>& out) override {
    out.push_back(&stats_);
    if (pacer_) pacer_->collect_stats(out);
  }
  void finish() override {
    if (pacer_) pacer_->finish();
  }

 private:
  Envelope<T> next(tbb::flow_control& fc) noexcept {
    for (;;) {
      if (run_.cancelled() || (limit_ != 0 && index_ >= limit_)) return stop(fc);
      TaskTimer timer(stats_);
      std::optional<T> v;
      try {
        v = pull_();
      } catch (...) {
        // The item that would have come is produced-and-failed; it took no limiter slot
        // and no sequence number, so ordered stages see no gap.
        run_.count_produced(1);
        run_.fail(stats_, index_++, std::current_exception(), 1);
        continue;
      }
      if (!v) return stop(fc);
      Envelope<T> e;
      e.seq = seq_++;
      e.index = index_++;
      // Latency is sampled with the task times: born_ns 0 means "not measured".
      e.born_ns = timer.timed() ? now_ns() : 0;
      e.weight = 1;
      e.value.emplace(std::move(*v));
      run_.count_produced(1);
      timer.done(1);
      return e;
    }
  }

  Envelope<T> stop(tbb::flow_control& fc) noexcept {
    run_.mark_source_done();
    fc.stop();
    return {};
  }

  RunContext& run_;
  StageStats stats_;
  Puller<T> pull_;
  std::uint64_t limit_;
  std::uint64_t seq_ = 0;
  std::uint64_t index_ = 0;
  tbb::flow::input_node<Envelope<T>> input_;
  tbb::flow::limiter_node<Envelope<T>, long> limiter_;
  std::optional<PacedRelease<T>> pacer_;
};

/// Makes a fresh puller for every run, so a pipeline over a container can run again.
template <class T>
using PullerFactory = std::function<Puller<T>()>;

template <class T>
class SourceSpec final : public NodeSpec {
 public:
  SourceSpec(std::string name, PullerFactory<T> make, SourceOptions opts)
      : NodeSpec(std::move(name), "source"), make_(std::move(make)), opts_(opts) {
    if (opts_.items_per_second < 0) {
      throw std::invalid_argument("sluice: source '" + this->name() +
                                  "': items_per_second must be >= 0");
    }
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<SourceRuntime<T>>(ctx, name(), make_(), opts_);
  }
  std::string flow_nodes() const override {
    std::ostringstream s;
    s << "input_node -> limiter_node";
    if (opts_.items_per_second > 0)
      s << " -> async_node (pacer, " << opts_.items_per_second << "/s)";
    if (opts_.limit != 0) s << " [limit " << opts_.limit << "]";
    return s.str();
  }

 private:
  PullerFactory<T> make_;
  SourceOptions opts_;
};

}  // namespace sluice::detail
