// join_by_key: two independent flows matched on a key, with a bounded wait for partners.
// Every test checks the run-level law (produced == delivered + filtered + failed +
// cancelled) and the join's own law: with items that each stand for one source item and
// no cancel, in == 2 * out + filtered + failed (a pair that fails to combine counts both
// of its items failed).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using sluice::Report;

std::vector<int> iota(int from, int to) {
  std::vector<int> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

const sluice::StageReport& stage(const Report& r, const std::string& name) {
  for (const auto& s : r.stages) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no stage " + name);
}

void expect_join_law(const Report& r, const std::string& name) {
  const auto& s = stage(r, name);
  EXPECT_EQ(s.in, 2 * s.out + s.filtered + s.failed) << name;
}

struct Order {
  int id;
};
struct Payment {
  int order;
  int cents;
};

/// What the unmatched-item hook saw.
struct HookLog {
  std::mutex m;
  std::vector<std::pair<int, sluice::Unmatched>> seen;
  auto hook() {
    return [this](const auto& v, const sluice::Unmatched& u) {
      std::lock_guard lock(m);
      seen.emplace_back(value_of(v), u);
    };
  }
  std::size_t count(sluice::JoinSide side, bool at_end) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(std::count_if(seen.begin(), seen.end(), [&](const auto& s) {
      return s.second.side == side && s.second.at_end_of_input == at_end;
    }));
  }
  static int value_of(int v) { return v; }
  static int value_of(const Order& o) { return o.id; }
  static int value_of(const Payment& p) { return p.order; }
};

class KeyedJoin : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::size_t threads() const { return GetParam(); }
};

TEST_P(KeyedJoin, MatchesItemsOfTwoSourcesArrivingInAnyOrder) {
  // Payments come in a shuffled order and at another pace than the orders.
  std::vector<int> shuffled = iota(0, 1000);
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  auto orders = sluice::from("orders", iota(0, 1000))
                    .map("order",
                         [](int v) {
                           sluice::test::spin(v % 5 * 100);
                           return Order{v};
                         },
                         {.concurrency = 2});
  auto payments = sluice::from("payments", shuffled).map("payment", [](int v) {
    sluice::test::spin(v % 3 * 150);
    return Payment{v, v * 10};
  });
  std::mutex m;
  std::vector<int> got;
  Report r =
      sluice::join_by_key(
          "paid", [](const Order& o) { return o.id; }, [](const Payment& p) { return p.order; },
          [](Order o, Payment p) {
            EXPECT_EQ(p.cents, o.id * 10);
            return o.id;
          },
          orders, payments, {.max_waiting = 1000})
          .sink("out",
                [&](int id) {
                  std::lock_guard lock(m);
                  got.push_back(id);
                })
          .run({.threads = threads()});
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, iota(0, 1000));
  EXPECT_EQ(r.produced, 2000u);
  EXPECT_EQ(r.delivered, 2000u);  // a joined item delivers both of its items
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "paid").out, 1000u);
  expect_join_law(r, "paid");
}

