// route: each item goes to exactly one of N branches, chosen by a function of the item.
//
//   upstream -> [sequencer] -> multifunction_node(concurrency, N ports) -> branch i
//
// The function returns the branch's index; an index outside [0, N) means no branch
// takes the item, and it is filtered (counted, never lost). Each branch is an ordering
// domain of its own, numbered in the order items leave the route (source order when
// the route is ordered), so an ordered stage in a branch waits for no gap; when no
// piece in any branch reads the numbers, they are not made (a shared counter per item).
// Placeholders end at the route.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

template <std::size_t, class X>
using Repeat = X;

/// std::tuple of N Envelope<T>: the route node's output ports.
template <class T, std::size_t N>
struct RoutePorts {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>) -> std::tuple<Repeat<I, Envelope<T>>...>;
  using type = decltype(make(std::make_index_sequence<N>{}));
};

/// The branch index `fn` gives, or N when it names none.
template <std::size_t N, class R>
std::size_t branch_index(const R& r) noexcept {
  if constexpr (std::is_same_v<R, bool>) {
    return r ? 0 : 1;
  } else if constexpr (std::is_signed_v<R>) {
    return r < 0 || static_cast<std::make_unsigned_t<R>>(r) >= N ? N : static_cast<std::size_t>(r);
  } else {
    return r >= N ? N : static_cast<std::size_t>(r);
  }
}

template <class T, std::size_t N, class Fn>
class RouteRuntime final : public RuntimeNode {
  using Node = tbb::flow::multifunction_node<Envelope<T>, typename RoutePorts<T, N>::type>;

 public:
  RouteRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream, const std::string& name,
               const StageOptions& opts, Fn fn)
      : run_(ctx.run),
        stats_(ctx.run, name, "route", opts.concurrency, opts.ordered, opts.on_error),
        fn_(std::move(fn)),
        number_(ctx.sequence_read),
        node_(ctx.graph, flow_concurrency(opts.ordered ? 1 : opts.concurrency),
              [this](const Envelope<T>& in, typename Node::output_ports_type& ports) noexcept {
                route(in, ports);
              }),
        reorder_(ctx.graph, upstream, opts.ordered) {
    tbb::flow::make_edge(reorder_.output(), node_);
    ports_ = ports(std::make_index_sequence<N>{});
  }
  StageStats* stats() override { return &stats_; }
  tbb::flow::sender<Envelope<T>>& port(std::size_t i) { return *ports_.at(i); }

 private:
  template <std::size_t... I>
  std::array<tbb::flow::sender<Envelope<T>>*, N> ports(std::index_sequence<I...>) {
    return {&tbb::flow::output_port<I>(node_)...};
  }

  void route(const Envelope<T>& in, typename Node::output_ports_type& ports) noexcept {
    if (!in.value.has_value() || run_.cancelled()) {
      run_.end(in);
      return;
    }
    TaskTimer timer(stats_);
    std::size_t b = N;
    try {
      b = branch_index<N>(std::invoke(fn_, std::as_const(in.value.get())));
    } catch (...) {
      timer.done(0);
      auto failed = Envelope<T>::successor_of(in);
      run_.fail(stats_, failed, std::current_exception());
      run_.end(failed);
      return;
    }
    if (b == N) {
      timer.done(0);
      auto dropped = Envelope<T>::successor_of(in);
      run_.filter(stats_, dropped);
      run_.end(dropped);
      return;
    }
    if (number_) {
      Envelope<T> out = in;
      out.seq = next_[b].fetch_add(1, std::memory_order_relaxed);
      put(ports, b, out, std::make_index_sequence<N>{});
    } else {
      put(ports, b, in, std::make_index_sequence<N>{});
    }
    timer.done(1);
  }

  template <std::size_t... I>
  static void put(typename Node::output_ports_type& ports, std::size_t b, const Envelope<T>& e,
                  std::index_sequence<I...>) {
    ((b == I ? (void)std::get<I>(ports).try_put(e) : void()), ...);
  }

  RunContext& run_;
  StageStats stats_;
  Fn fn_;
  bool number_;  // something in a branch reads sequence numbers
  std::array<std::atomic<std::uint64_t>, N> next_{};
  Node node_;
  Reorder<T> reorder_;
  std::array<tbb::flow::sender<Envelope<T>>*, N> ports_{};
};

template <class T, std::size_t N, class Fn>
class RouteSpec final : public NodeSpec {
 public:
  RouteSpec(std::string name, Fn fn, StageOptions opts)
      : NodeSpec(std::move(name), "route"), fn_(std::move(fn)), opts_(std::move(opts)) {
    check_concurrency(this->name(), opts_.concurrency);
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<RouteRuntime<T, N, Fn>>(ctx, ctx.input<T>(), name(), opts_, fn_);
  }
  bool has_branches() const override { return true; }
  bool reads_sequence() const override { return opts_.ordered; }
  bool numbers_output() const override { return true; }
  std::string flow_nodes() const override {
    return std::string(opts_.ordered ? "sequencer_node -> " : "") + "multifunction_node(" +
           concurrency_text(opts_.ordered ? 1 : opts_.concurrency) + ", " + std::to_string(N) +
           " ports)";
  }

 private:
  Fn fn_;
  StageOptions opts_;
};

/// Branch i of a route: the route's output port i.
template <class T, std::size_t N, class Fn>
class RouteBranchRuntime final : public OutputNode<T> {
 public:
  RouteBranchRuntime(RouteRuntime<T, N, Fn>& route, std::size_t i) : port_(route.port(i)) {}
  tbb::flow::sender<Envelope<T>>& output() override { return port_; }

 private:
  tbb::flow::sender<Envelope<T>>& port_;
};

template <class T, std::size_t N, class Fn>
class RouteBranchSpec final : public NodeSpec {
 public:
  RouteBranchSpec(std::string name, std::size_t index)
      : NodeSpec(std::move(name), "branch"), index_(index) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<RouteBranchRuntime<T, N, Fn>>(ctx.input_node<RouteRuntime<T, N, Fn>>(),
                                                          index_);
  }
  bool reads_sequence() const override { return false; }
  std::string flow_nodes() const override { return "output_port<" + std::to_string(index_) + ">"; }

 private:
  std::size_t index_;
};

}  // namespace sluice::detail
