// tee: every item goes to each of N branches.
//
//   upstream -> function_node(unlimited, lightweight: attach the split)
//                 +-> function_node (copy) -> branch 0
//                 +-> function_node (copy) -> branch 1
//
// The first node gives the item a Split that holds its limiter slots for all the copies
// together (split.hpp); tbb broadcasts its output to every branch node, and each branch
// copies the value into a box of its own, since the stage that consumes an envelope
// moves its value out. A small trivially copyable value travels inline in the envelope
// and every read copies it, so its branches have no copy node: they share the tee's
// output. Branches keep the input's sequence numbers: each is the same
// ordering domain as the input, so an ordered stage in a branch keeps source order. A
// placeholder ends at the tee, and each branch gets one of no weight in its place.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "sluice/detail/map_node.hpp"
#include "sluice/detail/split.hpp"

namespace sluice::detail {

template <class T>
class TeeRuntime final : public OutputNode<T> {
  using Node = tbb::flow::function_node<Envelope<T>, Envelope<T>, tbb::flow::queueing_lightweight>;

 public:
  TeeRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream, const std::string& name,
             std::uint32_t branches)
      : run_(ctx.run),
        stats_(ctx.run, name, "tee", unlimited, false, std::nullopt),
        branches_(branches),
        node_(ctx.graph, tbb::flow::unlimited,
              [this](const Envelope<T>& in) noexcept { return split(in); }) {
    tbb::flow::make_edge(upstream, node_);
  }
  tbb::flow::sender<Envelope<T>>& output() override { return node_; }
  StageStats* stats() override { return &stats_; }
  RunContext& run() noexcept { return run_; }
  StageStats& tee_stats() noexcept { return stats_; }

 private:
  Envelope<T> split(const Envelope<T>& in) noexcept {
    InlineBody inline_body;  // a lightweight body: see InlineBody
    if (!in.value.has_value()) {
      run_.end(in);
      auto out = Envelope<T>::successor_of(in);
      out.weight = 0;
      out.split.reset();
      return out;
    }
    stats_.add_in(1);
    auto out = in;
    try {
      std::vector<SplitRef> parents;
      if (in.split) parents.push_back(in.split);
      out.split = Split::make(branches_, in.split ? 0 : in.weight, in.origin, std::move(parents));
    } catch (...) {
      out = Envelope<T>::successor_of(in);
      run_.fail(stats_, out, std::current_exception());
      run_.end(out);
      out.weight = 0;  // its slots went back here; the branches see weightless placeholders
      out.split.reset();
      return out;
    }
    stats_.add_out(branches_);
    return out;
  }

  RunContext& run_;
  StageStats stats_;
  std::uint32_t branches_;
  Node node_;
};

/// One branch of a tee: its own copy of every item. A value stored inline in the
/// envelope is copied by every read, so such a branch needs no node of its own: it is
/// the tee's output, which tbb broadcasts to every branch's successors.
template <class T>
class TeeBranchRuntime final : public OutputNode<T> {
  using Node = tbb::flow::function_node<Envelope<T>, Envelope<T>, tbb::flow::queueing_lightweight>;

 public:
  TeeBranchRuntime(BuildContext& ctx, TeeRuntime<T>& tee) : tee_(tee) {
    if constexpr (!kInlinePayload<T>) {
      node_.emplace(ctx.graph, tbb::flow::unlimited,
                    [this](const Envelope<T>& in) noexcept { return copy(in); });
      tbb::flow::make_edge(tee.output(), *node_);
    }
  }
  tbb::flow::sender<Envelope<T>>& output() override {
    if constexpr (kInlinePayload<T>) {
      return tee_.output();
    } else {
      return *node_;
    }
  }

 private:
  Envelope<T> copy(const Envelope<T>& in) noexcept {
    auto out = Envelope<T>::successor_of(in);
    if (!in.value.has_value()) return out;
    try {
      out.value.emplace(in.value.get());
    } catch (...) {
      tee_.run().fail(tee_.tee_stats(), out, std::current_exception());
    }
    return out;
  }

  TeeRuntime<T>& tee_;
  std::optional<Node> node_;
};

template <class T>
class TeeSpec final : public NodeSpec {
 public:
  TeeSpec(std::string name, std::size_t branches)
      : NodeSpec(std::move(name), "tee"), branches_(branches) {
    if (branches_ < 2) {
      throw std::invalid_argument("sluice: tee '" + this->name() + "' needs at least 2 branches");
    }
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<TeeRuntime<T>>(ctx, ctx.input<T>(), name(),
                                           static_cast<std::uint32_t>(branches_));
  }
  bool has_branches() const override { return true; }
  bool copies_items() const override { return true; }
  bool reads_sequence() const override { return false; }
  std::string flow_nodes() const override {
    return "function_node(unlimited, lightweight) -> broadcast to " + std::to_string(branches_) +
           " branches";
  }

 private:
  std::size_t branches_;
};

template <class T>
class TeeBranchSpec final : public NodeSpec {
 public:
  explicit TeeBranchSpec(std::string name) : NodeSpec(std::move(name), "branch") {}
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<TeeBranchRuntime<T>>(ctx, ctx.input_node<TeeRuntime<T>>());
  }
  bool keeps_identity() const override { return true; }
  bool reads_sequence() const override { return false; }
  std::string flow_nodes() const override {
    return kInlinePayload<T> ? "none (the tee's output; the value is copied inline)"
                             : "function_node(unlimited, lightweight: copy)";
  }
};

}  // namespace sluice::detail
