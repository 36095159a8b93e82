// Graphs, not only chains: tee, route, partition, merge, join and several ends. Every
// test checks the run-level law (produced == delivered + filtered + failed + cancelled)
// and, where it names a stage, that stage's own counts (docs/architecture.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using sluice::Report;

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

const sluice::StageReport& stage(const Report& r, const std::string& name) {
  for (const auto& s : r.stages) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no stage " + name);
}

/// A sink that keeps what it receives, from any thread.
template <class T>
struct Collected {
  std::mutex m;
  std::vector<T> items;
  auto sink() {
    return [this](T v) {
      std::lock_guard lock(m);
      items.push_back(std::move(v));
    };
  }
  std::vector<T> sorted() {
    std::lock_guard lock(m);
    auto v = items;
    std::sort(v.begin(), v.end());
    return v;
  }
};

class Graph : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::size_t threads() const { return GetParam(); }
};

TEST_P(Graph, TeeGivesEveryBranchEveryItemAsItsOwnCopy) {
  Collected<std::string> a, b;
  auto [left, right] =
      sluice::from("words", std::vector<std::string>{"a", "bb", "ccc", "dddd"}).tee<2>("both");
  left.map("upper",
           [](std::string s) {
             for (char& c : s) c = static_cast<char>(c - 'a' + 'A');
             return s;
           },
           {.concurrency = 2})
      .sink("a", a.sink());
  Report r = right.map("twice", [](std::string s) { return s + s; })
                 .sink("b", b.sink())
                 .run({.threads = threads()});
  EXPECT_EQ(a.sorted(), (std::vector<std::string>{"A", "BB", "CCC", "DDDD"}));
  EXPECT_EQ(b.sorted(), (std::vector<std::string>{"aa", "bbbb", "cccccc", "dddddddd"}));
  EXPECT_EQ(r.produced, 4u);
  EXPECT_EQ(r.delivered, 4u);  // an item is delivered once, however many copies arrive
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "both").in, 4u);
  EXPECT_EQ(stage(r, "both").out, 8u);
  EXPECT_EQ(stage(r, "a").in, 4u);
  EXPECT_EQ(stage(r, "b").in, 4u);
}

TEST_P(Graph, TeeCopiesFilteredInEveryBranchMakeTheItemFiltered) {
  std::atomic<int> seen{0};
  auto [x, y] = sluice::from("n", iota(1000)).tee<2>("t");
  x.filter("x-even", [](int v) { return v % 2 == 0; }).sink("x", [&](int) { ++seen; });
  Report r = y.filter("y-small", [](int v) { return v < 100; })
                 .sink("y", [&](int) { ++seen; })
                 .run({.threads = threads()});
  // Delivered: even, or below 100 (either copy arrived). Filtered: odd and >= 100.
  EXPECT_EQ(r.delivered, 500u + 50u);
  EXPECT_EQ(r.filtered, 450u);
  EXPECT_EQ(seen.load(), 500 + 100);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.cancelled, 0u);
}

