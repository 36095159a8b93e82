// Flow<T>: the builder. Each call adds a stage and returns the flow of its output type.
//
//   auto batches = sluice::from("paths", paths)
//       .map("read", read_file, {.concurrency = 4})                       // T -> U
//       .filter("non-empty", [](const Bytes& b) { return !b.empty(); })  // keep or drop
//       .flat_map("split", split_records, {.concurrency = 2})            // T -> 0..n U
//       .async_map<Response>("fetch", fetch_op, {.max_in_flight = 100})  // op(T, Completion<U>)
//       .batch("batch", 32)                                              // T -> std::vector<T>
//       .unbatch("unbatch");                                             // std::vector<T> -> T
//   sluice::Report r = batches.sink("store", store).run();
//
// A stage's function must accept the previous stage's output; mismatches stop the
// build with a static_assert naming the stage kind. The builder records a graph: a flow
// feeds one stage, unless it is split on purpose with tee() (every item to each branch)
// or route() (each item to one), and flows come together with sluice::merge and
// sluice::join (graph.hpp).
#pragma once

#include <array>
#include <concepts>
#include <memory>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/completion.hpp"
#include "sluice/detail/async_node.hpp"
#include "sluice/detail/batch_node.hpp"
#include "sluice/detail/flat_map_node.hpp"
#include "sluice/detail/map_node.hpp"
#include "sluice/detail/route_node.hpp"
#include "sluice/detail/sink_node.hpp"
#include "sluice/detail/tee_node.hpp"
#include "sluice/options.hpp"

namespace sluice {

class Pipeline;
template <class T>
class Consumer;

namespace detail {
template <class Op>
concept HasOutputType = requires {
  typename Op::output_type;
};
/// A stage written against the stage interface (sluice::custom_stage): it names its
/// output for an input T and builds its own spec.
template <class Stage, class T>
concept StageFor = requires(Stage&& s) {
  typename std::remove_cvref_t<Stage>::template output_type<T>;
  { std::move(s).template make_spec<T>() } -> std::same_as<std::unique_ptr<NodeSpec>>;
};
}  // namespace detail

template <class T>
class Flow {
 public:
  using value_type = T;

  /// A flow from a new graph whose first piece is `source` (see sluice::from).
  static Flow start(std::unique_ptr<detail::NodeSpec> source) {
    auto cell = detail::PipelineSpec::create();
    std::size_t id = cell->spec->add(std::move(source), {});
    return Flow(std::move(cell), id);
  }

  /// Applies `fn(T) -> U` to every item, with up to `concurrency` calls at once.
  template <class Fn>
  auto map(std::string name, Fn fn, StageOptions options = {}) const {
    static_assert(std::is_invocable_v<Fn&, T&&>,
                  "sluice::map: the function cannot be called with the previous stage's output "
                  "type (Flow<T>::value_type)");
    using U = std::remove_cvref_t<std::invoke_result_t<Fn&, T&&>>;
    static_assert(!std::is_void_v<U>,
                  "sluice::map: the function returns void; use sink() to end a pipeline");
    using Body = detail::MapBody<T, U, Fn>;
    return add<U>(std::make_unique<detail::OneToOneSpec<T, U, Body>>(
        std::move(name), "map", Body{std::move(fn)}, std::move(options)));
  }

  /// Keeps the items for which `pred(const T&)` is true; the others count as filtered.
  template <class Pred>
  Flow<T> filter(std::string name, Pred pred, StageOptions options = {}) const {
    static_assert(std::is_invocable_v<Pred&, const T&>,
                  "sluice::filter: the predicate cannot be called with const T& of the previous "
                  "stage's output type");
    static_assert(std::is_convertible_v<std::invoke_result_t<Pred&, const T&>, bool>,
                  "sluice::filter: the predicate must return something convertible to bool");
    using Body = detail::FilterBody<T, Pred>;
    return add<T>(std::make_unique<detail::OneToOneSpec<T, T, Body>>(
        std::move(name), "filter", Body{std::move(pred)}, std::move(options)));
  }

  /// `fn(T)` returns a range of U (a vector, a view, ...): zero or many items out.
  template <class Fn>
  auto flat_map(std::string name, Fn fn, StageOptions options = {}) const {
    static_assert(std::is_invocable_v<Fn&, T&&>,
                  "sluice::flat_map: the function cannot be called with the previous stage's "
                  "output type");
    using R = std::invoke_result_t<Fn&, T&&>;
    static_assert(std::ranges::input_range<R>,
                  "sluice::flat_map: the function must return a range (e.g. std::vector<U>)");
    using U = std::remove_cvref_t<std::ranges::range_value_t<R>>;
    using Expand = detail::ExpandWith<T, U, Fn>;
    return add<U>(std::make_unique<detail::ExpandSpec<T, U, Expand>>(
        std::move(name), "flat_map", Expand{std::move(fn)}, std::move(options),
        detail::WeightSplit::first));
  }

