// The oneTBB 2021.8 flow-graph pitfalls listed in docs/architecture.md ("oneTBB
// pitfalls"), each pinned by a test of the engine's behaviour where the pitfall would show.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// "A limiter_node with nothing that buffers in front of it drops what it rejects":
// the async stage's limiter admits one operation at a time; every other item must
// wait in front of it, not vanish.
TEST(Pitfall, ALimiterRejectingItemsDropsNothing) {
  sluice::test::CompleterThread<int> completer(1);
  auto r =
      sluice::from("n", std::views::iota(0, 5000))
          .map("spread", [](int x) { return x; }, {.concurrency = sluice::unlimited})
          .async_map<int>(
              "one", [&](int, sluice::Completion<int> done) { completer.add(std::move(done)); },
              {.max_in_flight = 1})
          .sink("s", [](int) {})
          .run({.threads = 4, .max_in_flight = 512});
  EXPECT_EQ(r.delivered, 5000u);
  EXPECT_EQ(r.cancelled, 0u);
}

// "A continue_msg decrementer with two incoming edges needs a message on both": the
// run's limiter is given slots back from several places (filter placeholders at the
// sink, failures, deliveries, tail of a batch). With max_in_flight 1 a single missed
// decrement would hang the run.
TEST(Pitfall, SlotsComeBackFromEveryPathWithOneInFlight) {
  auto r = sluice::from("n", std::views::iota(0, 2000))
               .filter("f", [](int x) { return x % 3 != 0; })
               .map("m",
                    [](int x) {
                      if (x % 5 == 0) throw std::runtime_error("five");
                      return x;
                    })
               .flat_map("fm",
                         [](int x) { return std::vector<int>(static_cast<std::size_t>(x % 2), x); })
               .sink("s", [](int) {})
               .run({.threads = 2, .max_in_flight = 1, .on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.produced, 2000u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.cancelled, 0u);
}

// "wait_for_all() returns early without reserve_wait()": operations completed later,
// from a thread the graph does not know, must still be waited for.
TEST(Pitfall, RunWaitsForOperationsCompletedOutsideTheGraph) {
  // Completions come late and in bursts: the completer works at its own pace.
  sluice::test::CompleterThread<int> late(7, {}, 1ms);
  auto r = sluice::from("n", std::views::iota(0, 200))
               .async_map<int>(
                   "late", [&](int, sluice::Completion<int> done) { late.add(std::move(done)); },
                   {.max_in_flight = 64})
               .sink("s", [](int) {})
               .run({.threads = 2});
  EXPECT_EQ(r.delivered, 200u);
}

// "wait_for_all() never returns if a release_wait() is missed, cancel or not":
// operations that never complete are released by the cancel.
TEST(Pitfall, CancelReleasesOperationsThatNeverComplete) {
  auto h = sluice::from("n", std::views::iota(0, 100))
               .async_map<int>("never", [](int, sluice::Completion<int>) {}, {.max_in_flight = 10})
               .sink("s", [](int) {})
               .start({.threads = 2, .deadline = 50ms});
  auto r = h.wait();
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_EQ(r.cancelled, r.produced);
  EXPECT_TRUE(r.balanced());
}

// "After a cancel or an exception the limiter stays full": the next run must not
// inherit it.
TEST(Pitfall, ARunAfterAFailureStartsWithAnEmptyLimiter) {
  bool fail = true;
  auto p = sluice::from("n", std::views::iota(0, 100))
               .map("m",
                    [&](int x) {
                      if (fail && x == 3) throw std::runtime_error("once");
                      return x;
                    })
               .sink("s", [](int) {});
  EXPECT_THROW(p.run({.max_in_flight = 2}), sluice::PipelineError);
  fail = false;
  EXPECT_EQ(p.run({.max_in_flight = 2}).delivered, 100u);
}

// "A serial function_node does not preserve order": an ordered sink fed by a serial
// stage that follows a concurrent one still sees input order.
TEST(Pitfall, SerialStageAloneDoesNotOrderButOrderedOneDoes) {
  std::vector<int> out;
  sluice::from("n", std::views::iota(0, 1000))
      .map("jitter",
           [](int x) {
             sluice::test::spin((x % 7) * 2000);
             return x;
           },
           {.concurrency = 4})
      .map("serial", [](int x) { return x; }, {.concurrency = 1, .ordered = true})
      .sink("s", [&](int x) { out.push_back(x); })
      .run({.threads = 4});
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
}

// "input_node must be activate()d, and must never block inside its body": a
// rate-limited source paces on its own thread, so with a single arena thread the
// stages still run between releases.
TEST(Pitfall, RateLimitedSourceDoesNotHoldAWorker) {
  std::vector<std::int64_t> at;
  auto t0 = std::chrono::steady_clock::now();
  auto r = sluice::from("paced", std::views::iota(0, 20), {.items_per_second = 200})
               .map("stamp",
                    [&](int x) {
                      at.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count());
                      return x;
                    })
               .sink("s", [](int) {})
               .run({.threads = 1});
  EXPECT_EQ(r.delivered, 20u);
  ASSERT_EQ(at.size(), 20u);
  // Item k is released 5 ms after item k - 1 at the earliest, and the first no earlier
  // than the run's start (after t0): a busy machine can only make items later. (The
  // span between first and last is no measure: a late first item shortens it.)
  for (std::size_t k = 0; k < at.size(); ++k) {
    EXPECT_GE(at[k], static_cast<std::int64_t>(k) * 5000 - 100) << "item " << k;
  }
}