TEST_P(Graph, RouteSendsEachItemToExactlyOneBranchAndFiltersTheRest) {
  Collected<int> b0, b1, b2;
  auto [zero, one, two] = sluice::from("n", iota(3000)).route<3>("mod", [](int v) {
    return v % 4;  // 3 names no branch
  });
  zero.sink("0", b0.sink());
  one.map("id", [](int v) { return v; }, {.concurrency = 3}).sink("1", b1.sink());
  Report r = two.sink("2", b2.sink()).run({.threads = threads()});
  auto v0 = b0.sorted(), v1 = b1.sorted(), v2 = b2.sorted();
  EXPECT_EQ(v0.size(), 750u);
  EXPECT_EQ(v1.size(), 750u);
  EXPECT_EQ(v2.size(), 750u);
  for (int v : v0) EXPECT_EQ(v % 4, 0);
  for (int v : v1) EXPECT_EQ(v % 4, 1);
  for (int v : v2) EXPECT_EQ(v % 4, 2);
  EXPECT_EQ(r.delivered, 2250u);
  EXPECT_EQ(r.filtered, 750u);
  EXPECT_EQ(stage(r, "mod").filtered, 750u);
  EXPECT_EQ(stage(r, "mod").out, 2250u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, OrderedStagesInARouteBranchKeepTheRoutesOrder) {
  std::vector<int> evens, odds;
  auto [even, odd] = sluice::from("n", iota(2000))
                         .partition("even?", [](int v) { return v % 2 == 0; }, {.ordered = true});
  even.map("slow-ish",
           [](int v) {
             sluice::test::spin(v % 7 * 50);
             return v;
           },
           {.concurrency = 4, .ordered = true})
      .sink("evens", [&](int v) { evens.push_back(v); }, {.ordered = true});
  Report r = odd.sink("odds", [&](int v) { odds.push_back(v); }, {.ordered = true})
                 .run({.threads = threads()});
  ASSERT_EQ(evens.size(), 1000u);
  ASSERT_EQ(odds.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(evens.begin(), evens.end()));
  EXPECT_TRUE(std::is_sorted(odds.begin(), odds.end()));
  EXPECT_TRUE(r.balanced());
}

// A merge or route numbers its output only when a piece in that ordering domain reads
// the numbers. These ordered stages sit behind pieces that do not (an unordered map, a
// tee), so the numbering must still be made: with duplicate numbers a reorder buffer
// would lose items or wait forever.
TEST_P(Graph, OrderedStagesFarAfterAMergeOrARouteGetEveryItem) {
  Collected<int> ordered_out, plain_out;
  auto merged =
      sluice::merge("ab", sluice::from("a", iota(700)),
                    sluice::from("b", iota(300)).map("shift", [](int v) { return 1000 + v; }))
          .map("plain", [](int v) { return v; }, {.concurrency = 4});
  auto [to_ordered, to_plain] = merged.tee<2>("copy");
  to_ordered.sink("ordered", ordered_out.sink(), {.ordered = true});
  Report merge_report = to_plain.sink("plain-out", plain_out.sink()).run({.threads = threads()});
  EXPECT_EQ(ordered_out.sorted().size(), 1000u);
  EXPECT_EQ(plain_out.sorted().size(), 1000u);
  EXPECT_EQ(merge_report.delivered, 1000u);
  EXPECT_TRUE(merge_report.balanced());

  std::vector<int> evens;
  Collected<int> odds;
  auto [even, odd] = sluice::from("n", iota(2000))
                         .route<2>("parity", [](int v) { return v % 2; }, {.concurrency = 4});
  even.map("plain", [](int v) { return v; }, {.concurrency = 4})
      .map("in-order", [](int v) { return v; }, {.concurrency = 4, .ordered = true})
      .sink("evens", [&](int v) { evens.push_back(v); }, {.ordered = true});
  Report route_report = odd.sink("odds", odds.sink()).run({.threads = threads()});
  EXPECT_EQ(evens.size(), 1000u);
  EXPECT_EQ(odds.sorted().size(), 1000u);
  EXPECT_EQ(route_report.delivered, 2000u);
  EXPECT_TRUE(route_report.balanced());
}

// A lightweight piece runs inside the call of the node that hands it an item, and a
// source's limiter_node hands items on with its list of successors locked. A placeholder
// that ends in the merge gives its slots back to that very limiter: done there and then,
// the limiter would look at its successors again and wait on its own lock for ever.
TEST_P(Graph, ItemsEndingInsideALightweightPieceNextToTheSourceDoNotDeadlockItsLimiter) {
  for (int round = 0; round < 20; ++round) {
    Collected<int> out;
    auto a = sluice::from("a", iota(2000))
                 .filter("odd-out", [](int v) { return v % 2 == 0; }, {.lightweight = true});
    auto b = sluice::from("b", iota(10)).map("shift", [](int v) { return 10'000 + v; });
    Report r = sluice::merge("ab", a, b)
                   .map("in-order", [](int v) { return v; }, {.ordered = true})
                   .sink("out", out.sink())
                   .run({.threads = threads(), .max_in_flight = 4});
    ASSERT_EQ(out.sorted().size(), 1010u);
    EXPECT_EQ(r.delivered, 1010u);
    EXPECT_EQ(r.filtered, 1000u);
    EXPECT_TRUE(r.balanced());
  }
}

TEST_P(Graph, MergeOfTwoSourcesDeliversBoth) {
  Collected<int> out;
  auto a = sluice::from("a", iota(500));
  auto b = sluice::from("b", iota(300)).map("shift", [](int v) { return 1000 + v; });
  Report r = sluice::merge("ab", a, b).sink("out", out.sink()).run({.threads = threads()});
  auto got = out.sorted();
  ASSERT_EQ(got.size(), 800u);
  EXPECT_EQ(got.front(), 0);
  EXPECT_EQ(got.back(), 1299);
  EXPECT_EQ(std::set<int>(got.begin(), got.end()).size(), 800u);
  EXPECT_EQ(r.produced, 800u);
  EXPECT_EQ(r.delivered, 800u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "ab").out, 800u);
}

TEST_P(Graph, EachSourceOfAMergeKeepsItsOwnBound) {
  // Two sources into one slow sink: each source may have at most max_in_flight items out.
  std::atomic<int> a_out{0}, b_out{0}, worst{0};
  auto track = [&](std::atomic<int>& out) {
    return [&out, &worst](int v) {
      int now = out.fetch_add(1) + 1;
      int seen = worst.load();
      while (now > seen && !worst.compare_exchange_weak(seen, now)) {
      }
      return v;
    };
  };
  auto a = sluice::generate("a", [&, i = 0]() mutable -> std::optional<int> {
             if (i == 2000) return std::nullopt;
             return i++;
           }).map("a-count", track(a_out), {.concurrency = 1});
  auto b = sluice::generate("b", [&, i = 0]() mutable -> std::optional<int> {
             if (i == 2000) return std::nullopt;
             return 10000 + i++;
           }).map("b-count", track(b_out), {.concurrency = 1});
  Report r = sluice::merge("ab", a, b)
                 .sink("slow",
                       [&](int v) {
                         sluice::test::spin(200);
                         (v < 10000 ? a_out : b_out).fetch_sub(1);
                       })
                 .run({.threads = threads(), .max_in_flight = 16});
  EXPECT_EQ(r.delivered, 4000u);
  EXPECT_LE(worst.load(), 16);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, JoinBringsATeesBranchesBackTogetherPerItem) {
  std::map<int, std::pair<int, std::string>> got;
  auto [l, rgt] = sluice::from("n", iota(2000)).tee<2>("t");
  auto squares = l.map("square", [](int v) { return v * v; }, {.concurrency = 4});
  auto names = rgt.map("name", [](int v) { return std::to_string(v); }, {.concurrency = 3});
  Report r =
      sluice::join(
          "pair", [](int sq, std::string s) { return std::make_pair(sq, s); }, squares, names)
          .sink("out",
                [&](std::pair<int, std::string> p) {
                  int v = std::stoi(p.second);
                  EXPECT_TRUE(got.emplace(v, p).second) << "twice: " << v;
                })
          .run({.threads = threads()});
  ASSERT_EQ(got.size(), 2000u);
  for (const auto& [v, p] : got) EXPECT_EQ(p.first, v * v);
  EXPECT_EQ(r.delivered, 2000u);
  EXPECT_EQ(stage(r, "pair").in, 4000u);
  EXPECT_EQ(stage(r, "pair").out, 2000u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, AnOrderedStageAfterAJoinKeepsSourceOrder) {
  std::vector<std::tuple<int, int>> got;
  auto [l, rgt] = sluice::from("n", iota(3000)).tee<2>("t");
  auto a = l.map("a",
                 [](int v) {
                   sluice::test::spin(v % 5 * 40);
                   return v;
                 },
                 {.concurrency = 4});
  auto b = rgt.filter("b", [](int v) { return v % 3 != 0; }, {.concurrency = 2});
  Report r = sluice::zip("ab", a, b)
                 .sink("out", [&](std::tuple<int, int> t) { got.push_back(t); }, {.ordered = true})
                 .run({.threads = threads()});
  ASSERT_EQ(got.size(), 2000u);
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_LT(std::get<0>(got[i - 1]), std::get<0>(got[i]));
  }
  for (const auto& [x, y] : got) EXPECT_EQ(x, y);
  EXPECT_EQ(r.filtered, 1000u);  // each filtered copy settles its item as filtered
  EXPECT_EQ(r.delivered, 2000u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, AJoinSettlesAFailedCopyAtOnceAndCountsTheItemOnce) {
  // Branch a fails on multiples of 5, branch b filters multiples of 3: 15 does both.
  auto [l, rgt] = sluice::from("n", iota(3000)).tee<2>("t");
  auto a = l.map("a", [](int v) {
    if (v % 5 == 0) throw std::runtime_error("five");
    return v;
  });
  auto b = rgt.filter("b", [](int v) { return v % 3 != 0; }, {.concurrency = 2});
  std::atomic<int> delivered{0};
  Report r = sluice::zip("ab", a, b)
                 .sink("out", [&](std::tuple<int, int>) { ++delivered; })
                 .run({.threads = threads(), .on_error = sluice::ErrorPolicy::skip()});
  // Neither a multiple of 5 nor of 3: 3000 * (4/5) * (2/3) = 1600 delivered.
  EXPECT_EQ(delivered.load(), 1600);
  EXPECT_EQ(r.delivered, 1600u);
  EXPECT_EQ(r.failed + r.filtered, 1400u);
  EXPECT_GE(r.failed, 400u);  // at least the multiples of 5 that are not of 3
  EXPECT_LE(r.failed, 600u);  // at most every multiple of 5
  EXPECT_EQ(stage(r, "a").failed, 600u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.cancelled, 0u);
}

TEST_P(Graph, DiamondWithAsyncBranchJoinsEveryItem) {
  sluice::test::CompleterThread<int> completer(0);
  auto [l, rgt] = sluice::from("n", iota(2000)).tee<2>("t");
  auto doubled = l.map("double", [](int v) { return 2 * v; });
  auto fetched = rgt.async_map<int>(
      "fetch", [&](int, sluice::Completion<int> done) { completer.add(std::move(done)); },
      {.max_in_flight = 32});
  std::atomic<long> sum{0};
  Report r = sluice::join(
                 "sum", [](int d, int z) { return d + z; }, doubled, fetched)
                 .sink("out", [&](int v) { sum += v; })
                 .run({.threads = threads(), .max_in_flight = 64});
  EXPECT_EQ(sum.load(), 2L * (1999L * 2000L / 2));
  EXPECT_EQ(r.delivered, 2000u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, ASlowBranchHoldsTheSourceBack) {
  // Items alive (pulled from the source, not yet done in both branches) stay within
  // max_in_flight plus the source's one cached item and the items whose slot is on its
  // way back.
  constexpr int kMax = 32;
  std::atomic<int> pulled{0};
  std::atomic<int> fully_done{0};
  std::atomic<int> worst{0};
  std::vector<std::atomic<int>> halves(5000);
  auto note = [&](int v) {
    if (halves[static_cast<std::size_t>(v)].fetch_add(1) == 1) ++fully_done;
  };
  auto [fast, slow] = sluice::generate("n", [&, i = 0]() mutable -> std::optional<int> {
                        if (i == 5000) return std::nullopt;
                        int alive = pulled.fetch_add(1) + 1 - fully_done.load();
                        int seen = worst.load();
                        while (alive > seen && !worst.compare_exchange_weak(seen, alive)) {
                        }
                        return i++;
                      }).tee<2>("t");
  fast.sink("fast", note);
  Report r = slow.map("slow",
                      [](int v) {
                        sluice::test::spin(2000);
                        return v;
                      })
                 .sink("slow-end", note)
                 .run({.threads = threads(), .max_in_flight = kMax});
  EXPECT_EQ(r.delivered, 5000u);
  EXPECT_LE(worst.load(), kMax + 1 + static_cast<int>(threads()));
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, FailFastInOneBranchCancelsTheWholeGraphAndItRunsAgain) {
  std::atomic<bool> fail{true};
  auto [l, rgt] = sluice::from("n", iota(20000)).tee<2>("t");
  l.map("boom", [&](int v) {
     if (fail && v == 100) throw std::runtime_error("boom");
     return v;
   }).sink("l", [](int) {});
  sluice::Pipeline p = rgt.sink("r", [](int) { sluice::test::spin(100); });
  try {
    p.run({.threads = threads(), .max_in_flight = 64});
    FAIL() << "expected a PipelineError";
  } catch (const sluice::PipelineError& e) {
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
    EXPECT_TRUE(e.report().balanced());
    EXPECT_GE(e.report().failed, 1u);
    EXPECT_LT(e.report().produced, 20000u + 1u);
  }
  fail = false;
  Report again = p.run({.threads = threads(), .max_in_flight = 64});
  EXPECT_EQ(again.delivered, 20000u);
  EXPECT_TRUE(again.balanced());
}

TEST_P(Graph, CancelReleasesEveryWaitInAGraphAndItRunsAgain) {
  sluice::test::CompleterThread<int> completer(1, {}, std::chrono::microseconds(200));
  auto [l, rgt] = sluice::from("n", std::views::iota(0, 1'000'000)).tee<2>("t");
  auto a = l.async_map<int>(
      "slow", [&](int, sluice::Completion<int> done) { completer.add(std::move(done)); },
      {.max_in_flight = 16});
  auto b = rgt.map("b", [](int v) { return v; });
  std::atomic<int> got{0};
  sluice::Pipeline p = sluice::join(
                           "j", [](int x, int y) { return x + y; }, a, b)
                           .sink("out", [&](int) { ++got; });
  Report r = sluice::test::cancel_when(p, {.threads = threads(), .max_in_flight = 64},
                                       [&] { return got.load() >= 100; });
  EXPECT_GT(r.cancelled, 0u);
}

TEST_P(Graph, SeveralEndsAreAllInTheReport) {
  auto [a, b, c] = sluice::from("n", iota(100)).tee<3>("t");
  std::atomic<int> ca{0}, cb{0};
  a.sink("sink-a", [&](int) { ++ca; });
  b.batch("batch", 10).sink("sink-b", [&](std::vector<int> v) {
    cb += static_cast<int>(v.size());
  });
  Report r = c.filter("none", [](int) { return false; })
                 .sink("sink-c", [](int) {})
                 .run({.threads = threads()});
  EXPECT_EQ(ca.load(), 100);
  EXPECT_EQ(cb.load(), 100);
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(stage(r, "sink-a").in, 100u);
  EXPECT_EQ(stage(r, "sink-b").in, 10u);
  EXPECT_EQ(stage(r, "none").filtered, 100u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, ABranchWithAConsumerLoopAndASink) {
  auto [a, b] = sluice::from("n", iota(1000)).tee<2>("t");
  std::atomic<int> sunk{0};
  b.sink("count", [&](int) { ++sunk; });
  auto items = a.map("plus", [](int v) { return v + 1; }).consume({.threads = threads()});
  long sum = 0;
  for (int v : items) sum += v;
  Report r = items.finish();
  EXPECT_EQ(sum, 1000L * 1001L / 2);
  EXPECT_EQ(sunk.load(), 1000);
  EXPECT_EQ(r.delivered, 1000u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, ASegmentAppliedInTwoPlaces) {
  auto clean = [](const sluice::Flow<int>& f) {
    return f.filter("positive", [](int v) { return v > 0; }).map("half", [](int v) {
      return v / 2;
    });
  };
  std::atomic<long> sum{0};
  auto [x, y] = sluice::from("n", iota(101)).tee<2>("t");
  x.apply(clean).sink("x", [&](int v) { sum += v; });
  Report r = y.map("neg", [](int v) { return -v; })
                 .apply(clean)
                 .sink("y", [&](int v) { sum += v; })
                 .run({.threads = threads()});
  long expect = 0;
  for (int v = 1; v <= 100; ++v) expect += v / 2;
  EXPECT_EQ(sum.load(), expect);
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(r.filtered, 1u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, InterleaveTakesOneFromEachInTurnAndGoesOnWhenOneEnds) {
  std::vector<int> got;
  Report r = sluice::interleave("ab", std::vector<int>{0, 1, 2, 3}, std::vector<int>{10, 11})
                 .sink("out", [&](int v) { got.push_back(v); }, {.ordered = true})
                 .run({.threads = threads()});
  EXPECT_EQ(got, (std::vector<int>{0, 10, 1, 11, 2, 3}));
  EXPECT_TRUE(r.balanced());
}

TEST_P(Graph, SampleDrawsByWeightAndIsTheSameForTheSameSeed) {
  auto run = [&](std::uint64_t seed) {
    std::vector<int> got;
    sluice::sample("mix", {0.7, 0.3}, {.seed = seed}, iota(10000), std::views::iota(100000, 110000))
        .sink("out", [&](int v) { got.push_back(v); }, {.ordered = true})
        .run({.threads = threads()});
    return got;
  };
  std::vector<int> a = run(7);
  ASSERT_EQ(a.size(), 20000u);
  // Among the first 5,000 (both ranges still going), about 70% come from the first.
  const auto first = std::count_if(a.begin(), a.begin() + 5000, [](int v) { return v < 100000; });
  EXPECT_NEAR(static_cast<double>(first) / 5000.0, 0.7, 0.03);
  EXPECT_EQ(run(7), a);
  EXPECT_NE(run(8), a);
  std::sort(a.begin(), a.end());
  EXPECT_EQ(std::unique(a.begin(), a.end()), a.end());  // every item once
}

TEST(GraphBuild, SampleRefusesBadWeights) {
  EXPECT_THROW((void)sluice::sample("m", {1.0}, iota(2), iota(2)), std::invalid_argument);
  EXPECT_THROW((void)sluice::sample("m", {-1.0, 2.0}, iota(2), iota(2)), std::invalid_argument);
  EXPECT_THROW((void)sluice::sample("m", {0.0, 0.0}, iota(2), iota(2)), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Threads, Graph, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return "t" + std::to_string(info.param); });

TEST(GraphBuild, ASecondConsumerWithoutATeeIsRefusedNamingTee) {
  auto f = sluice::from("n", iota(3));
  f.sink("one", [](int) {});
  try {
    f.sink("two", [](int) {});
    FAIL() << "expected a logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("tee()"), std::string::npos) << e.what();
  }
}

TEST(GraphBuild, ABranchThatFeedsNothingIsNamedWhenTheGraphRuns) {
  auto [a, b] = sluice::from("n", iota(3)).tee<2>("split");
  sluice::Pipeline p = a.sink("a", [](int) {});
  (void)b;
  try {
    p.run();
    FAIL() << "expected a logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("split[1]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("feeds nothing"), std::string::npos) << e.what();
  }
}

TEST(GraphBuild, AJoinAcrossABatchIsRefused) {
  auto [a, b] = sluice::from("n", iota(3)).tee<2>("t");
  auto batched = a.batch("b", 2).unbatch("u");
  EXPECT_THROW((void)sluice::zip("z", batched, b), std::logic_error);
  auto [c, d] = sluice::from("m", iota(3)).tee<2>("t2");
  EXPECT_THROW((void)sluice::zip("z2", c, b), std::logic_error);  // different tees
  (void)d;
  auto [e, f, g] = sluice::from("k", iota(3)).tee<3>("t3");
  EXPECT_THROW((void)sluice::zip("z3", e, f), std::logic_error);  // not every branch
  (void)g;
}

TEST(GraphBuild, ToDotDrawsTheDagWithNamesEscaped) {
  auto [a, b] = sluice::from("say \"hi\"", iota(3)).tee<2>("t");
  sluice::Pipeline p = sluice::zip("z", a, b).sink("out", [](std::tuple<int, int>) {});
  std::string dot = p.to_dot();
  EXPECT_NE(dot.find("say \\\"hi\\\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("(tee)"), std::string::npos);
  EXPECT_NE(dot.find("(join)"), std::string::npos);
  // The join has two incoming edges.
  std::size_t edges = 0;
  std::istringstream lines(dot);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  n", 0) == 0 && line.find(" -> n") != std::string::npos) ++edges;
  }
  EXPECT_EQ(edges, 6u);  // source->tee, tee->2 branches, 2 branches->join, join->out
}

}  // namespace
