// Sources: where a pipeline's items come from.
//
//   sluice::from("ids", std::vector<int>{1, 2, 3})              // a container (copied in)
//   sluice::from("ids", std::views::iota(0, 1'000'000))         // any range
//   sluice::generate("lines", [&]() -> std::optional<std::string> {
//     std::string s;
//     if (!std::getline(in, s)) return std::nullopt;             // nullopt: the end
//     return s;
//   })
//   sluice::from("msgs", std::views::iota(0), {.items_per_second = 100, .limit = 1000})
//
//   sluice::interleave("ab", a, b)                                  // a0 b0 a1 b1 ...
//   sluice::sample("mix", {0.7, 0.3}, a, b, {.seed = 7})             // like tf.data's
//                                                                    // sample_from_datasets
//
// A range source restarts from its beginning on every run. A generator is copied for
// each run; a generator that captures state by reference continues where it stopped.
// The source runs serially; a generator that blocks (reads a file) holds one thread.
#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <tuple>
#include <memory>
#include <optional>
#include <random>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "sluice/detail/source_node.hpp"
#include "sluice/flow.hpp"

namespace sluice {

/// A source over a range or container (kept alive by the pipeline).
template <std::ranges::input_range R>
auto from(std::string name, R&& range, SourceOptions options = {}) {
  using Stored = std::remove_cvref_t<R>;
  using T = std::remove_cvref_t<std::ranges::range_value_t<Stored>>;
  auto stored = std::make_shared<Stored>(std::forward<R>(range));
  detail::PullerFactory<T> make = [stored]() -> detail::Puller<T> {
    auto it = std::make_shared<std::ranges::iterator_t<Stored>>(std::ranges::begin(*stored));
    return [stored, it]() -> std::optional<T> {
      if (*it == std::ranges::end(*stored)) return std::nullopt;
      std::optional<T> v(**it);
      ++*it;
      return v;
    };
  };
  return Flow<T>::start(
      std::make_unique<detail::SourceSpec<T>>(std::move(name), std::move(make), options));
}

/// A source calling `gen()` until it returns std::nullopt.
template <class Gen>
requires std::invocable<Gen&>
auto generate(std::string name, Gen gen, SourceOptions options = {}) {
  using R = std::invoke_result_t<Gen&>;
  static_assert(
      requires(R r) {
        r.has_value();
        *r;
      },
      "sluice::generate: the generator must return std::optional<T> (nullopt ends it)");
  using T = std::remove_cvref_t<decltype(*std::declval<R>())>;
  detail::PullerFactory<T> make = [gen]() -> detail::Puller<T> {
    return [g = gen]() mutable -> std::optional<T> { return g(); };
  };
  return Flow<T>::start(
      std::make_unique<detail::SourceSpec<T>>(std::move(name), std::move(make), options));
}

namespace detail {
/// A puller over a range kept alive by `stored`, from its beginning.
template <class Stored, class T>
Puller<T> range_puller(std::shared_ptr<Stored> stored) {
  auto it = std::make_shared<std::ranges::iterator_t<Stored>>(std::ranges::begin(*stored));
  return [stored, it]() -> std::optional<T> {
    if (*it == std::ranges::end(*stored)) return std::nullopt;
    std::optional<T> v(**it);
    ++*it;
    return v;
  };
}

template <class R>
using RangeValue = std::remove_cvref_t<std::ranges::range_value_t<std::remove_cvref_t<R>>>;

/// Pulls from several pullers: the next one by `pick` among those not yet ended.
template <class T, class Pick>
Puller<T> mixed_puller(std::vector<Puller<T>> inputs, Pick pick) {
  auto state = std::make_shared<std::pair<std::vector<Puller<T>>, std::vector<bool>>>(
      std::move(inputs), std::vector<bool>());
  state->second.assign(state->first.size(), true);
  return [state, pick]() mutable -> std::optional<T> {
    auto& [pullers, live] = *state;
    while (std::find(live.begin(), live.end(), true) != live.end()) {
      const std::size_t i = pick(live);
      if (auto v = pullers[i]()) return v;
      live[i] = false;  // this input has ended: the others go on
    }
    return std::nullopt;
  };
}

template <class First, class... More>
auto mixed_source(std::string name, SourceOptions options,
                  std::function<std::function<std::size_t(const std::vector<bool>&)>()> make_pick,
                  First&& first, More&&... more) {
  using T = RangeValue<First>;
  static_assert((std::is_same_v<T, RangeValue<More>> && ...),
                "sluice::interleave / sluice::sample: every range must have the same value type");
  auto keep = [](auto&& r) {
    using Stored = std::remove_cvref_t<decltype(r)>;
    return std::make_shared<Stored>(std::forward<decltype(r)>(r));
  };
  auto stores = std::make_tuple(keep(std::forward<First>(first)), keep(std::forward<More>(more))...);
  PullerFactory<T> make = [stores, make_pick]() -> Puller<T> {
    std::vector<Puller<T>> inputs;
    std::apply(
        [&](const auto&... s) {
          (inputs.push_back(
               range_puller<typename std::remove_cvref_t<decltype(s)>::element_type, T>(s)),
           ...);
        },
        stores);
    return mixed_puller<T>(std::move(inputs), make_pick());
  };
  return Flow<T>::start(
      std::make_unique<SourceSpec<T>>(std::move(name), std::move(make), options));
}
}  // namespace detail

/// One source over several ranges of one type, taking one item from each in turn
/// (a0 b0 a1 b1 ...); when a range ends, the others go on. Deterministic.
template <std::ranges::input_range First, std::ranges::input_range... More>
auto interleave(std::string name, First&& first, More&&... more) {
  static_assert(sizeof...(More) >= 1, "sluice::interleave: give at least two ranges");
  auto make_pick = [] {
    return std::function<std::size_t(const std::vector<bool>&)>(
        [next = std::size_t{0}](const std::vector<bool>& live) mutable {
          while (!live[next % live.size()]) ++next;
          return next++ % live.size();
        });
  };
  return detail::mixed_source(std::move(name), {}, make_pick, std::forward<First>(first),
                              std::forward<More>(more)...);
}

struct SampleOptions {
  /// The random sequence: the same seed gives the same mix on every run.
  std::uint64_t seed = 0;
  SourceOptions source{};
};

/// One source over several ranges of one type, each next item taken from a range chosen
/// with the given weights (0.7 and 0.3: about 70% from the first), like tf.data's
/// sample_from_datasets; when a range ends, the others go on with their weights (a range
/// of weight 0 is drawn only once every other has ended).
template <std::ranges::input_range First, std::ranges::input_range... More>
auto sample(std::string name, std::vector<double> weights, First&& first, More&&... more) {
  return sample(std::move(name), std::move(weights), SampleOptions{}, std::forward<First>(first),
                std::forward<More>(more)...);
}

template <std::ranges::input_range First, std::ranges::input_range... More>
auto sample(std::string name, std::vector<double> weights, SampleOptions options, First&& first,
            More&&... more) {
  static_assert(sizeof...(More) >= 1, "sluice::sample: give at least two ranges");
  if (weights.size() != 1 + sizeof...(More)) {
    throw std::invalid_argument("sluice: sample '" + name + "': " +
                                std::to_string(weights.size()) + " weights for " +
                                std::to_string(1 + sizeof...(More)) + " ranges");
  }
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || w == std::numeric_limits<double>::infinity()) {
      throw std::invalid_argument("sluice: sample '" + name +
                                  "': weights must be finite and not negative");
    }
    total += w;
  }
  if (total <= 0) {
    throw std::invalid_argument("sluice: sample '" + name + "': the weights add up to 0");
  }
  auto make_pick = [weights, seed = options.seed] {
    return std::function<std::size_t(const std::vector<bool>&)>(
        [weights, rng = std::mt19937_64(seed)](const std::vector<bool>& live) mutable {
          std::vector<double> w = weights;
          for (std::size_t i = 0; i < w.size(); ++i) {
            if (!live[i]) w[i] = 0;
          }
          if (std::all_of(w.begin(), w.end(), [](double x) { return x == 0; })) {
            // Only ranges of weight 0 are left: take them in order.
            for (std::size_t i = 0; i < live.size(); ++i) {
              if (live[i]) return i;
            }
          }
          return static_cast<std::size_t>(std::discrete_distribution<std::size_t>(
              w.begin(), w.end())(rng));
        });
  };
  return detail::mixed_source(std::move(name), options.source, make_pick,
                              std::forward<First>(first), std::forward<More>(more)...);
}

}  // namespace sluice
