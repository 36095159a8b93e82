// Results gathered to one rank: all of them, or in the input's order.
//
//   std::vector<std::pair<std::uint64_t, Row>> mine;        // (position in the input, row)
//   ... a pipeline over this rank's Shard fills `mine` ...
//   std::vector<Row> all = sluice::mpi::gather_ordered(world, std::move(mine));
//   if (world.is_root()) write(all);                          // rows 0, 1, 2, ... n-1
//
// Every rank must call the same gather (a collective). The root gets the result; the other
// ranks get an empty vector. Byte counts travel as 64-bit values and the bytes in pieces,
// so a rank's share may exceed MPI's 2 GiB message limit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sluice/mpi/codec.hpp"
#include "sluice/mpi/world.hpp"

namespace sluice::mpi {

/// Every rank's bytes, at `root` (indexed by rank; empty elsewhere).
std::vector<Bytes> gather_bytes(const World& world, const Bytes& mine, int root = 0);

/// `mine` from every rank, at `root`, concatenated in rank order.
template <class T>
std::vector<T> gather(const World& world, const std::vector<T>& mine, int root = 0) {
  std::vector<T> all;
  for (const Bytes& b : gather_bytes(world, encode(mine), root)) {
    auto part = decode<std::vector<T>>(b);
    all.insert(all.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  return all;
}

/// Items tagged with their position in the whole input, gathered to `root` in position
/// order. The positions must be distinct (each item of the input ended on one rank):
/// std::runtime_error names a position that two ranks both sent.
template <class T>
std::vector<T> gather_ordered(const World& world, std::vector<std::pair<std::uint64_t, T>> mine,
                              int root = 0) {
  auto tagged = gather(world, mine, root);
  std::sort(tagged.begin(), tagged.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<T> out;
  out.reserve(tagged.size());
  for (std::size_t i = 0; i < tagged.size(); ++i) {
    if (i > 0 && tagged[i].first == tagged[i - 1].first) {
      throw std::runtime_error("sluice::mpi::gather_ordered: position " +
                               std::to_string(tagged[i].first) + " came from two ranks");
    }
    out.push_back(std::move(tagged[i].second));
  }
  return out;
}

}  // namespace sluice::mpi