TEST_P(KeyedJoin, ItemsLeftUnmatchedAtTheEndAreFilteredAndShownToTheHook) {
  HookLog unmatched;
  std::atomic<int> pairs{0};
  Report r = sluice::join_by_key(
                 "j", [](int v) { return v; }, [](int v) { return v; },
                 [](int x, int y) { return x + y; }, sluice::from("a", iota(0, 100)),
                 sluice::from("b", iota(50, 150)), {.max_waiting = 200}, unmatched.hook())
                 .sink("out",
                       [&](int s) {
                         EXPECT_EQ(s % 2, 0);
                         ++pairs;
                       })
                 .run({.threads = threads()});
  EXPECT_EQ(pairs.load(), 50);
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(r.filtered, 100u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::a, true), 50u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::b, true), 50u);
  EXPECT_EQ(unmatched.seen.size(), 100u);  // nothing was evicted early
  for (const auto& [v, u] : unmatched.seen) {
    EXPECT_TRUE(u.side == sluice::JoinSide::a ? v < 50 : v >= 100) << v;
  }
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "j").filtered, 100u);
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, UnmatchedItemsFailWithNoPartnerWhenAskedTo) {
  std::vector<std::string> dead;
  std::mutex m;
  auto join = [&] {
    return sluice::join_by_key(
               "j", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; },
               sluice::from("a", iota(0, 100)), sluice::from("b", iota(90, 110)),
               {.max_waiting = 200, .unmatched = sluice::UnmatchedOutcome::failed})
        .sink("out", [](int) {});
  };
  Report r =
      join().run({.threads = threads(),
                  .on_error = sluice::ErrorPolicy::dead_letter([&](const sluice::Failure& f) {
                    std::lock_guard lock(m);
                    dead.push_back(f.message);
                  })});
  EXPECT_EQ(r.delivered, 20u);
  EXPECT_EQ(r.failed, 100u);
  EXPECT_EQ(stage(r, "j").failed, 100u);
  ASSERT_EQ(dead.size(), 100u);
  EXPECT_NE(dead.front().find("found no partner (end of input)"), std::string::npos)
      << dead.front();
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "j");

  // Under the default fail-fast policy the first one stops the run.
  try {
    join().run({.threads = threads()});
    FAIL() << "expected a PipelineError";
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.stage(), "j");
    EXPECT_NE(std::string(e.what()).find("join_by_key 'j'"), std::string::npos) << e.what();
    EXPECT_TRUE(e.report().balanced());
  }
}

