// sluice::mpi under mpirun: every rank runs every test (collectives must be reached on
// every rank, so checks use EXPECT, never an early return), and the process's exit code
// is the worst over ranks, so a test that fails on one rank fails the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/mpi.hpp>
#include <sluice/sluice.hpp>
#include <sluice/window.hpp>

namespace {

sluice::mpi::World* world = nullptr;

std::string square_text(std::uint64_t i) {
  return std::to_string(i) + "^2=" + std::to_string(i * i);
}

TEST(MpiWorld, ShardsOverTheWorldCoverTheInputOnce) {
  for (auto how : {sluice::mpi::Sharding::block, sluice::mpi::Sharding::strided}) {
    for (std::uint64_t n : {0u, 1u, 3u, 10u, 1001u}) {
      const sluice::mpi::Shard mine(n, *world, how);
      std::vector<std::uint64_t> indices;
      for (std::uint64_t i : mine.indices()) indices.push_back(i);
      auto all = sluice::mpi::gather(*world, indices);
      if (world->is_root()) {
        std::sort(all.begin(), all.end());
        std::vector<std::uint64_t> expected(n);
        std::iota(expected.begin(), expected.end(), 0);
        EXPECT_EQ(all, expected) << "n " << n << " over " << world->size() << " ranks";
      }
    }
  }
}

TEST(MpiWorld, APipelinePerRankGathersToWhatOneProcessMakes) {
  constexpr std::uint64_t n = 2000;
  for (auto how : {sluice::mpi::Sharding::block, sluice::mpi::Sharding::strided}) {
    const sluice::mpi::Shard mine(n, *world, how);
    std::vector<std::pair<std::uint64_t, std::string>> rows;
    const sluice::Report r =
        sluice::from("rows", mine.indices())
            .map("square", [](std::uint64_t i) { return std::make_pair(i, square_text(i)); },
                 {.concurrency = 2})
            .sink("keep",
                  [&rows](std::pair<std::uint64_t, std::string>&& row) {
                    rows.push_back(std::move(row));
                  })
            .run({.threads = 2});
    EXPECT_EQ(r.delivered, mine.size());
    const auto all = sluice::mpi::gather_ordered(*world, std::move(rows));
    if (world->is_root()) {
      ASSERT_EQ(all.size(), n);
      for (std::uint64_t i = 0; i < n; ++i) EXPECT_EQ(all[i], square_text(i)) << "row " << i;
    } else {
      EXPECT_TRUE(all.empty());
    }
  }
}

TEST(MpiWorld, TheReducedReportAddsUpOverRanks) {
  constexpr std::uint64_t n = 3000;
  const sluice::mpi::Shard mine(n, *world);
  const sluice::Report r = sluice::from("ids", mine.indices())
                               .filter("not_by_7", [](std::uint64_t i) { return i % 7 != 0; })
                               .map("fails_on_11",
                                    [](std::uint64_t i) {
                                      if (i % 11 == 0) throw std::runtime_error("eleven");
                                      return i;
                                    },
                                    {.on_error = sluice::ErrorPolicy::skip()})
                               .sink("sink", [](std::uint64_t) {})
                               .run({.threads = 2});
  const auto rows = sluice::mpi::gather_reports(*world, r);
  const sluice::Report all = sluice::mpi::reduce(*world, r);
  if (world->is_root()) {
    ASSERT_EQ(rows.size(), static_cast<std::size_t>(world->size()));
    std::uint64_t by_7 = 0;
    std::uint64_t by_11 = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (i % 7 == 0) {
        ++by_7;
      } else if (i % 11 == 0) {
        ++by_11;
      }
    }
    EXPECT_EQ(all.produced, n);
    EXPECT_EQ(all.filtered, by_7);
    EXPECT_EQ(all.failed, by_11);
    EXPECT_EQ(all.delivered, n - by_7 - by_11);
    EXPECT_TRUE(all.balanced());
    EXPECT_EQ(all.runs, static_cast<std::size_t>(world->size()));
    ASSERT_EQ(all.stages.size(), 4u);
    EXPECT_EQ(all.stages[1].filtered, by_7);
    EXPECT_EQ(all.stages[2].failed, by_11);
    std::uint64_t latencies = 0;
    for (const auto& row : rows) latencies += row.end_to_end.count;
    EXPECT_EQ(all.end_to_end.count, latencies);
  } else {
    EXPECT_TRUE(rows.empty());
    EXPECT_EQ(all.produced, r.produced);  // a rank other than the root keeps its own
  }
}

