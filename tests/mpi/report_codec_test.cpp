// Reports travel between ranks whole: every field, stage rows and latency buckets.
#include <gtest/gtest.h>

#include <ranges>

#include <sluice/mpi/report.hpp>
#include <sluice/sluice.hpp>

namespace {

TEST(ReportCodec, AReportComesBackWithEveryFigure) {
  const sluice::Report r = sluice::from("src", std::views::iota(0, 500))
                               .filter("odd", [](int x) { return x % 2 == 1; })
                               .sink("sink", [](int) {})
                               .run({.threads = 2});
  const auto back = sluice::mpi::decode<sluice::Report>(sluice::mpi::encode(r));
  EXPECT_EQ(back.produced, r.produced);
  EXPECT_EQ(back.delivered, r.delivered);
  EXPECT_EQ(back.filtered, r.filtered);
  EXPECT_EQ(back.elapsed_s, r.elapsed_s);
  EXPECT_EQ(back.threads, r.threads);
  EXPECT_EQ(back.runs, r.runs);
  EXPECT_EQ(back.end_to_end.buckets, r.end_to_end.buckets);
  EXPECT_EQ(back.end_to_end.p99_us, r.end_to_end.p99_us);
  ASSERT_EQ(back.stages.size(), r.stages.size());
  for (std::size_t i = 0; i < r.stages.size(); ++i) {
    EXPECT_EQ(back.stages[i].name, r.stages[i].name);
    EXPECT_EQ(back.stages[i].kind, r.stages[i].kind);
    EXPECT_EQ(back.stages[i].concurrency, r.stages[i].concurrency);
    EXPECT_EQ(back.stages[i].in, r.stages[i].in);
    EXPECT_EQ(back.stages[i].filtered, r.stages[i].filtered);
    EXPECT_EQ(back.stages[i].task.buckets, r.stages[i].task.buckets);
    EXPECT_EQ(back.stages[i].busy_fraction, r.stages[i].busy_fraction);
  }
  EXPECT_EQ(back.table(), r.table());
}

}  // namespace