TEST_P(KeyedJoin, AtTheCountBoundTheOldestWaitingItemIsEvicted) {
  // No key matches: every item waits, and each side keeps at most 8. The sources allow
  // only 17 items each in flight (2 * 8 + 1, the least the run accepts), so a side that
  // kept more would stall its source.
  HookLog unmatched;
  Report r = sluice::join_by_key(
                 "j", [](int v) { return v; }, [](int v) { return v; },
                 [](int x, int y) { return x + y; }, sluice::from("a", iota(0, 1000)),
                 sluice::from("b", iota(5000, 6000)), {.max_waiting = 8}, unmatched.hook())
                 .sink("out", [](int) { ADD_FAILURE() << "no key matches"; })
                 .run({.threads = threads(), .max_in_flight = 17});
  EXPECT_EQ(unmatched.count(sluice::JoinSide::a, false), 992u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::b, false), 992u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::a, true), 8u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::b, true), 8u);
  EXPECT_EQ(r.filtered, 2000u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "j").out, 0u);
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, EvictionGoesOldestFirst) {
  // One side only, in source order (a serial ordered map in front of the join): the
  // evicted items come out in that order too.
  HookLog unmatched;
  auto a = sluice::from("a", iota(0, 300))
               .map("in-order", [](int v) { return v; }, {.concurrency = 1, .ordered = true});
  Report r =
      sluice::join_by_key(
          "j", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; }, a,
          sluice::from("b", std::vector<int>{}), {.max_waiting = 4}, unmatched.hook())
          .sink("out", [](int) {})
          .run({.threads = threads(), .max_in_flight = 9});
  std::vector<int> order;
  std::vector<int> last;
  for (const auto& [v, u] : unmatched.seen) {
    order.push_back(v);
    if (u.at_end_of_input) last.push_back(v);
  }
  // The newest four are the ones still waiting at the end. (With one thread the hook
  // also sees the evicted items in order; with more, two evictions may reach it swapped.)
  std::sort(last.begin(), last.end());
  EXPECT_EQ(last, iota(296, 300));
  if (threads() == 1) {
    EXPECT_EQ(order, iota(0, 300));
  }
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, iota(0, 300));
  EXPECT_EQ(r.filtered, 300u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(KeyedJoin, DuplicateKeysPairUpFirstInFirstOutEachItemOnce) {
  // Keys repeat on both sides (v % 10): each item is matched at most once, and the k-th
  // item of a key on one side pairs with the k-th of that key on the other.
  auto a = sluice::from("a", iota(0, 200))
               .map("a1", [](int v) { return v; }, {.concurrency = 1, .ordered = true});
  auto b = sluice::from("b", iota(0, 150))
               .map("b1", [](int v) { return v; }, {.concurrency = 1, .ordered = true});
  std::mutex m;
  std::vector<std::pair<int, int>> got;
  Report r = sluice::join_by_key(
                 "j", [](int v) { return v % 10; }, [](int v) { return v % 10; },
                 [](int x, int y) { return std::make_pair(x, y); }, a, b, {.max_waiting = 200})
                 .sink("out",
                       [&](std::pair<int, int> p) {
                         std::lock_guard lock(m);
                         got.push_back(p);
                       })
                 .run({.threads = threads()});
  ASSERT_EQ(got.size(), 150u);
  for (const auto& [x, y] : got) EXPECT_EQ(x, y) << "the k-th of a key pairs with the k-th";
  EXPECT_EQ(r.delivered, 300u);
  EXPECT_EQ(r.filtered, 50u);  // a's 150..199 wait in vain
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, OneSideEmptyEndsEveryItemOfTheOther) {
  HookLog unmatched;
  Report r = sluice::join_by_key(
                 "j", [](int v) { return v; }, [](const Order& o) { return o.id; },
                 [](int x, Order) { return x; }, sluice::from("a", iota(0, 500)),
                 sluice::from("none", std::vector<Order>{}), {.max_waiting = 16}, unmatched.hook())
                 .sink("out", [](int) {})
                 .run({.threads = threads(), .max_in_flight = 64});
  EXPECT_EQ(r.produced, 500u);
  EXPECT_EQ(r.filtered, 500u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::a, false), 484u);
  EXPECT_EQ(unmatched.count(sluice::JoinSide::a, true), 16u);
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, ItemsEndingInsideTheJoinDoNotDeadlockTheLimiterThatHandsThemOn) {
  // The join's bodies are lightweight: they run inside the call of the limiter_node that
  // hands them an item, while it holds its successors locked. Placeholders end there and
  // give their slots back to that same limiter (see Graph.ItemsEndingInsideALightweight...).
  for (int round = 0; round < 20; ++round) {
    auto a = sluice::from("a", iota(0, 2000))
                 .filter("odd-out", [](int v) { return v % 2 == 0; }, {.lightweight = true});
    std::atomic<int> pairs{0};
    Report r =
        sluice::join_by_key(
            "j", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; }, a,
            sluice::from("b", iota(0, 2000)), {.max_waiting = 2})
            .sink("out",
                  [&](int) {
                    sluice::test::spin(2000);  // pairs queue here, holding a's slots
                    ++pairs;
                  })
            .run({.threads = threads(), .max_in_flight = 6});
    EXPECT_EQ(r.produced, 4000u);
    EXPECT_EQ(r.delivered, 2u * static_cast<std::uint64_t>(pairs.load()));
    EXPECT_TRUE(r.balanced());
  }
}