  /// Starts `op(T, Completion<Out>)` per item; the operation completes on any thread.
  /// Out is given explicitly or taken from Op::output_type.
  template <class Out = void, class Op>
  auto async_map(std::string name, Op op, AsyncOptions options = {}) const {
    using O = typename ResolveOut<Out, Op>::type;
    static_assert(std::is_invocable_v<Op&, T&&, Completion<O>>,
                  "sluice::async_map: the operation must be callable as op(T, Completion<Out>) "
                  "with T the previous stage's output type");
    return add<O>(std::make_unique<detail::AsyncSpec<T, O, Op>>(std::move(name), std::move(op),
                                                                std::move(options)));
  }

  /// Groups items into std::vector<T> of `size` (the last one may be smaller).
  Flow<std::vector<T>> batch(std::string name, std::size_t size, BatchOptions options = {}) const {
    return add<std::vector<T>>(
        std::make_unique<detail::BatchSpec<T>>(std::move(name), size, options));
  }

  /// Splits batches (any std::vector) back into items.
  auto unbatch(std::string name, StageOptions options = {}) const {
    static_assert(
        requires { typename T::value_type; } && std::ranges::range<T>,
        "sluice::unbatch: the previous stage's output must be a std::vector");
    using U = typename T::value_type;
    using Expand = detail::ExpandWith<T, U, Identity>;
    return add<U>(std::make_unique<detail::ExpandSpec<T, U, Expand>>(
        std::move(name), "unbatch", Expand{Identity{}}, std::move(options),
        detail::WeightSplit::even));
  }

  /// N branches, each receiving every item (a copy of it: T must be copyable). The item
  /// counts as delivered when any copy is delivered, failed when any copy fails, and
  /// holds its place in max_in_flight until its last copy ends.
  ///   auto [thumbs, stats] = images.tee<2>("fan-out");
  template <std::size_t N>
  std::array<Flow<T>, N> tee(std::string name) const {
    static_assert(std::is_copy_constructible_v<T>,
                  "sluice::tee: the items are not copyable (a move-only type such as a device "
                  "buffer cannot go down two branches); route() it, or tee a copyable handle");
    static_assert(N >= 2, "sluice::tee: a tee needs at least 2 branches");
    Flow<T> core = add<T>(std::make_unique<detail::TeeSpec<T>>(name, N));
    return core.template branches<N>([&](std::size_t i) {
      return std::make_unique<detail::TeeBranchSpec<T>>(name + "[" + std::to_string(i) + "]");
    });
  }

  /// N branches; `fn(const T&)` gives each item's branch index (an integer, or bool for
  /// two branches: true is branch 0). An index outside [0, N) filters the item.
  ///   auto [small, large] = files.route<2>("by-size", [](const File& f) { return f.size > 1 << 20;
  ///   });
  template <std::size_t N, class Fn>
  std::array<Flow<T>, N> route(std::string name, Fn fn, StageOptions options = {}) const {
    static_assert(N >= 1, "sluice::route: a route needs at least 1 branch");
    static_assert(std::is_invocable_v<Fn&, const T&>,
                  "sluice::route: the function cannot be called with const T& of the previous "
                  "stage's output type");
    using R = std::remove_cvref_t<std::invoke_result_t<Fn&, const T&>>;
    static_assert(std::is_integral_v<R>,
                  "sluice::route: the function must return a branch index (an integer, or bool)");
    Flow<T> core = add<T>(
        std::make_unique<detail::RouteSpec<T, N, Fn>>(name, std::move(fn), std::move(options)));
    return core.template branches<N>([&](std::size_t i) {
      return std::make_unique<detail::RouteBranchSpec<T, N, Fn>>(
          name + "[" + std::to_string(i) + "]", i);
    });
  }

  /// Two branches: the items for which `pred` is true, and the others.
  ///   auto [valid, invalid] = rows.partition("valid?", [](const Row& r) { return r.ok(); });
  template <class Pred>
  std::array<Flow<T>, 2> partition(std::string name, Pred pred, StageOptions options = {}) const {
    static_assert(std::is_invocable_r_v<bool, Pred&, const T&>,
                  "sluice::partition: the predicate must take const T& and return bool");
    auto fn = [p = std::move(pred)](const T& v) mutable -> bool {
      return static_cast<bool>(std::invoke(p, v));
    };
    return route<2>(std::move(name), std::move(fn), std::move(options));
  }

