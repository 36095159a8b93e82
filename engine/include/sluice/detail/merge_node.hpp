// merge: several flows of one type become one, in completion order.
//
//   input 0 --+
//   input 1 --+--> multifunction_node(unlimited, lightweight: renumber) -> ...
//
// Edges from several senders into one node are all tbb::flow needs; the node renumbers
// what arrives, since the inputs are separate ordering domains (sequence numbers would
// collide). An ordered stage after a merge therefore keeps the order in which items
// reached the merge. Placeholders end at the merge.
#pragma once

#include <atomic>
#include <string>
#include <tuple>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

template <class T>
class MergeRuntime final : public OutputNode<T> {
  using Node = tbb::flow::multifunction_node<Envelope<T>, std::tuple<Envelope<T>>,
                                             tbb::flow::queueing_lightweight>;

 public:
  MergeRuntime(BuildContext& ctx, const std::string& name, std::size_t inputs)
      : run_(ctx.run),
        stats_(ctx.run, name, "merge", unlimited, false, std::nullopt),
        node_(ctx.graph, tbb::flow::unlimited,
              [this](const Envelope<T>& in, typename Node::output_ports_type& ports) noexcept {
                renumber(in, std::get<0>(ports));
              }) {
    for (std::size_t k = 0; k < inputs; ++k) tbb::flow::make_edge(ctx.input<T>(k), node_);
  }
  tbb::flow::sender<Envelope<T>>& output() override { return tbb::flow::output_port<0>(node_); }
  StageStats* stats() override { return &stats_; }

 private:
  template <class Port>
  void renumber(const Envelope<T>& in, Port& port) noexcept {
    if (!in.value.has_value()) {
      run_.end(in);
      return;
    }
    auto out = in;
    out.seq = next_.fetch_add(1, std::memory_order_relaxed);
    stats_.task_done_untimed(1);
    port.try_put(out);
  }

  RunContext& run_;
  StageStats stats_;
  std::atomic<std::uint64_t> next_{0};
  Node node_;
};

template <class T>
class MergeSpec final : public NodeSpec {
 public:
  MergeSpec(std::string name, std::size_t inputs)
      : NodeSpec(std::move(name), "merge"), inputs_(inputs) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<MergeRuntime<T>>(ctx, name(), inputs_);
  }
  std::string flow_nodes() const override {
    return "multifunction_node(unlimited, lightweight) fed by " + std::to_string(inputs_) +
           " edges";
  }

 private:
  std::size_t inputs_;
};

}  // namespace sluice::detail
