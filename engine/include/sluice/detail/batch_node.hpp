// batch(n): a serial multifunction_node that gathers n items into a std::vector and
// emits it as one envelope standing for all of them (its weight is their sum; it holds
// their slots, through a Split when some were a tee's copies or came from other sources). The
// driver calls flush() once the source is done and the graph is idle, to emit (or,
// with drop_last, drop) the tail batch.
#pragma once

#include <optional>
#include <tuple>
#include <vector>

#include "sluice/detail/map_node.hpp"

namespace sluice::detail {

template <class T>
class BatchRuntime final : public OutputNode<std::vector<T>> {
  using Batch = Envelope<std::vector<T>>;
  using Node = tbb::flow::multifunction_node<Envelope<T>, std::tuple<Batch>>;

 public:
  BatchRuntime(BuildContext& ctx, tbb::flow::sender<Envelope<T>>& upstream, const std::string& name,
               std::size_t size, const BatchOptions& opts)
      : run_(ctx.run),
        stats_(ctx.run, name, "batch", 1, opts.ordered, std::nullopt),
        size_(size),
        drop_last_(opts.drop_last),
        node_(ctx.graph, tbb::flow::serial,
              [this](const Envelope<T>& in, typename Node::output_ports_type& ports) noexcept {
                add(in, std::get<0>(ports));
              }) {
    if (opts.ordered) {
      sequencer_.emplace(ctx.graph, SeqOf{});
      tbb::flow::make_edge(upstream, *sequencer_);
      tbb::flow::make_edge(*sequencer_, node_);
    } else {
      tbb::flow::make_edge(upstream, node_);
    }
  }

  tbb::flow::sender<Batch>& output() override { return tbb::flow::output_port<0>(node_); }
  StageStats* stats() override { return &stats_; }

  bool flush() override {
    if (items_.empty()) return false;
    if (drop_last_) {
      EnvelopeMeta dropped;
      slots_.apply(dropped);
      run_.filter(stats_, dropped);
      run_.end(dropped);
      reset();
      return true;
    }
    emit(tbb::flow::output_port<0>(node_));
    return true;
  }

 private:
  template <class Port>
  void add(const Envelope<T>& in, Port& port) noexcept {
    if (!in.value.has_value() || run_.cancelled()) {
      run_.end(in);  // a placeholder ends here: batches renumber
      return;
    }
    TaskTimer timer(stats_);
    try {
      if (items_.empty()) {
        items_.reserve(size_);
        first_ = in;
      }
      items_.push_back(in.value.take());
      slots_.add(in);
    } catch (...) {
      EnvelopeMeta end = in;
      run_.fail(stats_, end, std::current_exception());
      run_.end(end);
      return;
    }
    bool full = items_.size() == size_;
    if (full) emit(port);
    timer.done(full ? 1 : 0);
  }

  template <class Port>
  void emit(Port& port) noexcept {
    Batch b;
    b.seq = next_seq_++;
    b.index = first_.index;
    b.born_ns = first_.born_ns;
    slots_.apply(b);
    try {
      b.value.emplace(std::move(items_));
    } catch (...) {
      run_.fail(stats_, b, std::current_exception());
      run_.end(b);
      reset();
      return;
    }
    reset();
    port.try_put(b);
  }

  void reset() {
    items_ = {};
    slots_.reset();
  }

  RunContext& run_;
  StageStats stats_;
  std::size_t size_;
  bool drop_last_;
  std::vector<T> items_;
  EnvelopeMeta first_;
  SlotGather slots_;  // the slots of the items gathered so far
  std::uint64_t next_seq_ = 0;
  std::optional<tbb::flow::sequencer_node<Envelope<T>>> sequencer_;
  Node node_;
};

template <class T>
class BatchSpec final : public NodeSpec {
 public:
  BatchSpec(std::string name, std::size_t size, BatchOptions opts)
      : NodeSpec(std::move(name), "batch"), size_(size), opts_(opts) {
    if (size_ == 0)
      throw std::invalid_argument("sluice: batch '" + this->name() + "': size must be at least 1");
  }
  std::unique_ptr<RuntimeNode> build(BuildContext& ctx) const override {
    return std::make_unique<BatchRuntime<T>>(ctx, ctx.input<T>(), name(), size_, opts_);
  }
  std::size_t gathers() const override { return size_; }
  bool numbers_output() const override { return true; }
  std::string flow_nodes() const override {
    return std::string(opts_.ordered ? "sequencer_node -> " : "") + "multifunction_node(serial, " +
           std::to_string(size_) + " per batch)";
  }

 private:
  std::size_t size_;
  BatchOptions opts_;
};

}  // namespace sluice::detail
