// Failure policies: fail fast, skip within a budget (count or rate), dead letter; from
// the source, a stage, an async operation and the sink. Counts always add up.
#include <gtest/gtest.h>

#include <ranges>
#include <set>

#include <sluice/sluice.hpp>

namespace {

auto failing_on(std::set<int> bad) {
  return [bad](int x) {
    if (bad.count(x)) throw std::runtime_error("bad item " + std::to_string(x));
    return x;
  };
}

TEST(Failure, FailFastRethrowsNamingStageAndItem) {
  auto p = sluice::from("n", std::views::iota(0, 100000))
               .map("parse", failing_on({41}), {.concurrency = 2})
               .sink("drop", [](int) {});
  try {
    p.run({.threads = 2, .max_in_flight = 16});
    FAIL() << "no exception";
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.stage(), "parse");
    EXPECT_EQ(e.item_index(), 41u);
    EXPECT_NE(std::string(e.what()).find("stage 'parse' failed on item 41: bad item 41"),
              std::string::npos)
        << e.what();
    const sluice::Report& r = e.report();
    EXPECT_EQ(r.failed, 1u);
    EXPECT_TRUE(r.was_cancelled);
    EXPECT_TRUE(r.balanced());
    EXPECT_LT(r.produced, 100000u);  // it stopped early
    try {
      std::rethrow_exception(e.cause());
    } catch (const std::runtime_error& cause) {
      EXPECT_STREQ(cause.what(), "bad item 41");
    }
  }
}

TEST(Failure, SkipGoesOnAndCounts) {
  auto r = sluice::from("n", std::views::iota(0, 1000))
               .map("parse", failing_on({1, 2, 3, 500}), {.concurrency = 4})
               .sink("drop", [](int) {})
               .run({.on_error = sluice::ErrorPolicy::skip(4)});
  EXPECT_EQ(r.failed, 4u);
  EXPECT_EQ(r.delivered, 996u);
  EXPECT_FALSE(r.was_cancelled);
}

TEST(Failure, SkipBudgetSpentStopsTheRun) {
  auto p = sluice::from("n", std::views::iota(0, 1000))
               .map("parse", failing_on({1, 2, 3, 500}))
               .sink("drop", [](int) {});
  try {
    p.run({.max_in_flight = 8, .on_error = sluice::ErrorPolicy::skip(3)});
    FAIL() << "no exception";
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.item_index(), 500u);
    EXPECT_NE(std::string(e.what()).find("more than the 3 allowed"), std::string::npos) << e.what();
    EXPECT_TRUE(e.report().balanced());
  }
}

TEST(Failure, SkipRateToleratesAFewAndStopsOnMany) {
  auto every = [](int n) {
    return [n](int x) {
      if (x % n == 0) throw std::runtime_error("boom");
      return x;
    };
  };
  auto ok = sluice::from("n", std::views::iota(1, 5001))
                .map("f", every(100))
                .sink("drop", [](int) {})
                .run({.on_error = sluice::ErrorPolicy::skip_rate(0.05)});
  EXPECT_EQ(ok.failed, 50u);
  auto p = sluice::from("n", std::views::iota(1, 5001)).map("f", every(5)).sink("drop", [](int) {});
  EXPECT_THROW(p.run({.on_error = sluice::ErrorPolicy::skip_rate(0.05)}), sluice::PipelineError);
}

TEST(Failure, DeadLetterSeesEachFailureOnce) {
  std::multiset<std::uint64_t> seen;
  std::set<std::string> stages;
  auto r = sluice::from("n", std::views::iota(0, 2000))
               .map("a", failing_on({5, 50, 500}), {.concurrency = 4})
               .map("b", failing_on({6, 60, 600}), {.concurrency = 4})
               .sink("drop", [](int) {})
               .run({.threads = 4,
                     .on_error = sluice::ErrorPolicy::dead_letter([&](const sluice::Failure& f) {
                       seen.insert(f.item_index);
                       stages.insert(f.stage);
                       EXPECT_NE(f.message.find("bad item"), std::string::npos);
                       EXPECT_TRUE(f.error);
                     })});
  EXPECT_EQ(seen, (std::multiset<std::uint64_t>{5, 6, 50, 60, 500, 600}));
  EXPECT_EQ(stages, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(r.failed, 6u);
  EXPECT_TRUE(r.balanced());
}

TEST(Failure, StagePolicyOverridesThePipelines) {
  auto r = sluice::from("n", std::views::iota(0, 100))
               .map("lenient", failing_on({1, 2}), {.on_error = sluice::ErrorPolicy::skip()})
               .sink("drop", [](int) {})
               .run();  // fail fast elsewhere
  EXPECT_EQ(r.failed, 2u);
  EXPECT_EQ(r.delivered, 98u);
}

TEST(Failure, SourceExceptionsCount) {
  int i = 0;
  auto gen = [&]() -> std::optional<int> {
    int x = i++;
    if (x == 10) return std::nullopt;
    if (x % 3 == 0) throw std::runtime_error("unreadable record");
    return x;
  };
  auto r = sluice::generate("reader", gen)
               .sink("drop", [](int) {}, {})
               .run({.on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.produced, 10u);
  EXPECT_EQ(r.failed, 4u);  // 0, 3, 6, 9
  EXPECT_EQ(r.delivered, 6u);
  EXPECT_TRUE(r.balanced());

  i = 0;
  auto p = sluice::generate("reader", gen).sink("drop", [](int) {});
  try {
    p.run();
    FAIL();
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.stage(), "reader");
    EXPECT_EQ(e.item_index(), 0u);
  }
}

TEST(Failure, SinkExceptionsCount) {
  auto r = sluice::from("n", std::views::iota(0, 50))
               .sink("store",
                     [](int x) {
                       if (x % 10 == 0) throw std::runtime_error("disk full");
                     },
                     {.on_error = sluice::ErrorPolicy::skip()})
               .run();
  EXPECT_EQ(r.failed, 5u);
  EXPECT_EQ(r.delivered, 45u);
}

TEST(Failure, AsyncFailuresAndSynchronousThrowsCount) {
  auto r = sluice::from("n", std::views::iota(0, 100))
               .async_map<int>("op",
                               [](int x, sluice::Completion<int> done) {
                                 if (x % 10 == 0) throw std::runtime_error("refused");
                                 if (x % 10 == 1) {
                                   done.fail("timeout");
                                   return;
                                 }
                                 done.succeed(x);
                               },
                               {.max_in_flight = 8})
               .sink("drop", [](int) {})
               .run({.on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.failed, 20u);
  EXPECT_EQ(r.delivered, 80u);
  EXPECT_TRUE(r.balanced());
}

TEST(Failure, AFailedBatchCountsEveryMember) {
  auto r = sluice::from("n", std::views::iota(0, 40))
               .batch("b", 10)
               .map("explode",
                    [](std::vector<int> b) {
                      if (b.front() == 10) throw std::runtime_error("bad batch");
                      return b;
                    })
               .sink("drop", [](auto&&) {})
               .run({.on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.failed, 10u);
  EXPECT_EQ(r.delivered, 30u);
  EXPECT_TRUE(r.balanced());
}

TEST(Failure, ConsumerNextRethrowsTheFailure) {
  auto items = sluice::from("n", std::views::iota(0, 1000))
                   .map("parse", failing_on({20}))
                   .consume({.max_in_flight = 4}, {.ordered = true});
  int got = 0;
  try {
    while (items.next()) ++got;
    FAIL() << "no exception";
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.item_index(), 20u);
    EXPECT_LE(got, 20);
    EXPECT_TRUE(e.report().balanced());
  }
}

}  // namespace
