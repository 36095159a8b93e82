// Optional reorder buffer: ordered stages put a sequencer_node (keyed on the dense
// sequence number) after themselves; unordered ones emit in completion order.
#pragma once

#include <optional>

#include <oneapi/tbb/flow_graph.h>

#include "sluice/detail/envelope.hpp"

namespace sluice::detail {

template <class T>
class Reorder {
 public:
  /// Connects `from` to the reorder buffer when `ordered`; output() is then the buffer.
  Reorder(tbb::flow::graph& g, tbb::flow::sender<Envelope<T>>& from, bool ordered) : from_(from) {
    if (ordered) {
      seq_.emplace(g, SeqOf{});
      tbb::flow::make_edge(from, *seq_);
    }
  }
  tbb::flow::sender<Envelope<T>>& output() {
    return seq_ ? static_cast<tbb::flow::sender<Envelope<T>>&>(*seq_) : from_;
  }

 private:
  tbb::flow::sender<Envelope<T>>& from_;
  std::optional<tbb::flow::sequencer_node<Envelope<T>>> seq_;
};

}  // namespace sluice::detail