TEST_P(KeyedJoin, OneSideFarSlowerNeitherStallsNorLosesItems) {
  // The slow side holds its items long; the fast side fills its waiting room and evicts.
  // Whatever pairs up, every item ends once.
  auto fast = sluice::from("fast", iota(0, 3000));
  auto slow = sluice::from("slow", iota(0, 3000)).map("crawl", [](int v) {
    sluice::test::spin(3000);
    return v;
  });
  std::atomic<int> pairs{0};
  Report r = sluice::join_by_key(
                 "j", [](int v) { return v; }, [](int v) { return v; },
                 [](int x, int y) {
                   EXPECT_EQ(x, y);
                   return x;
                 },
                 fast, slow, {.max_waiting = 32})
                 .sink("out", [&](int) { ++pairs; })
                 .run({.threads = threads(), .max_in_flight = 65});
  EXPECT_EQ(r.produced, 6000u);
  EXPECT_EQ(r.delivered, 2u * static_cast<std::uint64_t>(pairs.load()));
  EXPECT_EQ(r.delivered + r.filtered, 6000u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, ItemsFilteredOrFailedUpstreamLeaveTheirPartnersUnmatched) {
  // Side a drops multiples of 3 and fails on the other multiples of 5; their partners on
  // side b wait in vain and are filtered at the end.
  auto a = sluice::from("a", iota(0, 1000))
               .filter("not-3", [](int v) { return v % 3 != 0; })
               .map("not-5",
                    [](int v) {
                      if (v % 5 == 0) throw std::runtime_error("five");
                      return v;
                    },
                    {.concurrency = 2});
  Report r =
      sluice::join_by_key(
          "j", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; }, a,
          sluice::from("b", iota(0, 1000)), {.max_waiting = 1000})
          .sink("out", [](int) {})
          .run({.threads = threads(), .on_error = sluice::ErrorPolicy::skip()});
  // 334 multiples of 3; 200 of 5, 67 of them of 15: 133 fail; 533 pair up.
  EXPECT_EQ(stage(r, "not-3").filtered, 334u);
  EXPECT_EQ(stage(r, "not-5").failed, 133u);
  EXPECT_EQ(stage(r, "j").out, 533u);
  EXPECT_EQ(stage(r, "j").filtered, 467u);
  EXPECT_EQ(r.delivered, 1066u);
  EXPECT_EQ(r.filtered, 334u + 467u);
  EXPECT_EQ(r.failed, 133u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.cancelled, 0u);
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, AJoinedItemsOutcomeIsTheOutcomeOfBothItsItems) {
  // Pairs whose combine throws fail both items; pairs filtered after the join filter both.
  auto join = sluice::join_by_key(
      "j", [](int v) { return v; }, [](int v) { return v; },
      [](int x, int) {
        if (x % 10 == 0) throw std::runtime_error("ten");
        return x;
      },
      sluice::from("a", iota(0, 100)), sluice::from("b", iota(0, 100)), {.max_waiting = 100});
  std::atomic<int> sunk{0};
  Report r = join.filter("odd", [](int v) { return v % 2 == 1; })
                 .sink("out", [&](int) { ++sunk; })
                 .run({.threads = threads(), .on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(sunk.load(), 50);
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(r.failed, 20u);
  EXPECT_EQ(r.filtered, 80u);  // 40 even pairs that did not fail
  EXPECT_EQ(stage(r, "j").failed, 20u);
  EXPECT_EQ(stage(r, "odd").filtered, 80u);
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "j");
}

TEST_P(KeyedJoin, JoinsTheBranchesOfARouteAndOfATee) {
  // A route: evens pair with the next odd (both from one source, plain items).
  auto [even, odd] =
      sluice::from("n", iota(0, 1000)).partition("parity", [](int v) { return v % 2 == 0; });
  std::atomic<long> sum{0};
  Report r = sluice::join_by_key(
                 "pair", [](int v) { return v / 2; }, [](int v) { return v / 2; },
                 [](int x, int y) { return x + y; }, even, odd, {.max_waiting = 100})
                 .sink("out", [&](int s) { sum += s; })
                 .run({.threads = threads(), .max_in_flight = 201});
  EXPECT_EQ(sum.load(), 999L * 1000L / 2);
  EXPECT_EQ(r.delivered, 1000u);
  EXPECT_TRUE(r.balanced());
  expect_join_law(r, "pair");

  // A tee: the copies of one item meet again by key, like join() but by a key.
  auto [x, y] = sluice::from("m", iota(0, 1000)).tee<2>("t");
  auto names = y.map("name", [](int v) { return std::to_string(v); }, {.concurrency = 2});
  std::atomic<int> ok{0};
  Report t =
      sluice::join_by_key(
          "named", [](int v) { return v; }, [](const std::string& s) { return std::stoi(s); },
          [](int v, std::string s) { return std::to_string(v) == s; }, x, names,
          {.max_waiting = 1000})
          .sink("out", [&](bool same) { ok += same ? 1 : 0; })
          .run({.threads = threads()});
  EXPECT_EQ(ok.load(), 1000);
  EXPECT_EQ(t.delivered, 1000u);  // each item once, however many of its copies arrive
  EXPECT_EQ(stage(t, "named").in, 2000u);
  EXPECT_TRUE(t.balanced());
}

TEST_P(KeyedJoin, CancelMidRunLeavesTheBooksBalancedAndItRunsAgain) {
  // Evens pair with the next odd. (Two independent sources running at their own pace
  // would find partners only within the waiting room: that is what the bound means.)
  // With 129 items in flight at most, 65 evens cannot pass a waiting even's partner, so
  // nothing is evicted. In the first run one odd in ten has a key no even has: its even
  // and it wait, so the cancel always finds items in the join.
  int limit = 1'000'000;
  int next = 0;
  std::atomic<bool> break_keys{true};
  auto [even, odd] = sluice::generate("n", [&]() -> std::optional<int> {
                       if (next >= limit) return std::nullopt;
                       return next++;
                     }).partition("parity", [](int v) { return v % 2 == 0; });
  std::atomic<int> got{0};
  sluice::Pipeline p = sluice::join_by_key(
                           "j", [](int v) { return v / 2; },
                           [&](int v) { return break_keys && v % 20 == 1 ? -v : v / 2; },
                           [](int x, int) { return x; }, even, odd, {.max_waiting = 64})
                           .sink("out", [&](int) {
                             sluice::test::spin(200);
                             ++got;
                           });
  Report r = sluice::test::cancel_when(p, {.threads = threads(), .max_in_flight = 129},
                                       [&] { return got.load() >= 100; });
  EXPECT_GT(r.cancelled, 0u);

  break_keys = false;
  limit = 2000;
  next = 0;
  got = 0;
  Report again = p.run({.threads = threads(), .max_in_flight = 129});
  EXPECT_FALSE(again.was_cancelled);
  EXPECT_EQ(again.produced, 2000u);
  EXPECT_EQ(again.delivered, 2000u);
  EXPECT_EQ(got.load(), 1000);
  EXPECT_TRUE(again.balanced());
  expect_join_law(again, "j");
}

INSTANTIATE_TEST_SUITE_P(Threads, KeyedJoin, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return "t" + std::to_string(info.param); });

