// Source: an input_node that pulls from the user's range or generator, then the run's
// limiter_node (max_in_flight).
//
// A rate-limited source paces the pulls themselves: tickets (no data) go input_node ->
// limiter_node -> pacer, and each ticket the pacer releases pulls one item. A generator
// standing for messages that arrive at a rate is thus called at that rate, and its
// items are born when they are due, rather than up to max_in_flight of them being made
// at once and then held back.
//
// input_node is serial and caches one item it could not hand on, which is what makes
// the limiter in front of everything safe: a limiter_node drops what it rejects unless
// its predecessor buffers. The input body never blocks: pacing happens in an async
// stage of its own (PacedRelease), not by sleeping inside the body.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <tuple>

#include "sluice/detail/async_node.hpp"
#include "sluice/detail/clock.hpp"
#include "sluice/detail/paced_release.hpp"
#include "sluice/detail/spec.hpp"

namespace sluice::detail {

template <class T>
using Puller = std::function<std::optional<T>()>;

/// The user's range or generator, pulled one item at a time and numbered: what both
/// source wirings share.
template <class T>
class ItemPuller {
 public:
  enum class Got { item, failed, end };

  ItemPuller(RunContext& run, const std::string& name, Puller<T> pull, std::uint64_t limit)
      : run_(run),
        stats_(run, name, "source", 1, true, std::nullopt),
        pull_(std::move(pull)),
        limit_(limit) {}

  StageStats& stats() noexcept { return stats_; }
  /// Items to pull at most (unlimited: no limit).
  std::uint64_t limit() const noexcept { return limit_; }
  /// The run's number for this source (its limiter), carried by every item.
  void set_origin(std::uint16_t origin) noexcept { origin_ = origin; }
  std::uint16_t origin() const noexcept { return origin_; }
  bool at_limit() const noexcept { return index_ >= limit_; }

  /// Pulls the next item into `out` (weight 1). A pull that throws is an item produced
  /// and failed: it takes no sequence number, so ordered stages see no gap.
  Got pull(Envelope<T>& out) noexcept {
    if (at_limit()) return Got::end;
    TaskTimer timer(stats_);
    std::optional<T> v;
    try {
      v = pull_();
      if (!v) return Got::end;
      out.value.emplace(std::move(*v));
    } catch (...) {
      run_.count_produced(1);
      run_.fail(stats_, index_++, std::current_exception(), 1);
      return Got::failed;
    }
    out.seq = seq_++;
    out.index = index_++;
    // Latency is sampled with the task times: born_ns 0 means "not measured".
    out.born_ns = timer.timed() ? now_ns() : 0;
    out.weight = 1;
    out.origin = origin_;
    run_.count_produced(1);
    timer.done(1);
    return Got::item;
  }

 private:
  RunContext& run_;
  StageStats stats_;
  Puller<T> pull_;
  std::uint64_t limit_;
  std::uint16_t origin_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t index_ = 0;
};

/// A path to a limiter's decrement port through a task of its own, for slots given back
/// inside a lightweight body that the limiter itself may be calling (see InlineBody).
class DecrementLater {
 public:
  template <class Limiter>
  DecrementLater(tbb::flow::graph& g, Limiter& limiter)
      : node_(g, tbb::flow::unlimited, [](long n) noexcept { return n; }) {
    tbb::flow::make_edge(node_, limiter.decrementer());
  }
  tbb::flow::receiver<long>* port() noexcept { return &node_; }

 private:
  tbb::flow::function_node<long, long> node_;
};

template <class T>
class SourceRuntime final : public OutputNode<T> {
  using Got = typename ItemPuller<T>::Got;

 public:
  SourceRuntime(BuildContext& ctx, const std::string& name, Puller<T> pull,
                const SourceOptions& opts)
      : run_(ctx.run),
        items_(ctx.run, name, std::move(pull), opts.limit),
        input_(ctx.graph, [this](tbb::flow_control& fc) { return next(fc); }),
        limiter_(ctx.graph, ctx.run.max_in_flight()),
        later_(ctx.graph, limiter_) {
    tbb::flow::make_edge(input_, limiter_);
    items_.set_origin(run_.add_limiter(&limiter_.decrementer(), later_.port()));
  }

  void activate() override { input_.activate(); }
  tbb::flow::sender<Envelope<T>>& output() override { return limiter_; }
  StageStats* stats() override { return &items_.stats(); }

 private:
  Envelope<T> next(tbb::flow_control& fc) noexcept {
    for (;;) {
      Envelope<T> e;
      const Got got = run_.cancelled() ? Got::end : items_.pull(e);
      if (got == Got::item) return e;
      if (got == Got::end) {
        run_.mark_source_done(items_.origin());
        fc.stop();
        return {};
      }
    }
  }

