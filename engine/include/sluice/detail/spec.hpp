// The wiring layer: what the builder records (NodeSpec, one per graph piece) and what a
// run builds from it (RuntimeNode, owning that piece's tbb::flow nodes).
//
// A PipelineSpec is a directed acyclic graph: nodes in the order they were added (every
// node after its inputs), edges as lists of input indices. A typed OutputNode<T> is what
// downstream nodes connect to. A chain is the case where every node has one input and
// one consumer; tee and route pieces have several consumers (their branches), merge and
// join pieces several inputs, and a graph may have several sources and several ends.
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
  std::vector<RuntimeNode*> built;       // by spec index, filled in order
  std::vector<std::size_t> inputs = {};  // the inputs of the node being built
  /// Whether a piece after the node being built reads the sequence numbers of its
  /// output (PipelineSpec::sequence_read_after): a node that numbers its output afresh
  /// (merge, route) skips the shared counter when nothing does.
  bool sequence_read = true;

  /// The runtime of input `k` of the node being built.
  template <class Node>
  Node& input_node(std::size_t k = 0) {
    return static_cast<Node&>(*built.at(inputs.at(k)));
  }
  /// Where input `k` of the node being built comes out.
  template <class T>
  tbb::flow::sender<Envelope<T>>& input(std::size_t k = 0) {
    return input_node<OutputNode<T>>(k).output();
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

  virtual std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const = 0;
  /// Source items one output of this piece can stand for (a batch of n: n). The run's
  /// max_in_flight must hold the product along every path, or a batch never fills.
  virtual std::size_t gathers() const { return 1; }
  /// Items this piece could usefully hold (an async stage's max_in_flight); the default
  /// max_in_flight leaves room for it.
  virtual std::size_t useful_in_flight() const { return 0; }
  /// Envelopes this piece may keep waiting at once (a keyed join's unmatched items): they
  /// keep their slots, so a source must be able to let more than that through.
  virtual std::size_t holds() const { return 0; }
  /// The tbb::flow nodes this piece maps onto, for to_dot().
  virtual std::string flow_nodes() const = 0;
  /// True for pieces that end items (sink, consumer).
  virtual bool is_terminal() const { return false; }
  /// True for the consumer loop's end (at most one per graph).
  virtual bool is_consumer() const { return false; }
  /// True for pieces whose output feeds several branches (tee, route).
  virtual bool has_branches() const { return false; }
  /// True for a tee: its branches carry copies of one item that a join can match.
  virtual bool copies_items() const { return false; }
  /// True for pieces that keep an item's identity (one output per input, same sequence
  /// number): the only pieces a join may find between itself and its tee.
  virtual bool keeps_identity() const { return false; }
  /// True for pieces that read their input's sequence numbers (an ordered stage's
  /// reorder buffer, a join matching copies). Pieces that do not say so are assumed to.
  virtual bool reads_sequence() const { return true; }
  /// True for pieces that number their output afresh: a new ordering domain starts there.
  virtual bool numbers_output() const { return false; }

 private:
  std::string name_;
  std::string kind_;
};

class PipelineSpec;

/// What a Flow handle reaches its graph through. When a merge or join brings two graphs
/// together, one absorbs the other and every handle of the absorbed one is redirected
/// here, so handles kept by the user go on extending the graph they now belong to.
struct GraphCell {
  std::shared_ptr<PipelineSpec> spec;
  std::size_t offset = 0;  // where the cell's graph starts in spec
};

/// The whole declared graph, shared by the Flow handles that extend it.
class PipelineSpec : public std::enable_shared_from_this<PipelineSpec> {
 public:
  /// A new graph, and the cell its first handles use.
  static std::shared_ptr<GraphCell> create() {
    auto cell = std::make_shared<GraphCell>();
    cell->spec = std::make_shared<PipelineSpec>();
    cell->spec->cells_.push_back(cell);
    return cell;
  }

  /// Adds `node` fed by `inputs`; returns its index.
  std::size_t add(std::shared_ptr<const NodeSpec> node, const std::vector<std::size_t>& inputs) {
    for (std::size_t u : inputs) {
      const NodeSpec& up = *nodes_.at(u);
      if (up.is_terminal()) {
        throw std::logic_error("sluice: nothing can follow the end '" + up.name() + "'");
      }
      if (!consumers_[u].empty() && !up.has_branches()) {
        throw std::logic_error(
            "sluice: '" + up.name() + "' already feeds '" + nodes_[consumers_[u].front()]->name() +
            "'; to feed '" + node->name() +
            "' too, tee() it (every item to each branch) or route() it (each item to one)");
      }
    }
    if (node->is_consumer()) {
      for (const auto& n : nodes_) {
        if (n->is_consumer()) {
          throw std::logic_error("sluice: a graph has at most one consumer loop ('" + n->name() +
                                 "' is one already); end the other branches in sinks");
        }
      }
    }
    const std::size_t id = nodes_.size();
    nodes_.push_back(std::move(node));
    inputs_.push_back(inputs);
    consumers_.emplace_back();
    for (std::size_t u : inputs) consumers_[u].push_back(id);
    return id;
  }

  /// Appends every node of `other` (a graph with its own sources) and redirects the
  /// handles of `other` here.
  void absorb(PipelineSpec& other) {
    if (&other == this) return;
    // Redirecting the cells below drops their hold on `other`: keep it alive meanwhile.
    const auto keep = other.shared_from_this();
    const std::size_t offset = nodes_.size();
    for (std::size_t i = 0; i < other.nodes_.size(); ++i) {
      nodes_.push_back(other.nodes_[i]);
      std::vector<std::size_t> in = other.inputs_[i];
      for (auto& u : in) u += offset;
      inputs_.push_back(std::move(in));
      std::vector<std::size_t> out = other.consumers_[i];
      for (auto& c : out) c += offset;
      consumers_.push_back(std::move(out));
    }
    for (auto& weak : other.cells_) {
      if (auto cell = weak.lock()) {
        cell->spec = shared_from_this();
        cell->offset += offset;
        cells_.push_back(cell);
      }
    }
    other.cells_.clear();
  }

