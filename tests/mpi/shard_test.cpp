// Shards: every index of the input belongs to exactly one rank's shard, for uneven sizes,
// for more ranks than items, and for both kinds of sharding.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include <sluice/mpi/shard.hpp>

namespace {

using sluice::mpi::Shard;
using sluice::mpi::Sharding;

TEST(Shard, EveryIndexBelongsToExactlyOneRank) {
  for (Sharding how : {Sharding::block, Sharding::strided}) {
    for (int ranks = 1; ranks <= 6; ++ranks) {
      for (std::uint64_t n : {0u, 1u, 2u, 3u, 5u, 7u, 12u, 13u, 100u, 101u}) {
        std::vector<int> owners(n, 0);
        std::uint64_t total = 0;
        for (int r = 0; r < ranks; ++r) {
          const Shard s(n, r, ranks, how);
          total += s.size();
          std::uint64_t k = 0;
          std::optional<std::uint64_t> last;
          for (std::uint64_t i : s.indices()) {
            ASSERT_LT(i, n);
            ++owners[i];
            EXPECT_TRUE(s.contains(i));
            EXPECT_EQ(s.at(k++), i);
            if (last) {
              EXPECT_GT(i, *last) << "indices ascend";
            }
            last = i;
          }
        }
        EXPECT_EQ(total, n);
        for (std::uint64_t i = 0; i < n; ++i) {
          EXPECT_EQ(owners[i], 1) << "index " << i << " of " << n << " over " << ranks << " ranks ("
                                  << (how == Sharding::block ? "block" : "strided") << ")";
        }
      }
    }
  }
}

TEST(Shard, BlockSharesDifferByAtMostOneAndStayContiguous) {
  for (int r = 0; r < 4; ++r) {
    const Shard s(10, r, 4);
    EXPECT_EQ(s.size(), r < 2 ? 3u : 2u);
    for (std::uint64_t k = 1; k < s.size(); ++k) EXPECT_EQ(s.at(k), s.at(k - 1) + 1);
  }
}

TEST(Shard, StridedDealsRoundRobin) {
  const Shard s(10, 1, 3, Sharding::strided);
  std::vector<std::uint64_t> got;
  for (std::uint64_t i : s.indices()) got.push_back(i);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 4, 7}));
  EXPECT_FALSE(s.contains(2));
  EXPECT_FALSE(s.contains(10));
}

TEST(Shard, MoreRanksThanItemsLeavesSomeEmpty) {
  for (Sharding how : {Sharding::block, Sharding::strided}) {
    EXPECT_EQ(Shard(2, 0, 4, how).size(), 1u);
    EXPECT_EQ(Shard(2, 1, 4, how).size(), 1u);
    EXPECT_TRUE(Shard(2, 2, 4, how).empty());
    EXPECT_TRUE(Shard(2, 3, 4, how).empty());
  }
}

TEST(Shard, ARankOutsideTheWorldIsAClearError) {
  try {
    Shard(10, 4, 4);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "sluice::mpi::Shard: rank 4 is not one of 4 ranks");
  }
  EXPECT_THROW(Shard(10, 0, 0), std::invalid_argument);
  EXPECT_THROW(Shard(10, -1, 2), std::invalid_argument);
}

}  // namespace
