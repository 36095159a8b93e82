// Cancellation from any thread, deadlines and consumers that leave early: the run
// returns promptly, counts add up, and the same pipeline runs again.
#include <gtest/gtest.h>

#include <random>
#include <ranges>
#include <stop_token>
#include <thread>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Cancel, AtRandomPointsOverHundredsOfRunsNeverHangsAndCountsAddUp) {
  std::mt19937 rng(12345);
  std::atomic<std::uint64_t> delivered_total{0};
  auto pipeline =
      sluice::from("n", std::views::iota(0, 1'000'000))
          .map("a", [](int x) { return x + static_cast<int>(sluice::test::spin(50) & 1); },
               {.concurrency = 2})
          .filter("f", [](int x) { return x % 5 != 0; }, {.concurrency = 2, .ordered = true})
          .batch("b", 8)
          .async_map<std::vector<int>>(
              "op",
              [](std::vector<int> v, sluice::Completion<std::vector<int>> done) {
                done.succeed(std::move(v));
              },
              {.max_in_flight = 4})
          .unbatch("u")
          .sink("s", [&](int) { delivered_total.fetch_add(1, std::memory_order_relaxed); },
                {.ordered = false});
  for (int run = 0; run < 200; ++run) {
    std::uint64_t after = std::uniform_int_distribution<std::uint64_t>(0, 3000)(rng);
    std::stop_source stop;
    delivered_total = 0;
    std::thread canceller([&] {
      sluice::test::wait_until([&] { return delivered_total.load() >= after; }, 5s);
      stop.request_stop();
    });
    sluice::Report r = pipeline.run({.threads = 2, .max_in_flight = 64, .stop = stop.get_token()});
    canceller.join();
    ASSERT_TRUE(r.balanced()) << "run " << run << "\n" << r;
    ASSERT_TRUE(r.was_cancelled) << "run " << run;
    ASSERT_EQ(r.cancel_reason, "cancelled");
    ASSERT_EQ(r.delivered, delivered_total.load());
  }
  // The same pipeline then runs to the end.
  auto r = sluice::from("n", std::views::iota(0, 1000)).sink("s", [](int) {}).run();
  EXPECT_EQ(r.delivered, 1000u);
}

TEST(Cancel, ReRunAfterCancelDeliversEverything) {
  std::atomic<int> seen{0};
  auto p = sluice::from("n", std::views::iota(0, 5000))
               .map("m", [](int x) { return x; }, {.concurrency = 2})
               .sink("s", [&](int) { seen.fetch_add(1); });
  std::stop_source stop;
  stop.request_stop();  // cancelled before it starts
  auto first = p.run({.max_in_flight = 4, .stop = stop.get_token()});
  EXPECT_TRUE(first.was_cancelled);
  EXPECT_TRUE(first.balanced());
  seen = 0;
  auto second = p.run({.max_in_flight = 4});
  EXPECT_EQ(second.delivered, 5000u);
  EXPECT_EQ(seen.load(), 5000);
}

TEST(Cancel, DeadlineEndsAnEndlessRun) {
  auto r = sluice::from("endless", std::views::iota(0))
               .map("m", [](int x) { return sluice::test::spin(100) + static_cast<unsigned>(x); })
               .sink("s", [](std::uint64_t) {})
               .run({.threads = 2, .deadline = 100ms});
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_EQ(r.cancel_reason, "deadline");
  EXPECT_GT(r.delivered, 0u);
  EXPECT_TRUE(r.balanced());
  EXPECT_LT(r.elapsed_s, 5.0);
}

TEST(Cancel, RunHandleCancelsFromAnotherThread) {
  std::atomic<int> n{0};
  auto h = sluice::from("endless", std::views::iota(0))
               .sink("s", [&](int) { n.fetch_add(1); })
               .start({.threads = 2});
  ASSERT_TRUE(sluice::test::wait_until([&] { return n.load() > 1000; }));
  h.cancel();
  auto r = h.wait();
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_TRUE(r.balanced());
}

TEST(Cancel, ConsumerThatBreaksEarlyEndsAnEndlessRunCleanly) {
  auto flow = sluice::from("endless", std::views::iota(0))
                  .map("m", [](int x) { return x * 2; }, {.concurrency = 2});
  for (int run = 0; run < 20; ++run) {
    auto items = flow.consume({.threads = 2, .max_in_flight = 8});
    int taken = 0;
    for (int v : items) {
      (void)v;
      if (++taken == 3) break;
    }
    auto r = items.finish();
    EXPECT_EQ(r.delivered, 3u);
    EXPECT_TRUE(r.was_cancelled);
    EXPECT_EQ(r.cancel_reason, "consumer stopped");
    EXPECT_TRUE(r.balanced());
  }
}

TEST(Cancel, DestroyingAConsumerMidRunDoesNotHang) {
  auto flow = sluice::from("endless", std::views::iota(0)).batch("b", 4);
  for (int run = 0; run < 20; ++run) {
    auto items = flow.consume({.threads = 2, .max_in_flight = 16});
    ASSERT_TRUE(items.next().has_value());
  }
}

TEST(Cancel, ConsumerCancelFromAnotherThreadWakesNext) {
  auto items =
      sluice::from("slow", std::views::iota(0))
          .async_map<int>("never", [](int, sluice::Completion<int>) {}, {.max_in_flight = 4})
          .consume({.threads = 2});
  std::thread t([&] { items.cancel(); });
  EXPECT_FALSE(items.next().has_value());
  t.join();
  auto r = items.finish();
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_TRUE(r.balanced());
}

}  // namespace