  const std::vector<std::shared_ptr<const NodeSpec>>& nodes() const noexcept { return nodes_; }
  const std::vector<std::size_t>& inputs(std::size_t id) const { return inputs_.at(id); }
  const std::vector<std::size_t>& consumers(std::size_t id) const { return consumers_.at(id); }

  /// True when node `id` already feeds a consumer end.
  bool ends_in_consumer(std::size_t id) const {
    const auto& c = consumers_.at(id);
    return std::any_of(c.begin(), c.end(), [&](std::size_t i) { return nodes_[i]->is_consumer(); });
  }
  /// The tee that every one of `inputs` comes from through pieces that keep an item's
  /// identity, each through a branch of its own; throws, naming `join`, otherwise.
  std::size_t common_tee(const std::string& join, const std::vector<std::size_t>& inputs) const {
    std::size_t tee = nodes_.size();
    std::vector<std::size_t> branches;
    for (std::size_t in : inputs) {
      std::size_t cur = in;
      std::size_t below = cur;
      while (!nodes_[cur]->copies_items()) {
        if (!nodes_[cur]->keeps_identity() || inputs_[cur].size() != 1) {
          throw std::logic_error("sluice: join '" + join + "': its input passes through '" +
                                 nodes_[cur]->name() + "' (" + nodes_[cur]->kind() +
                                 "), which does not keep one output per item; only map, filter "
                                 "and async_map may stand between a tee and its join");
        }
        below = cur;
        cur = inputs_[cur].front();
      }
      if (tee != nodes_.size() && tee != cur) {
        throw std::logic_error("sluice: join '" + join +
                               "': its inputs come from different tees ('" + nodes_[tee]->name() +
                               "' and '" + nodes_[cur]->name() + "')");
      }
      if (std::find(branches.begin(), branches.end(), below) != branches.end()) {
        throw std::logic_error("sluice: join '" + join +
                               "': two inputs come from the same branch of tee '" +
                               nodes_[cur]->name() + "'");
      }
      tee = cur;
      branches.push_back(below);
    }
    if (tee < nodes_.size() && consumers_[tee].size() != inputs.size()) {
      // The joined item takes over the slots its copies held: a copy outside the join
      // would end an item that goes on.
      throw std::logic_error("sluice: join '" + join + "' takes " + std::to_string(inputs.size()) +
                             " of the " + std::to_string(consumers_[tee].size()) +
                             " branches of tee '" + nodes_[tee]->name() +
                             "'; a join takes every branch of its tee (tee the joined flow again "
                             "for more ends)");
    }
    return tee;
  }
  /// True when a piece in the ordering domain that node `id` outputs (up to the pieces
  /// that number their output afresh) reads sequence numbers: only then must `id`'s
  /// output be numbered densely.
  bool sequence_read_after(std::size_t id) const {
    std::vector<std::size_t> todo = consumers_.at(id);
    std::vector<bool> seen(nodes_.size(), false);
    while (!todo.empty()) {
      const std::size_t c = todo.back();
      todo.pop_back();
      if (seen[c]) continue;
      seen[c] = true;
      if (nodes_[c]->reads_sequence()) return true;
      if (!nodes_[c]->numbers_output()) {
        todo.insert(todo.end(), consumers_[c].begin(), consumers_[c].end());
      }
    }
    return false;
  }
  /// Throws, naming the piece, unless every branch of the graph ends.
  void check_complete() const {
    bool has_end = false;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      has_end = has_end || nodes_[i]->is_terminal();
      if (!nodes_[i]->is_terminal() && consumers_[i].empty()) {
        throw std::logic_error("sluice: '" + nodes_[i]->name() + "' (" + nodes_[i]->kind() +
                               ") feeds nothing: end every branch with sink() or consume()");
      }
    }
    if (!has_end) {
      throw std::logic_error("sluice: a pipeline needs a source and an end (sink or consumer)");
    }
  }
  /// The items a run must be able to hold for every batch to fill (the largest product
  /// of gathers() along a path) and for the keyed joins to keep what they hold() waiting
  /// and still let one more item through (their holdings added up, in source items).
  std::size_t required_in_flight() const {
    std::vector<std::size_t> need(nodes_.size(), 1);
    std::size_t most = 1;
    std::size_t held = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      std::size_t in = 1;
      for (std::size_t u : inputs_[i]) in = std::max(in, need[u]);
      need[i] = in * nodes_[i]->gathers();
      most = std::max(most, need[i]);
      held += in * nodes_[i]->holds();
    }
    return held != 0 ? std::max(most, held + 1) : most;
  }
  std::size_t useful_in_flight() const {
    std::size_t r = required_in_flight();
    for (const auto& n : nodes_) r = std::max(r, n->useful_in_flight());
    return r;
  }
  /// Graphviz text of the graph, each box naming the tbb::flow nodes it maps onto.
  std::string to_dot() const;

 private:
  std::vector<std::shared_ptr<const NodeSpec>> nodes_;
  std::vector<std::vector<std::size_t>> inputs_;
  std::vector<std::vector<std::size_t>> consumers_;
  std::vector<std::weak_ptr<GraphCell>> cells_;
};

}  // namespace sluice::detail
