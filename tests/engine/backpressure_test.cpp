// Memory stays bounded under a slow end: alive items never exceed max_in_flight plus a
// small constant, whatever the input size.
#include <gtest/gtest.h>

#include <ranges>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using sluice::test::Tracked;

// Items in transit beyond the limiter's count: the one the input_node caches, the one
// being built, and copies tbb makes for a moment while handing an envelope on.
constexpr long kSlack = 8;

TEST(BackPressure, SlowSinkWithAMillionItemsKeepsAliveItemsBounded) {
  Tracked::reset();
  const std::size_t max_in_flight = 64;
  std::uint64_t sum = 0;
  auto r = sluice::from("n", std::views::iota(0, 1'000'000))
               .map("wrap", [](int x) { return Tracked(x); }, {.concurrency = 2})
               .map("pass", [](Tracked t) { return t; }, {.concurrency = sluice::unlimited})
               .sink("slow",
                     [&](Tracked t) {
                       sum += static_cast<std::uint64_t>(t.value());
                       sluice::test::spin(50);
                     })
               .run({.threads = 2, .max_in_flight = max_in_flight});
  EXPECT_EQ(r.delivered, 1'000'000u);
  EXPECT_EQ(sum, 999'999ull * 1'000'000ull / 2);
  EXPECT_LE(Tracked::max_alive.load(), static_cast<long>(max_in_flight) + kSlack);
  EXPECT_EQ(Tracked::alive.load(), 0);
}

TEST(BackPressure, SlowConsumerKeepsAliveItemsBounded) {
  Tracked::reset();
  const std::size_t max_in_flight = 32;
  auto items = sluice::from("n", std::views::iota(0, 20'000))
                   .map("wrap", [](int x) { return Tracked(x); }, {.concurrency = 2})
                   .consume({.threads = 2, .max_in_flight = max_in_flight});
  long n = 0;
  while (auto t = items.next()) {
    sluice::test::spin(200);
    ++n;
  }
  EXPECT_EQ(n, 20'000);
  EXPECT_LE(Tracked::max_alive.load(), static_cast<long>(max_in_flight) + kSlack);
}

TEST(BackPressure, FilteredItemsHoldTheirSlotUntilTheyEnd) {
  // Almost everything is filtered early while the sink is slow: the placeholders that
  // keep order must not pile up unboundedly in front of the sink.
  Tracked::reset();
  auto r = sluice::from("n", std::views::iota(0, 200'000))
               .map("wrap", [](int x) { return Tracked(x); })
               .filter("rare", [](const Tracked& t) { return t.value() % 1000 == 0; })
               .sink("slow", [](Tracked) { sluice::test::spin(20000); }, {.ordered = true})
               .run({.threads = 2, .max_in_flight = 16});
  EXPECT_EQ(r.delivered, 200u);
  EXPECT_EQ(r.filtered, 199'800u);
  EXPECT_LE(Tracked::max_alive.load(), 16 + kSlack);
}

TEST(BackPressure, AsyncStageNeverHasMoreThanItsCapInFlight) {
  std::atomic<int> out{0}, peak{0};
  sluice::test::CompleterThread<int> completer(1, [&] { out.fetch_sub(1); });
  auto r = sluice::from("n", std::views::iota(0, 20'000))
               .async_map<int>("op",
                               [&](int, sluice::Completion<int> done) {
                                 int now = out.fetch_add(1) + 1;
                                 int seen = peak.load();
                                 while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                                 }
                                 completer.add(std::move(done));
                               },
                               {.max_in_flight = 10})
               .sink("drop", [](int) {})
               .run({.threads = 2, .max_in_flight = 256});
  EXPECT_EQ(r.delivered, 20'000u);
  EXPECT_LE(peak.load(), 10);
  EXPECT_GE(peak.load(), 2);
}

}  // namespace