TEST(MpiWorld, AGeneratorsItemsAreDealtOverRanks) {
  constexpr int n = 101;
  auto numbers = [next = 0]() mutable -> std::optional<int> {
    if (next == n) return std::nullopt;
    return next++;
  };
  std::vector<int> mine;
  sluice::generate("numbers", sluice::mpi::strided(*world, numbers))
      .sink("keep", [&mine](int x) { mine.push_back(x); })
      .run();
  auto all = sluice::mpi::gather(*world, mine);
  if (world->is_root()) {
    std::sort(all.begin(), all.end());
    std::vector<int> expected(n);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(all, expected);
  }
}

TEST(MpiWorld, LargeSharesArriveIntact) {
  // 3 MiB per rank, in a pattern that names its rank and offset.
  std::vector<std::uint32_t> mine(3u << 18);
  for (std::size_t i = 0; i < mine.size(); ++i) {
    mine[i] =
        static_cast<std::uint32_t>(world->rank()) * 0x01000000u + static_cast<std::uint32_t>(i);
  }
  const auto all = sluice::mpi::gather(*world, mine);
  if (world->is_root()) {
    ASSERT_EQ(all.size(), mine.size() * static_cast<std::size_t>(world->size()));
    for (std::size_t k = 0; k < all.size(); ++k) {
      const auto rank = static_cast<std::uint32_t>(k / mine.size());
      const auto i = static_cast<std::uint32_t>(k % mine.size());
      if (all[k] != rank * 0x01000000u + i) {
        ADD_FAILURE() << "word " << k << " is " << all[k];
        break;
      }
    }
  }
}

TEST(MpiWorld, AGatherToAMissingRankIsAClearError) {
  // Checked before any message is sent, on every rank alike, so no rank is left waiting.
  try {
    (void)sluice::mpi::gather_bytes(*world, {}, world->size());
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "sluice::mpi::gather: root " + std::to_string(world->size()) +
                                         " is not one of " + std::to_string(world->size()) +
                                         " ranks");
  }
}

// ---- the keyed exchange ----

struct Event {
  std::uint64_t id = 0;
  std::uint32_t key = 0;
  std::uint32_t value = 0;
};

Event event_of(std::uint64_t i) {
  return Event{i, static_cast<std::uint32_t>((i * 2654435761u) % 17),
               static_cast<std::uint32_t>(i % 1000)};
}

auto owner_of_key(const sluice::mpi::World& w) {
  return sluice::mpi::by_key<Event>([](const Event& e) { return e.key; }, w);
}

TEST(MpiExchange, DeliversEveryItemOnceToTheRankThatOwnsItsKey) {
  for (std::uint64_t n : {0u, 1u, 3u, 5000u}) {  // 0, 1, 3: ranks that own or send nothing
    sluice::mpi::Exchange<Event> exchange(*world, owner_of_key(*world));
    const sluice::mpi::Shard mine(n, *world, sluice::mpi::Sharding::strided);
    std::vector<std::uint64_t> got;
    auto owner = owner_of_key(*world);
    bool all_mine = true;
    auto sending =
        sluice::from("ids", mine.indices()).map("event", event_of).apply(exchange.to_owners());
    auto receiving = sluice::generate("owned", exchange.from_ranks()).sink("keep", [&](Event e) {
      all_mine = all_mine && owner(e) == world->rank();
      got.push_back(e.id);
    });
    const auto [sent, received] = exchange.run(sending, receiving, {.threads = 2});
    EXPECT_TRUE(all_mine) << "an item reached a rank that does not own its key";
    EXPECT_EQ(sent.delivered, mine.size());
    EXPECT_EQ(received.delivered, got.size());
    EXPECT_TRUE(sent.balanced());
    EXPECT_TRUE(received.balanced());
    auto all = sluice::mpi::gather(*world, got);
    if (world->is_root()) {
      std::sort(all.begin(), all.end());
      std::vector<std::uint64_t> expected(n);
      std::iota(expected.begin(), expected.end(), 0);
      EXPECT_EQ(all, expected) << n << " items over " << world->size() << " ranks";
    }
  }
}