  RunContext& run_;
  ItemPuller<T> items_;
  tbb::flow::input_node<Envelope<T>> input_;
  tbb::flow::limiter_node<Envelope<T>, long> limiter_;
  DecrementLater later_;
};

/// The rate-limited source: input_node(tickets) -> limiter_node -> pacer -> puller.
template <class T>
class PacedSourceRuntime final : public OutputNode<T> {
  struct Ticket {};
  using PullNode = tbb::flow::multifunction_node<Envelope<Ticket>, std::tuple<Envelope<T>>>;
  using Got = typename ItemPuller<T>::Got;

 public:
  PacedSourceRuntime(BuildContext& ctx, const std::string& name, Puller<T> source,
                     const SourceOptions& opts)
      : run_(ctx.run),
        items_(ctx.run, name, std::move(source), opts.limit),
        tickets_(ctx.graph, [this](tbb::flow_control& fc) { return ticket(fc); }),
        limiter_(ctx.graph, ctx.run.max_in_flight()),
        later_(ctx.graph, limiter_),
        pacer_(ctx, name + ".pace", limiter_, opts.items_per_second),
        puller_(ctx.graph, tbb::flow::serial,
                [this](const Envelope<Ticket>& t,
                       typename PullNode::output_ports_type& ports) noexcept {
                  pull(t, std::get<0>(ports));
                }) {
    tbb::flow::make_edge(tickets_, limiter_);
    origin_ = run_.add_limiter(&limiter_.decrementer(), later_.port());
    items_.set_origin(origin_);
    tbb::flow::make_edge(pacer_.output(), puller_);
  }

  void activate() override { tickets_.activate(); }
  tbb::flow::sender<Envelope<T>>& output() override { return tbb::flow::output_port<0>(puller_); }
  StageStats* stats() override { return &items_.stats(); }
  void collect_stats(std::vector<StageStats*>& out) override {
    out.push_back(&items_.stats());
    pacer_.collect_stats(out);
  }
  void finish() override { pacer_.finish(); }

 private:
  Envelope<Ticket> ticket(tbb::flow_control& fc) noexcept {
    if (ended_.load(std::memory_order_acquire) || run_.cancelled() || issued_ >= items_.limit()) {
      fc.stop();
      return {};
    }
    ++issued_;
    Envelope<Ticket> t;
    t.weight = 1;
    t.value.emplace();  // a placeholder would pass the pacer unpaced
    return t;
  }

  template <class Port>
  void pull(const Envelope<Ticket>& t, Port& port) noexcept {
    if (ended_.load(std::memory_order_relaxed) || run_.cancelled()) {
      run_.release_slots(origin_, t.weight);  // a ticket left over at the end: nothing was made
      return;
    }
    Envelope<T> e;
    const Got got = items_.pull(e);
    if (got != Got::item) run_.release_slots(origin_, t.weight);
    if (got == Got::end || items_.at_limit()) end();
    if (got == Got::item) port.try_put(e);
  }

  void end() noexcept {
    ended_.store(true, std::memory_order_release);
    run_.mark_source_done(origin_);
    pacer_.release_all();  // queued tickets only have their slots to give back
  }

  RunContext& run_;
  ItemPuller<T> items_;
  std::uint16_t origin_ = 0;
  std::uint64_t issued_ = 0;  // tickets (input_node body only)
  std::atomic<bool> ended_{false};
  tbb::flow::input_node<Envelope<Ticket>> tickets_;
  tbb::flow::limiter_node<Envelope<Ticket>, long> limiter_;
  DecrementLater later_;
  PacedRelease<Ticket> pacer_;
  PullNode puller_;
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
    if (opts_.items_per_second > 0) {
      return std::make_unique<PacedSourceRuntime<T>>(ctx, name(), make_(), opts_);
    }
    return std::make_unique<SourceRuntime<T>>(ctx, name(), make_(), opts_);
  }
  std::string flow_nodes() const override {
    std::ostringstream s;
    if (opts_.items_per_second > 0) {
      s << "input_node (tickets) -> limiter_node -> async_node (pacer, " << opts_.items_per_second
        << "/s) -> multifunction_node (pull)";
    } else {
      s << "input_node -> limiter_node";
    }
    if (opts_.limit != unlimited) s << " [limit " << opts_.limit << "]";
    return s.str();
  }

 private:
  PullerFactory<T> make_;
  SourceOptions opts_;
};

}  // namespace sluice::detail
