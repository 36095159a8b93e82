// Bringing flows together: merge (N flows of one type into one), join (the branches
// of a tee, one output per source item) and join_by_key (two independent flows matched
// on a key, with a bounded wait for partners).
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

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/detail/join_node.hpp"
#include "sluice/detail/keyed_join_node.hpp"
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
  std::size_t id =
      cell->spec->add(std::make_shared<detail::MergeSpec<T>>(name, nodes.size()), nodes);
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
  std::size_t id = cell->spec->add(std::make_shared<detail::JoinSpec<R, Combine, Ts...>>(
                                       name, std::move(combine), StageOptions{}),
                                   nodes);
  return Flow<R>(cell, id - cell->offset);
}

namespace detail {
template <class K>
concept HashableKey = requires(const K& k) {
  { std::hash<K>{}(k) } -> std::convertible_to<std::size_t>;
  { k == k } -> std::convertible_to<bool>;
};
/// std::invoke_result_t when F can be called with Args, else Fallback: the caller's
/// static_assert is then the only error the compiler reports.
template <class Fallback, class F, class... Args>
using ResultOr =
    typename std::conditional_t<std::is_invocable_v<F, Args...>, std::invoke_result<F, Args...>,
                                std::type_identity<Fallback>>::type;
}  // namespace detail

/// Two flows that need not share anything (different sources, branches of a route, ...)
/// matched on a key: `combine(a_value, b_value)` for each item of `a` and item of `b`
/// whose keys are equal (`key_a(const A&) == key_b(const B&)`; the keys need std::hash
/// and ==, and are copied once per waiting item).
///
///   auto orders = sluice::from("orders", load_orders());
///   auto payments = sluice::from("payments", load_payments());
///   sluice::join_by_key("paid", [](const Order& o) { return o.id; },
///                       [](const Payment& p) { return p.order_id; },
///                       [](Order o, Payment p) { return Paid{o, p}; }, orders, payments,
///                       {.max_waiting = 1000})
///       .sink("store", store)
///       .run();
///
/// Matching is one-to-one: an item pairs with the oldest item of the other side that
/// waits with an equal key, and each item is matched at most once (duplicate keys pair
/// up first-in, first-out). At most `opts.max_waiting` unmatched items wait per side; one
/// more evicts the oldest of that side, and at the end of input everything still waiting
/// is evicted. An evicted item is passed to `on_unmatched(value, sluice::Unmatched)` if
/// given (called with `const A&` and with `const B&`; one call at a time), then ends
/// filtered or, with `.unmatched = sluice::UnmatchedOutcome::failed`, fails with a
/// NoPartnerError under the run's error policy. The joined item stands for both inputs:
/// its outcome (delivered, filtered, failed) is theirs, and each keeps its source's slot
/// until it ends. Waiting items keep their slots too, so a run needs max_in_flight above
/// 2 * max_waiting (see docs/architecture.md); the output is unordered (a new ordering
/// domain: order is the order of matching).
template <class KeyA, class KeyB, class Combine, class A, class B,
          class OnUnmatched = detail::NoUnmatchedHook>
auto join_by_key(std::string name, KeyA key_a, KeyB key_b, Combine combine, const Flow<A>& a,
                 const Flow<B>& b, KeyedJoinOptions opts = {}, OnUnmatched on_unmatched = {}) {
  static_assert(std::is_invocable_v<KeyA&, const A&>,
                "sluice::join_by_key: key_a cannot be called with the first flow's value type "
                "(as const A&)");
  static_assert(std::is_invocable_v<KeyB&, const B&>,
                "sluice::join_by_key: key_b cannot be called with the second flow's value type "
                "(as const B&)");
  using KA = std::remove_cvref_t<detail::ResultOr<int, KeyA&, const A&>>;
  using KB = std::remove_cvref_t<detail::ResultOr<int, KeyB&, const B&>>;
  static_assert(std::is_same_v<KA, KB>,
                "sluice::join_by_key: key_a and key_b must return the same key type");
  static_assert(detail::HashableKey<KA> && std::is_copy_constructible_v<KA>,
                "sluice::join_by_key: the key type needs std::hash<Key>, == and a copy");
  static_assert(std::is_invocable_v<Combine&, A&&, B&&>,
                "sluice::join_by_key: the combine function cannot be called with (the first "
                "flow's value, the second flow's value)");
  using R = std::remove_cvref_t<detail::ResultOr<int, Combine&, A&&, B&&>>;
  static_assert(!std::is_void_v<R>, "sluice::join_by_key: the combine function returns void");
  static_assert(std::is_same_v<OnUnmatched, detail::NoUnmatchedHook> ||
                    (std::is_invocable_v<OnUnmatched&, const A&, const Unmatched&> &&
                     std::is_invocable_v<OnUnmatched&, const B&, const Unmatched&>),
                "sluice::join_by_key: on_unmatched must take (const A&, sluice::Unmatched) and "
                "(const B&, sluice::Unmatched); a generic lambda does");
  constexpr bool usable = std::is_invocable_v<KeyA&, const A&> &&
                          std::is_invocable_v<KeyB&, const B&> && std::is_same_v<KA, KB> &&
                          detail::HashableKey<KA> && std::is_copy_constructible_v<KA> &&
                          std::is_invocable_v<Combine&, A&&, B&&> && !std::is_void_v<R> &&
                          (std::is_same_v<OnUnmatched, detail::NoUnmatchedHook> ||
                           (std::is_invocable_v<OnUnmatched&, const A&, const Unmatched&> &&
                            std::is_invocable_v<OnUnmatched&, const B&, const Unmatched&>));
  if constexpr (!usable) {
    return Flow<R>(nullptr, 0);  // not compiled into anything: a static_assert above failed
  } else {
    auto [cell, nodes] = detail::one_graph(a, b);
    std::size_t id = cell->spec->add(
        std::make_shared<detail::KeyedJoinSpec<R, KA, A, B, KeyA, KeyB, Combine, OnUnmatched>>(
            name, std::move(key_a), std::move(key_b), std::move(combine), std::move(on_unmatched),
            opts),
        nodes);
    return Flow<R>(cell, id - cell->offset);
  }
}

/// join() into a std::tuple of the branches' values.
template <class... Ts>
auto zip(std::string name, const Flow<Ts>&... flows) {
  return join(
      std::move(name), [](Ts&&... v) { return std::tuple<Ts...>(std::move(v)...); }, flows...);
}

}  // namespace sluice