TEST(MpiExchange, AKeyedWindowReduceOverRanksEqualsOneProcess) {
  constexpr std::uint64_t n = 20000;
  struct Sum {
    std::uint64_t count = 0;
    std::uint64_t total = 0;
  };
  // One process: the whole input, reduced per key.
  std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> expected;
  for (std::uint64_t i = 0; i < n; ++i) {
    const Event e = event_of(i);
    ++expected[e.key].first;
    expected[e.key].second += e.value;
  }
  // Every rank: its shard, exchanged by key, then one count window per key (closed at the
  // end of input), as one process would run it on all of its keys.
  sluice::mpi::Exchange<Event> exchange(*world, owner_of_key(*world),
                                        {.batch_bytes = 4096, .credit_bytes = 64 * 1024});
  const sluice::mpi::Shard mine(n, *world);
  std::vector<std::pair<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>>> windows;
  auto sending = sluice::from("ids", mine.indices())
                     .map("event", event_of, {.concurrency = 2})
                     .apply(exchange.to_owners());
  auto receiving =
      sluice::generate("owned", exchange.from_ranks())
          .then(sluice::window::tumbling<Sum>(
              "per-key", sluice::window::every_n(n + 1), [](const Event& e) { return e.key; },
              [](Sum& s, Event e) {
                ++s.count;
                s.total += e.value;
              }))
          .sink("keep", [&](sluice::window::Window<std::uint32_t, Sum> w) {
            windows.push_back({w.key, {w.value.count, w.value.total}});
          });
  exchange.run(sending, receiving, {.threads = 2});
  const auto all = sluice::mpi::gather(*world, windows);
  if (world->is_root()) {
    std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> got;
    for (const auto& [key, sums] : all) {
      EXPECT_EQ(got.count(key), 0u) << "key " << key << " was reduced on two ranks";
      got[key] = sums;
    }
    EXPECT_EQ(got, expected);
  }
}

TEST(MpiExchange, ASlowOwnerBoundsWhatItsSendersHold) {
  // Every item goes to rank 0, whose reader is slow: each sender holds at most its credit
  // for rank 0 (plus one item's frame), waits for credit, and loses nothing.
  constexpr std::uint64_t n = 4000;
  constexpr std::size_t credit = 8 * 1024;
  sluice::mpi::Exchange<std::vector<std::uint64_t>> exchange(
      *world, [](const std::vector<std::uint64_t>&) { return 0; },
      {.batch_bytes = 1024, .credit_bytes = credit, .max_in_flight = 64});
  const sluice::mpi::Shard mine(n, *world);
  std::uint64_t received = 0;
  std::uint64_t checksum = 0;
  auto sending =
      sluice::from("ids", mine.indices())
          .map("payload", [](std::uint64_t i) { return std::vector<std::uint64_t>(8, i); })
          .apply(exchange.to_owners());
  auto receiving = sluice::generate("owned", exchange.from_ranks())
                       .sink("slow", [&](std::vector<std::uint64_t> v) {
                         std::uint64_t spin = 0;
                         for (int k = 0; k < 20000; ++k)
                           spin += static_cast<std::uint64_t>(k) ^ spin;
                         checksum += v.at(0) + (spin & 0);
                         ++received;
                       });
  exchange.run(sending, receiving, {.threads = 2});
  const auto stats = exchange.stats();
  const std::uint64_t frame = 8 + 8 + 8 * 8;  // item size, vector length, 8 values
  EXPECT_LE(stats.peak_peer_bytes, credit + frame);
  const auto waits = sluice::mpi::gather(*world, std::vector<std::uint64_t>{stats.credit_waits});
  if (world->is_root()) {
    EXPECT_EQ(received, n);
    EXPECT_EQ(checksum, n * (n - 1) / 2);
    if (world->size() > 1) {
      EXPECT_GT(std::accumulate(waits.begin(), waits.end(), std::uint64_t{0}), 0u)
          << "no sender ever waited for credit: the test did not slow anyone down";
    }
  } else {
    EXPECT_EQ(received, 0u);
  }
}

