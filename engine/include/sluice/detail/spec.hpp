// The wiring layer: what the builder records (NodeSpec, one per pipeline piece) and
// what a run builds from it (RuntimeNode, owning that piece's tbb::flow nodes).
//
// A PipelineSpec is a graph, not a list: every spec names its upstream specs by index,
// and a typed OutputNode<T> is what downstream nodes connect to. A chain is the case
// where each spec has one upstream and one consumer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <oneapi/tbb/flow_graph.h>

#include "sluice/detail/envelope.hpp"
#include "sluice/detail/run_context.hpp"
#include "sluice/detail/stage_stats.hpp"

namespace sluice::detail {

class RuntimeNode {
 public:
  virtual ~RuntimeNode() = default;
  /// Called by the driver when the graph is idle and the source is done: emit what is
  /// held back (a partial batch, an open window). True if anything was emitted.
  virtual bool flush() { return false; }
  /// Called once when the run has ended, before the graph goes away: stop threads,
  /// close what late completions could still reach.
  virtual void finish() {}
  /// Called once, inside the arena, when the run starts (sources begin pulling).
  virtual void activate() {}
  /// The stage figures this piece reports, in pipeline order.
  virtual void collect_stats(std::vector<StageStats*>& out) {
    if (StageStats* s = stats()) out.push_back(s);
  }
  virtual StageStats* stats() { return nullptr; }
};

template <class T>
class OutputNode : public RuntimeNode {
 public:
  using value_type = T;
  virtual tbb::flow::sender<Envelope<T>>& output() = 0;
};

/// What a NodeSpec needs to build its runtime part.
struct BuildContext {
  tbb::flow::graph& graph;
  RunContext& run;
  std::vector<RuntimeNode*> built;  // by spec index, filled in order

  template <class T>
  OutputNode<T>& upstream(std::size_t index) {
    return static_cast<OutputNode<T>&>(*built.at(index));
  }
};

class NodeSpec {
 public:
  NodeSpec(std::string name, std::string kind) : name_(std::move(name)), kind_(std::move(kind)) {
    if (name_.empty()) throw std::invalid_argument("sluice: a " + kind_ + " needs a name");
  }
  virtual ~NodeSpec() = default;

  const std::string& name() const noexcept { return name_; }
  const std::string& kind() const noexcept { return kind_; }
  const std::vector<std::size_t>& upstreams() const noexcept { return upstreams_; }
  void add_upstream(std::size_t i) { upstreams_.push_back(i); }

  virtual std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const = 0;
  /// Source items one output of this piece can stand for (a batch of n: n). The run's
  /// max_in_flight must hold the product along the pipeline, or a batch never fills.
  virtual std::size_t gathers() const { return 1; }
  /// Items this piece could usefully hold (an async stage's max_in_flight); the default
  /// max_in_flight leaves room for it.
  virtual std::size_t useful_in_flight() const { return 0; }
  /// The tbb::flow nodes this piece maps onto, for to_dot().
  virtual std::string flow_nodes() const = 0;
  /// True for pieces that end items (sink, consumer).
  virtual bool is_terminal() const { return false; }

 private:
  std::string name_;
  std::string kind_;
  std::vector<std::size_t> upstreams_;
};

/// The whole declared pipeline, shared by the Flow handles that extend it.
class PipelineSpec {
 public:
  std::size_t add(std::unique_ptr<NodeSpec> node, std::ptrdiff_t upstream) {
    if (upstream >= 0) {
      auto u = static_cast<std::size_t>(upstream);
      if (consumers_.at(u) != 0) {
        throw std::logic_error("sluice: '" + nodes_[u]->name() + "' already feeds '" +
                               consumer_name_[u] +
                               "'; fan-out (one output feeding two stages) is not supported yet");
      }
      if (nodes_[u]->is_terminal()) {
        throw std::logic_error("sluice: nothing can follow the sink '" + nodes_[u]->name() + "'");
      }
      ++consumers_[u];
      consumer_name_[u] = node->name();
      node->add_upstream(u);
    }
    nodes_.push_back(std::move(node));
    consumers_.push_back(0);
    consumer_name_.emplace_back();
    return nodes_.size() - 1;
  }

  const std::vector<std::unique_ptr<NodeSpec>>& nodes() const noexcept { return nodes_; }
  /// True when node `id` already feeds the consumer end that closes the pipeline.
  bool ends_in_consumer(std::size_t id) const {
    return consumers_.at(id) != 0 && nodes_.back()->kind() == "consumer" &&
           nodes_.back()->upstreams().at(0) == id;
  }
  /// The items a run must be able to hold for every batch to fill.
  std::size_t required_in_flight() const {
    std::size_t r = 1;
    for (const auto& n : nodes_) r *= n->gathers();
    return r;
  }
  std::size_t useful_in_flight() const {
    std::size_t r = required_in_flight();
    for (const auto& n : nodes_) r = std::max(r, n->useful_in_flight());
    return r;
  }
  /// Graphviz text of the pipeline, each box naming the tbb::flow nodes it maps onto.
  std::string to_dot() const;

 private:
  std::vector<std::unique_ptr<NodeSpec>> nodes_;
  std::vector<int> consumers_;
  std::vector<std::string> consumer_name_;
};

}  // namespace sluice::detail