// A rate-limited generator stands for messages arriving at that rate: it must be called
// at the rate, not up to max_in_flight times at once with the items held back after.
TEST(Pitfall, RateLimitedGeneratorIsCalledAtTheRate) {
  std::vector<std::int64_t> called;
  auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  auto r =
      sluice::generate("arrivals",
                       [&]() -> std::optional<int> {
                         if (n == 20) return std::nullopt;
                         called.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::steady_clock::now() - t0)
                                              .count());
                         return n++;
                       },
                       {.items_per_second = 200})
          .sink("s", [](int) {})
          .run({.threads = 2, .max_in_flight = 1000});
  EXPECT_EQ(r.delivered, 20u);
  ASSERT_EQ(called.size(), 20u);
  // Call k comes 5 ms after call k - 1 at the earliest (the first no earlier than the
  // run's start, after t0), not all at once: a busy machine can only make calls later.
  for (std::size_t k = 0; k < called.size(); ++k) {
    EXPECT_GE(called[k], static_cast<std::int64_t>(k) * 5000 - 100) << "call " << k;
  }
  EXPECT_TRUE(r.balanced());
}

TEST(Pitfall, RateLimitedSourceEndsPromptlyWithTicketsLeft) {
  // The range ends long before the budget's worth of tickets is paced out: the leftover
  // tickets are released at once, so the run takes 5 periods, not 1,000.
  auto t0 = std::chrono::steady_clock::now();
  auto r = sluice::from("five", std::views::iota(0, 5), {.items_per_second = 50})
               .sink("s", [](int) {})
               .run({.threads = 2, .max_in_flight = 1000});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.delivered, 5u);
  EXPECT_TRUE(r.balanced());
  EXPECT_LT(took, 5s);  // 1,000 tickets paced at 50/s would take 20 s
}

TEST(Pitfall, RateLimitedSourceHonoursItsLimitAndFailures) {
  int n = 0;
  auto r = sluice::generate("gen",
                            [&]() -> std::optional<int> {
                              ++n;
                              if (n % 4 == 0) throw std::runtime_error("every fourth");
                              return n;
                            },
                            {.items_per_second = 2000, .limit = 40})
               .sink("s", [](int) {})
               .run({.threads = 2, .on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.produced, 40u);
  EXPECT_EQ(r.failed, 10u);
  EXPECT_EQ(r.delivered, 30u);
  EXPECT_TRUE(r.balanced());
}

}  // namespace
