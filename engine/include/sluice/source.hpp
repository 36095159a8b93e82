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
// A range source restarts from its beginning on every run. A generator is copied for
// each run; a generator that captures state by reference continues where it stopped.
// The source runs serially; a generator that blocks (reads a file) holds one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>

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

}  // namespace sluice
