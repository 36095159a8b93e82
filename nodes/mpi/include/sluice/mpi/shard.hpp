// Shard: the part of an input of n items that one rank takes, so that the union over
// ranks is the input exactly once and every rank can compute its part without asking.
//
//   sluice::mpi::Shard rows(n, world);                           // block: a run of rows
//   sluice::from("rows", rows.indices()) ...                    // the source of this rank
//   sluice::mpi::Shard mine(n, world, sluice::mpi::Sharding::strided);   // i % ranks == rank
//   auto files = sluice::mpi::shard_of(all_files, world);        // this rank's files
//   auto lines = sluice::mpi::strided(world, read_next_line);    // a generator's share
//
// Block keeps neighbours together (the first n % ranks ranks take one more); strided deals
// items round-robin, which balances inputs whose cost grows or shrinks along them (the
// rows of a triangular matrix). Both are arithmetic runs: first, first + step, ...
#pragma once

#include <cstdint>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/mpi/world.hpp"

namespace sluice::mpi {

enum class Sharding { block, strided };

class Shard {
 public:
  /// Rank `rank` of `ranks`'s share of [0, n).
  Shard(std::uint64_t n, int rank, int ranks, Sharding how = Sharding::block) : n_(n) {
    if (ranks < 1 || rank < 0 || rank >= ranks) {
      throw std::invalid_argument("sluice::mpi::Shard: rank " + std::to_string(rank) +
                                  " is not one of " + std::to_string(ranks) + " ranks");
    }
    const auto r = static_cast<std::uint64_t>(rank);
    const auto size = static_cast<std::uint64_t>(ranks);
    if (how == Sharding::block) {
      const std::uint64_t base = n / size;
      const std::uint64_t extra = n % size;
      first_ = r * base + std::min(r, extra);
      count_ = base + (r < extra ? 1 : 0);
      step_ = 1;
    } else {
      first_ = r;
      count_ = n > r ? (n - r + size - 1) / size : 0;
      step_ = size;
    }
  }
  Shard(std::uint64_t n, const World& world, Sharding how = Sharding::block)
      : Shard(n, world.rank(), world.size(), how) {}

  /// Items in this shard.
  std::uint64_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  /// The whole input's size.
  std::uint64_t input_size() const noexcept { return n_; }
  /// The k-th index of this shard (k < size()).
  std::uint64_t at(std::uint64_t k) const noexcept { return first_ + k * step_; }
  bool contains(std::uint64_t i) const noexcept {
    return i < n_ && i >= first_ && (i - first_) % step_ == 0 && (i - first_) / step_ < count_;
  }
  /// This shard's indices into the input, ascending: a range a source can take.
  auto indices() const {
    return std::views::iota(std::uint64_t{0}, count_) |
           std::views::transform(
               [first = first_, step = step_](std::uint64_t k) { return first + k * step; });
  }

 private:
  std::uint64_t n_ = 0;
  std::uint64_t first_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t step_ = 1;
};

/// This rank's elements of `all` (copied), in their order in `all`.
template <class T>
std::vector<T> shard_of(const std::vector<T>& all, const World& world,
                        Sharding how = Sharding::block) {
  const Shard s(all.size(), world, how);
  std::vector<T> mine;
  mine.reserve(s.size());
  for (std::uint64_t i : s.indices()) mine.push_back(all[i]);
  return mine;
}

/// This rank's share of a generator's items, dealt round-robin: every rank calls the
/// generator for every item (it must give the same items on every rank) and keeps
/// those whose position is its own. Only strided sharding fits a generator: its length
/// is not known in advance.
template <class Gen>
auto strided(const World& world, Gen gen) {
  return [gen = std::move(gen), rank = static_cast<std::uint64_t>(world.rank()),
          ranks = static_cast<std::uint64_t>(world.size()), next = std::uint64_t{0}]() mutable {
    for (;;) {
      auto item = gen();
      if (!item.has_value()) return item;
      if (next++ % ranks == rank) return item;
    }
  };
}

}  // namespace sluice::mpi
