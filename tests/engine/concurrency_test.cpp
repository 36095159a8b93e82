// Caps honoured: the most bodies seen running at once equals the stage's cap.
#include <gtest/gtest.h>

#include <ranges>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using sluice::test::ConcurrencyGauge;

// Bodies wait (bounded) until `target` of them run together, so the cap is reached
// whenever the engine allows it; a gauge records the most that ever ran at once.
int measure_map(std::size_t cap, std::size_t threads, int target) {
  ConcurrencyGauge gauge;
  std::atomic<int> done{0};
  const int items = 60;
  auto r = sluice::from("n", std::views::iota(0, items))
               .map("probe",
                    [&](int x) {
                      ConcurrencyGauge::Scope s(gauge);
                      sluice::test::wait_until(
                          [&] { return gauge.active() >= target || done.load() + target > items; },
                          std::chrono::milliseconds(20));
                      done.fetch_add(1);
                      return x;
                    },
                    {.concurrency = cap})
               .sink("drop", [](int) {})
               .run({.threads = threads});
  EXPECT_EQ(r.delivered, static_cast<std::uint64_t>(items));
  return gauge.max();
}

TEST(Concurrency, SerialStageRunsOneBodyAtATime) {
  EXPECT_EQ(measure_map(1, 4, 2), 1);
}

TEST(Concurrency, CapOfThreeIsReachedAndNeverExceeded) {
  EXPECT_EQ(measure_map(3, 6, 3), 3);
}

TEST(Concurrency, UnlimitedUsesEveryThreadOfTheArena) {
  EXPECT_EQ(measure_map(sluice::unlimited, 5, 5), 5);
}

TEST(Concurrency, TwoStagesKeepTheirOwnCaps) {
  ConcurrencyGauge a, b;
  auto body = [](ConcurrencyGauge& g) {
    return [&g](int x) {
      ConcurrencyGauge::Scope s(g);
      sluice::test::spin(20000);
      return x;
    };
  };
  auto r = sluice::from("n", std::views::iota(0, 400))
               .map("a", body(a), {.concurrency = 2})
               .map("b", body(b), {.concurrency = 1})
               .sink("drop", [](int) {})
               .run({.threads = 4});
  EXPECT_EQ(r.delivered, 400u);
  EXPECT_LE(a.max(), 2);
  EXPECT_EQ(b.max(), 1);
}

TEST(Concurrency, SinkIsSerial) {
  ConcurrencyGauge g;
  sluice::from("n", std::views::iota(0, 300))
      .map("spread", [](int x) { return x; }, {.concurrency = sluice::unlimited})
      .sink("probe",
            [&](int) {
              ConcurrencyGauge::Scope s(g);
              sluice::test::spin(2000);
            })
      .run({.threads = 4});
  EXPECT_EQ(g.max(), 1);
}

}  // namespace