  /// Applies a reusable piece of graph: `segment(flow)` returns the flow it ends in.
  ///   auto clean = [](sluice::Flow<Row> f) { return f.filter("valid", valid).map("fix", fix); };
  ///   a.apply(clean).sink(...);  b.apply(clean).sink(...);
  template <class Segment>
  auto apply(Segment&& segment) const {
    static_assert(std::is_invocable_v<Segment&, const Flow<T>&>,
                  "sluice::apply: the segment must be callable with a Flow<T>");
    return std::invoke(segment, *this);
  }

  /// Adds a stage written against the stage interface (sluice/stage_api.hpp), e.g.
  ///   flow.then(sluice::custom_stage("dedupe", [] { return FirstOfKey{}; }));
  ///   flow.then(sluice::window::tumbling<Stats>("per-10s", sluice::window::every(10s), key, add));
  template <class Stage>
  auto then(Stage stage) const {
    static_assert(detail::StageFor<Stage, T>,
                  "sluice::then: the stage cannot take the previous stage's output type (it "
                  "must come from sluice::custom_stage, whose stage takes Flow<T>::value_type)");
    using U = typename Stage::template output_type<T>;
    return add<U>(std::move(stage).template make_spec<T>());
  }

  /// Ends the pipeline in `fn(T)`, called serially.
  template <class Fn>
  Pipeline sink(std::string name, Fn fn, SinkOptions options = {}) const;

  /// Starts a run whose items the calling thread takes (see Consumer).
  Consumer<T> consume(const RunOptions& run_options = {}, SinkOptions options = {}) const;

  /// Graphviz text of the graph so far.
  std::string to_dot() const { return spec()->to_dot(); }

  /// The graph this flow belongs to, and its node there (for merge and join).
  const std::shared_ptr<detail::GraphCell>& cell() const noexcept { return cell_; }
  std::size_t node() const noexcept { return cell_->offset + id_; }

 private:
  template <class>
  friend class Flow;

  struct Identity {
    T operator()(T&& v) const { return std::move(v); }
  };
  template <class Op, bool = detail::HasOutputType<Op>>
  struct OutputOf {
    static_assert(detail::HasOutputType<Op>,
                  "sluice::async_map: name the output type, async_map<Out>(...), or give the "
                  "operation a member `using output_type = Out;`");
    using type = void;
  };
  template <class Op>
  struct OutputOf<Op, true> {
    using type = typename Op::output_type;
  };
  template <class Out, class Op>
  struct ResolveOut {
    using type = Out;
  };
  template <class Op>
  struct ResolveOut<void, Op> : OutputOf<Op> {};

  template <class U>
  Flow<U> add(std::unique_ptr<detail::NodeSpec> node) const {
    std::size_t id = spec()->add(std::move(node), {this->node()});
    return Flow<U>(cell_, id - cell_->offset);
  }

  template <std::size_t N, class MakeBranch>
  std::array<Flow<T>, N> branches(MakeBranch&& make) const {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<Flow<T>, N>{add<T>(make(I))...};
    }
    (std::make_index_sequence<N>{});
  }

  const std::shared_ptr<detail::PipelineSpec>& spec() const noexcept { return cell_->spec; }

 public:
  /// A handle on node `id` of the graph behind `cell` (merge and join make these).
  Flow(std::shared_ptr<detail::GraphCell> cell, std::size_t id) : cell_(std::move(cell)), id_(id) {}

 private:
  std::shared_ptr<detail::GraphCell> cell_;
  std::size_t id_;  // relative to cell_->offset
};

}  // namespace sluice

#include "sluice/consumer.hpp"
#include "sluice/pipeline.hpp"

namespace sluice {

template <class T>
template <class Fn>
Pipeline Flow<T>::sink(std::string name, Fn fn, SinkOptions options) const {
  static_assert(std::is_invocable_v<Fn&, T&&>,
                "sluice::sink: the callback cannot be called with the previous stage's output "
                "type");
  spec()->add(
      std::make_unique<detail::SinkSpec<T, Fn>>(std::move(name), std::move(fn), std::move(options)),
      {node()});
  return Pipeline(spec());
}

template <class T>
Consumer<T> Flow<T>::consume(const RunOptions& run_options, SinkOptions options) const {
  // The hand-off end is added once, so a flow can be consumed run after run (epochs).
  if (!spec()->ends_in_consumer(node())) {
    spec()->add(std::make_unique<detail::HandOffSpec<T>>("consumer", std::move(options)), {node()});
  }
  return Consumer<T>(spec(), run_options);
}

}  // namespace sluice
