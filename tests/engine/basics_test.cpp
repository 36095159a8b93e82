#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include <sluice/sluice.hpp>

namespace {

TEST(Basics, MapFilterSinkDeliversEveryItem) {
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 1000))
               .map("twice", [](int x) { return 2 * x; }, {.concurrency = 4})
               .filter("mod3", [](int x) { return x % 3 != 0; }, {.concurrency = 2})
               .sink("collect", [&](int x) { out.push_back(x); })
               .run({.threads = 4});
  EXPECT_EQ(r.produced, 1000u);
  EXPECT_EQ(r.delivered + r.filtered, 1000u);
  EXPECT_EQ(r.filtered, 334u);  // multiples of 3 in 0..999
  EXPECT_EQ(r.cancelled, 0u);
  EXPECT_TRUE(r.balanced());
  std::sort(out.begin(), out.end());
  std::vector<int> want;
  for (int i = 0; i < 1000; ++i)
    if ((2 * i) % 3 != 0) want.push_back(2 * i);
  EXPECT_EQ(out, want);
}

TEST(Basics, FlatMapEmitsZeroOrManyAndCountsEmptyAsFiltered) {
  std::multiset<int> out;
  auto r = sluice::from("n", std::vector<int>{0, 1, 2, 3})
               .flat_map("repeat",
                         [](int x) { return std::vector<int>(static_cast<std::size_t>(x), x); },
                         {.concurrency = 2})
               .sink("collect", [&](int x) { out.insert(x); })
               .run();
  EXPECT_EQ(out, (std::multiset<int>{1, 2, 2, 3, 3, 3}));
  EXPECT_EQ(r.produced, 4u);
  EXPECT_EQ(r.filtered, 1u);   // 0 expands to nothing
  EXPECT_EQ(r.delivered, 3u);  // a source item takes the outcome of its first output
  EXPECT_TRUE(r.balanced());
}

TEST(Basics, FlatMapAcceptsAnyRange) {
  long sum = 0;
  sluice::from("n", std::vector<int>{3, 4})
      .flat_map("iota", [](int x) { return std::views::iota(0, x); })
      .sink("sum", [&](int x) { sum += x; })
      .run();
  EXPECT_EQ(sum, 0 + 1 + 2 + 0 + 1 + 2 + 3);
}

TEST(Basics, BatchFlushesTheTailAndUnbatchRestoresItems) {
  std::vector<std::size_t> sizes;
  std::vector<int> items;
  auto r = sluice::from("n", std::views::iota(0, 103))
               .batch("b", 10, {.ordered = true})
               .map("sizes",
                    [&](std::vector<int> b) {
                      sizes.push_back(b.size());
                      return b;
                    },
                    {.ordered = true})
               .unbatch("u", {.ordered = true})
               .sink("collect", [&](int x) { items.push_back(x); }, {.ordered = true})
               .run({.threads = 2});
  ASSERT_EQ(sizes.size(), 11u);
  EXPECT_EQ(sizes.back(), 3u);
  std::vector<int> want(103);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(items, want);
  EXPECT_EQ(r.delivered, 103u);
  EXPECT_TRUE(r.balanced());
}

TEST(Basics, BatchDropLastCountsTheTailAsFiltered) {
  std::size_t batches = 0;
  auto r = sluice::from("n", std::views::iota(0, 25))
               .batch("b", 10, {.drop_last = true})
               .sink("count",
                     [&](const std::vector<int>& b) {
                       EXPECT_EQ(b.size(), 10u);
                       ++batches;
                     })
               .run();
  EXPECT_EQ(batches, 2u);
  EXPECT_EQ(r.delivered, 20u);
  EXPECT_EQ(r.filtered, 5u);
  EXPECT_TRUE(r.balanced());
}

TEST(Basics, GeneratorRunsUntilNullopt) {
  int next = 0;
  std::vector<int> out;
  auto r = sluice::generate("gen",
                            [&]() -> std::optional<int> {
                              if (next == 50) return std::nullopt;
                              return next++;
                            })
               .sink("collect", [&](int x) { out.push_back(x); }, {.ordered = true})
               .run();
  EXPECT_EQ(r.produced, 50u);
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(out.front(), 0);
  EXPECT_EQ(out.back(), 49);
}

TEST(Basics, SourceLimitStopsAnEndlessSource) {
  auto r =
      sluice::from("endless", std::views::iota(0), {.limit = 777}).sink("drop", [](int) {}).run();
  EXPECT_EQ(r.produced, 777u);
  EXPECT_EQ(r.delivered, 777u);
}