TEST(KeyedJoinBuild, RefusesBoundsThatCouldStallASource) {
  auto join = [](std::size_t max_waiting) {
    return sluice::join_by_key(
        "j", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; },
        sluice::from("a", iota(0, 3)), sluice::from("b", iota(0, 3)), {.max_waiting = max_waiting});
  };
  EXPECT_THROW((void)join(0), std::invalid_argument);
  sluice::Pipeline p = join(8).sink("out", [](int) {});
  try {
    p.run({.max_in_flight = 16});
    FAIL() << "expected an invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("17"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("keyed joins"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(p.run({.max_in_flight = 17}).balanced());
  // The default max_in_flight leaves room for the join.
  EXPECT_EQ(join(1000).sink("out", [](int) {}).run().delivered, 6u);
}

TEST(KeyedJoinBuild, ToDotShowsTheJoinAndItsTwoInputs) {
  sluice::Pipeline p =
      sluice::join_by_key(
          "by id", [](int v) { return v; }, [](int v) { return v; }, [](int x, int) { return x; },
          sluice::from("a", iota(0, 3)), sluice::from("b", iota(0, 3)), {.max_waiting = 5})
          .sink("out", [](int) {});
  std::string dot = p.to_dot();
  EXPECT_NE(dot.find("(join_by_key)"), std::string::npos) << dot;
  EXPECT_NE(dot.find("matching by key, at most 5 waiting per side"), std::string::npos) << dot;
  std::size_t edges = 0;
  std::istringstream lines(dot);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  n", 0) == 0 && line.find(" -> n") != std::string::npos) ++edges;
  }
  EXPECT_EQ(edges, 3u);  // a->join, b->join, join->out
}

}  // namespace
