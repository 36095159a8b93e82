// Bringing flows together: merge (N flows of one type into one) and join (the branches
// of a tee, one output per source item).
//
//   auto [left, right] = sluice::from("ids", ids).tee<2>("both");
//   auto sizes = left.map("size", size_of, {.concurrency = 4});
//   auto hashes = right.async_map<Hash>("hash", hash_op, {.max_in_flight = 64});
//   sluice::join("size+hash", [](Size s, Hash h) { return Row{s, h}; }, sizes, hashes)
//       .sink("store", store)
//       .run();
//
//   auto both = sluice::merge("mixed", sluice::from("a", a), sluice::from("b", b));
//
// Flows from different sources may be merged: their graphs become one, run together,
// and each source keeps its own max_in_flight. See docs/architecture.md for what an
// item's outcome is when its copies go different ways.
#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "sluice/detail/join_node.hpp"
#include "sluice/detail/merge_node.hpp"
#include "sluice/flow.hpp"

namespace sluice {

namespace detail {
template <class F>
struct IsFlow : std::false_type {};
template <class T>
struct IsFlow<Flow<T>> : std::true_type {};

/// One graph holding every flow's nodes; returns it and the flows' node indices there.
template <class... Fs>
std::pair<std::shared_ptr<GraphCell>, std::vector<std::size_t>> one_graph(const Fs&... flows) {
  std::shared_ptr<GraphCell> cell;
  (
      [&](const auto& f) {
        if (!cell) {
          cell = f.cell();
        } else {
          cell->spec->absorb(*f.cell()->spec);
        }
      }(flows),
      ...);
  // Read the indices after every absorb: absorbing moves the absorbed handles' offsets.
  return {cell, std::vector<std::size_t>{flows.node()...}};
}
}  // namespace detail

/// The items of every flow, in the order they arrive (each an ordering domain of its
/// own, so there is no other order to keep). Flows of separate sources run together.
template <class First, class... More>
auto merge(std::string name, const First& first, const More&... more) {
  static_assert(detail::IsFlow<First>::value, "sluice::merge: the inputs must be sluice::Flow<T>");
  using T = typename First::value_type;
  static_assert((std::is_same_v<First, More> && ...),
                "sluice::merge: every flow must carry the same type (Flow<T>::value_type)");
  static_assert(sizeof...(More) >= 1, "sluice::merge: merge at least two flows");
  auto [cell, nodes] = detail::one_graph(first, more...);
  std::size_t id = cell->spec->add(std::make_shared<detail::MergeSpec<T>>(name, nodes.size()), nodes);
  return Flow<T>(cell, id - cell->offset);
}

/// The branches of one tee brought back together: `combine(a, b, ...)` per source item,
/// once every branch has its copy. A copy filtered or failed in its branch settles the
/// item at once (filtered or failed), without waiting for the others. Between the tee
/// and the join only map, filter and async_map may stand (one output per item).
template <class Combine, class... Ts>
auto join(std::string name, Combine combine, const Flow<Ts>&... flows) {
  static_assert(sizeof...(Ts) >= 2, "sluice::join: join at least two flows");
  static_assert(std::is_invocable_v<Combine&, Ts&&...>,
                "sluice::join: the combine function cannot be called with the flows' value types "
                "(in the order the flows are given)");
  using R = std::remove_cvref_t<std::invoke_result_t<Combine&, Ts&&...>>;
  static_assert(!std::is_void_v<R>, "sluice::join: the combine function returns void");
  auto [cell, nodes] = detail::one_graph(flows...);
  cell->spec->common_tee(name, nodes);
  std::size_t id = cell->spec->add(
      std::make_shared<detail::JoinSpec<R, Combine, Ts...>>(name, std::move(combine), StageOptions{}),
      nodes);
  return Flow<R>(cell, id - cell->offset);
}

/// join() into a std::tuple of the branches' values.
template <class... Ts>
auto zip(std::string name, const Flow<Ts>&... flows) {
  return join(
      std::move(name), [](Ts&&... v) { return std::tuple<Ts...>(std::move(v)...); }, flows...);
}

}  // namespace sluice