TEST(Basics, EmptySourceEndsAtOnce) {
  auto r =
      sluice::from("empty", std::vector<int>{}).batch("b", 4).sink("drop", [](auto&&) {}).run();
  EXPECT_EQ(r.produced, 0u);
  EXPECT_TRUE(r.balanced());
}

TEST(Basics, MoveOnlyValuesTravel) {
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 100))
               .map("box", [](int x) { return std::make_unique<int>(x); }, {.concurrency = 3})
               .map("unbox", [](std::unique_ptr<int> p) { return *p + 1; })
               .sink("collect", [&](int x) { out.push_back(x); }, {.ordered = true})
               .run();
  ASSERT_EQ(out.size(), 100u);
  EXPECT_EQ(out[99], 100);
  EXPECT_EQ(r.delivered, 100u);
}

TEST(Basics, APipelineRunsAgainWithFreshState) {
  int calls = 0;
  auto p = sluice::from("n", std::vector<int>{1, 2, 3}).sink("count", [&](int) { ++calls; });
  EXPECT_EQ(p.run().delivered, 3u);
  EXPECT_EQ(p.run().delivered, 3u);
  EXPECT_EQ(calls, 6);
}

TEST(Basics, ConsumerLoopTakesItemsOnTheCallingThread) {
  auto flow = sluice::from("n", std::views::iota(0, 500))
                  .map("sq", [](int x) { return x * x; }, {.concurrency = 4, .ordered = true});
  auto items = flow.consume({.threads = 2, .max_in_flight = 16}, {.ordered = true});
  int expect = 0;
  for (int v : items) {
    EXPECT_EQ(v, expect * expect);
    ++expect;
  }
  EXPECT_EQ(expect, 500);
  auto r = items.finish();
  EXPECT_EQ(r.delivered, 500u);
  EXPECT_FALSE(r.was_cancelled);
  EXPECT_TRUE(r.balanced());
}

TEST(Basics, AFlowCanBeConsumedRunAfterRun) {
  auto flow = sluice::from("n", std::views::iota(0, 10)).batch("b", 4);
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto run = flow.consume();
    std::size_t n = 0;
    while (auto b = run.next()) n += b->size();
    EXPECT_EQ(n, 10u);
  }
}

TEST(Basics, FanOutWithoutATeeIsRefusedWithAClearMessage) {
  auto base = sluice::from("n", std::vector<int>{1});
  auto a = base.map("a", [](int x) { return x; });
  try {
    auto b = base.map("b", [](int x) { return x; });
    FAIL() << "fan-out was accepted";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("tee()"), std::string::npos) << e.what();
  }
}

TEST(Basics, BadOptionsAreRefusedWithClearMessages) {
  auto src = sluice::from("n", std::vector<int>{1});
  EXPECT_THROW(src.map("zero", [](int x) { return x; }, {.concurrency = 0}), std::invalid_argument);
  EXPECT_THROW(src.batch("empty", 0), std::invalid_argument);
  auto p = sluice::from("m", std::vector<int>{1}).batch("b", 100).sink("s", [](auto&&) {});
  try {
    p.run({.max_in_flight = 10});
    FAIL() << "a batch larger than max_in_flight was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_in_flight"), std::string::npos) << e.what();
  }
}

// A run may use a task_arena the caller owns: its bodies then run in that arena, and the
// arena serves run after run (its threads are not rebuilt for each).
TEST(Basics, ARunUsesTheCallersArenaRunAfterRun) {
  tbb::task_arena arena(3);
  std::atomic<int> outside{0};
  auto p = sluice::from("n", std::views::iota(0, 2000))
               .map("m",
                    [&](int v) {
                      if (tbb::this_task_arena::max_concurrency() != 3) ++outside;
                      return v;
                    },
                    {.concurrency = sluice::unlimited})
               .sink("out", [](int) {});
  for (int run = 0; run < 3; ++run) {
    sluice::Report r = p.run({.arena = &arena});
    EXPECT_EQ(r.delivered, 2000u);
    EXPECT_TRUE(r.balanced());
  }
  EXPECT_EQ(outside.load(), 0);
}

TEST(Basics, AThreadCountThatDisagreesWithTheGivenArenaIsRefused) {
  tbb::task_arena arena(2);
  auto p = sluice::from("n", std::views::iota(0, 10)).sink("out", [](int) {});
  try {
    p.run({.threads = 3, .arena = &arena});
    FAIL() << "expected the run to be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("arena of 2"), std::string::npos) << e.what();
  }
}

}  // namespace
