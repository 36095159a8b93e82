// merge: several flows of one type become one, in completion order.
//
//   input 0 --+
//   input 1 --+--> multifunction_node(unlimited, lightweight: renumber) -> ...
//
// Edges from several senders into one node are all tbb::flow needs; the node renumbers
// what arrives, since the inputs are separate ordering domains (sequence numbers would
// collide). An ordered stage after a merge therefore keeps the order in which items
// reached the merge. Placeholders end at the merge.
//
// When nothing after the merge reads sequence numbers and every input counts what it
// puts out, the merge has no node at all: its output is a FanIn, and the next node gets
// an edge from every input, as a hand-wired graph would have. The merge then counts, in
// and out, what its inputs put out, and placeholders go on to the next piece, which
// ends them as it ends any other.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

/// A sender standing for several: a successor connected to it is connected to each.
template <class T>
class FanIn final : public tbb::flow::sender<T> {
 public:
  void add(tbb::flow::sender<T>& input) { inputs_.push_back(&input); }

 protected:
  bool register_successor(tbb::flow::receiver<T>& r) override {
    for (auto* s : inputs_) tbb::flow::make_edge(*s, r);
    return true;
  }
  bool remove_successor(tbb::flow::receiver<T>& r) override {
    for (auto* s : inputs_) tbb::flow::remove_edge(*s, r);
    return true;
  }

 private:
  std::vector<tbb::flow::sender<T>*> inputs_;
};

template <class T>
class MergeRuntime final : public OutputNode<T> {
  using Node = tbb::flow::multifunction_node<Envelope<T>, std::tuple<Envelope<T>>,
                                             tbb::flow::queueing_lightweight>;

 public:
  MergeRuntime(BuildContext& ctx, const std::string& name, std::size_t inputs)
      : run_(ctx.run),
        stats_(ctx.run, name, "merge", unlimited, false, std::nullopt),
        number_(ctx.sequence_read) {
    std::vector<const StageStats*> counted;
    for (std::size_t k = 0; k < inputs; ++k) {
      if (const StageStats* s = ctx.built.at(ctx.inputs.at(k))->stats()) counted.push_back(s);
    }
    if (!number_ && counted.size() == inputs) {
      stats_.count_as_outputs_of(std::move(counted));
      for (std::size_t k = 0; k < inputs; ++k) fan_in_.add(ctx.input<T>(k));
      return;
    }
    node_.emplace(ctx.graph, tbb::flow::unlimited,
                  [this](const Envelope<T>& in, typename Node::output_ports_type& ports) noexcept {
                    renumber(in, std::get<0>(ports));
                  });
    for (std::size_t k = 0; k < inputs; ++k) tbb::flow::make_edge(ctx.input<T>(k), *node_);
  }
  tbb::flow::sender<Envelope<T>>& output() override {
    if (node_) return tbb::flow::output_port<0>(*node_);
    return fan_in_;
  }
  StageStats* stats() override { return &stats_; }

 private:
  template <class Port>
  void renumber(const Envelope<T>& in, Port& port) noexcept {
    if (!in.value.has_value()) {
      InlineBody inline_body;  // a lightweight body: see InlineBody
      run_.end(in);
      return;
    }
    auto out = in;
    if (number_) out.seq = next_.fetch_add(1, std::memory_order_relaxed);
    stats_.task_done_untimed(1);
    port.try_put(out);
  }

  RunContext& run_;
  StageStats stats_;
  bool number_;  // something after the merge reads sequence numbers
  std::atomic<std::uint64_t> next_{0};
  FanIn<Envelope<T>> fan_in_;
  std::optional<Node> node_;
};

template <class T>
class MergeSpec final : public NodeSpec {
 public:
  MergeSpec(std::string name, std::size_t inputs)
      : NodeSpec(std::move(name), "merge"), inputs_(inputs) {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<MergeRuntime<T>>(ctx, name(), inputs_);
  }
  bool reads_sequence() const override { return false; }
  bool numbers_output() const override { return true; }
  std::string flow_nodes() const override {
    return "edges from " + std::to_string(inputs_) +
           " inputs into the next node, through a multifunction_node(unlimited, lightweight) "
           "that renumbers them when an ordered stage follows or an input is a branch";
  }

 private:
  std::size_t inputs_;
};

}  // namespace sluice::detail