// The error an exchange's run ends with on this rank ("" when it ends well).
template <class T>
std::string error_of_run(sluice::mpi::Exchange<T>& exchange, const sluice::Pipeline& sending,
                         const sluice::Pipeline& receiving) {
  try {
    exchange.run(sending, receiving, {.threads = 2});
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The rank whose shard holds `item` (block sharding of n).
int rank_holding(std::uint64_t item, std::uint64_t n) {
  for (int r = 0; r < world->size(); ++r) {
    if (sluice::mpi::Shard(n, r, world->size()).contains(item)) return r;
  }
  return -1;
}

TEST(MpiExchange, AFailureOnOneRankStopsEveryRankWithAnErrorNamingRankStageAndItem) {
  constexpr std::uint64_t n = 4000;
  const int failing = rank_holding(2500, n);
  sluice::mpi::Exchange<std::uint64_t> exchange(
      *world, [ranks = world->size()](std::uint64_t i) { return static_cast<int>(i) % ranks; },
      {.batch_bytes = 512, .credit_bytes = 4096, .max_in_flight = 16});
  const sluice::mpi::Shard mine(n, *world);
  auto sending = sluice::from("ids", mine.indices())
                     .map("boom",
                          [](std::uint64_t i) {
                            if (i == 2500) throw std::runtime_error("bad record");
                            return i;
                          })
                     .apply(exchange.to_owners());
  auto receiving =
      sluice::generate("owned", exchange.from_ranks()).sink("keep", [](std::uint64_t) {});
  const std::string error = error_of_run(exchange, sending, receiving);
  // The failing rank reports its own error; every other rank stops with an error that
  // names the failing rank and carries that error (stage, item, what).
  // The engine names an item by its place in its rank's source: 2500's place in the shard.
  const std::uint64_t place = 2500 - sluice::mpi::Shard(n, failing, world->size()).at(0);
  EXPECT_NE(error.find("stage 'boom' failed on item " + std::to_string(place)), std::string::npos)
      << error;
  EXPECT_NE(error.find("bad record"), std::string::npos) << error;
  if (world->rank() != failing) {
    EXPECT_NE(error.find("rank " + std::to_string(failing) + " failed"), std::string::npos)
        << error;
  }
  world->barrier();  // reached by every rank: none was left waiting
}

TEST(MpiExchange, AnItemForARankOutsideTheWorldStopsEveryRank) {
  constexpr std::uint64_t n = 100;
  const int ranks = world->size();
  sluice::mpi::Exchange<std::uint64_t> exchange(
      *world, [ranks](std::uint64_t i) { return i == 42 ? ranks : static_cast<int>(i) % ranks; });
  const sluice::mpi::Shard mine(n, *world);
  auto sending = sluice::from("ids", mine.indices()).apply(exchange.to_owners());
  auto receiving =
      sluice::generate("owned", exchange.from_ranks()).sink("keep", [](std::uint64_t) {});
  const std::string error = error_of_run(exchange, sending, receiving);
  EXPECT_NE(error.find("rank " + std::to_string(ranks) + " is not one of"), std::string::npos)
      << error;
  world->barrier();
}

TEST(MpiExchange, AFailingReceiverStopsEveryRankWithItsError) {
  // Rank 0's receiving sink throws on its first item; under fail-fast its run stops, it
  // drops what still comes (crediting it back, so no sender is held), and its END tells
  // the other ranks, whose runs stop with its error.
  constexpr std::uint64_t n = 3000;
  sluice::mpi::Exchange<std::uint64_t> exchange(
      *world, [ranks = world->size()](std::uint64_t i) { return static_cast<int>(i) % ranks; },
      {.batch_bytes = 512, .credit_bytes = 4096, .max_in_flight = 16});
  const sluice::mpi::Shard mine(n, *world);
  auto sending = sluice::from("ids", mine.indices()).apply(exchange.to_owners());
  auto receiving =
      sluice::generate("owned", exchange.from_ranks()).sink("keep", [&](std::uint64_t) {
        if (world->is_root()) throw std::runtime_error("the receiver broke");
      });
  const std::string error = error_of_run(exchange, sending, receiving);
  // Rank 0 reports its own error; the others stop with it, naming rank 0.
  EXPECT_NE(error.find("the receiver broke"), std::string::npos) << error;
  if (!world->is_root()) {
    EXPECT_NE(error.find("rank 0 failed"), std::string::npos) << error;
  }
  world->barrier();  // reached by every rank: none was left waiting
}
}  // namespace

int main(int argc, char** argv) {
  sluice::mpi::World mpi_world(argc, argv);
  world = &mpi_world;
  ::testing::InitGoogleTest(&argc, argv);
  // One progress listing is enough: other ranks print only their failures.
  if (!mpi_world.is_root()) ::testing::GTEST_FLAG(brief) = true;
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, mpi_world.comm());
  if (mpi_world.is_root() && any != 0 && failed == 0) {
    std::fprintf(stderr, "mpi_world_test: a test failed on another rank (see its output)\n");
  }
  return any;
}
