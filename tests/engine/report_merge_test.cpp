// sluice::merge: reports of the same graph (repeated runs, or the ranks of a distributed
// run) become one that adds up, with latencies merged from their histograms.
#include <gtest/gtest.h>

#include <ranges>

#include <sluice/sluice.hpp>

namespace {

sluice::Pipeline evens_of(int first, int last) {
  return sluice::from("src", std::views::iota(first, last))
      .map("square", [](int x) { return static_cast<long>(x) * x; })
      .filter("even", [](long x) { return x % 2 == 0; })
      .sink("sink", [](long) {});
}

TEST(ReportMerge, CountsAddStagesMergeRowByRowAndTheSumBalances) {
  const sluice::Report a = evens_of(0, 1000).run({.threads = 2});
  const sluice::Report b = evens_of(1000, 1301).run({.threads = 1});
  const sluice::Report m = sluice::merge(a, b);
  EXPECT_EQ(m.produced, 1301u);
  EXPECT_EQ(m.delivered, 651u);
  EXPECT_EQ(m.filtered, 650u);
  EXPECT_TRUE(m.balanced());
  EXPECT_EQ(m.runs, 2u);
  EXPECT_EQ(m.threads, 3u);
  EXPECT_DOUBLE_EQ(m.elapsed_s, std::max(a.elapsed_s, b.elapsed_s));
  ASSERT_EQ(m.stages.size(), a.stages.size());
  for (std::size_t i = 0; i < m.stages.size(); ++i) {
    EXPECT_EQ(m.stages[i].name, a.stages[i].name);
    EXPECT_EQ(m.stages[i].in, a.stages[i].in + b.stages[i].in);
    EXPECT_EQ(m.stages[i].out, a.stages[i].out + b.stages[i].out);
    EXPECT_EQ(m.stages[i].task.count, a.stages[i].task.count + b.stages[i].task.count);
  }
  EXPECT_EQ(m.end_to_end.count, a.end_to_end.count + b.end_to_end.count);
}

TEST(ReportMerge, LatencyQuantilesComeFromTheMergedHistogram) {
  // Two sets of durations far apart: the median of the union lies in the larger set, which
  // no combination of the two summaries' own quantiles would give.
  sluice::LatencySummary fast;
  sluice::LatencySummary slow;
  {
    const sluice::Report r = evens_of(0, 200).run({.threads = 1});
    fast = r.stages[1].task;
  }
  ASSERT_GT(fast.count, 0u);
  ASSERT_FALSE(fast.buckets.empty());
  // The same counts, a thousand times slower: each bucket index moves up by log2(1000) * 8.
  slow.buckets.assign(fast.buckets.size() + 80, 0);
  for (std::size_t b = 0; b < fast.buckets.size(); ++b) slow.buckets[b + 80] = fast.buckets[b];
  slow.count = fast.count;
  slow.sum_ns = fast.sum_ns * 1000;
  slow.buckets.push_back(0);  // one trailing empty bucket: harmless
  const auto both = sluice::merge(fast, slow);
  EXPECT_EQ(both.count, 2 * fast.count);
  EXPECT_EQ(both.sum_ns, fast.sum_ns + slow.sum_ns);
  EXPECT_GE(both.max_us, sluice::merge(slow, {}).max_us);
  EXPECT_LE(both.p50_us, sluice::merge(slow, {}).p50_us);
  EXPECT_GE(both.p99_us, sluice::merge(fast, {}).max_us);
  const auto self = sluice::merge(fast, {});
  EXPECT_DOUBLE_EQ(self.p50_us, fast.p50_us);
  EXPECT_DOUBLE_EQ(self.p99_us, fast.p99_us);
}

TEST(ReportMerge, ReportsOfDifferentGraphsDoNotMerge) {
  const sluice::Report a = evens_of(0, 10).run();
  const sluice::Report b =
      sluice::from("src", std::views::iota(0, 10)).sink("sink", [](int) {}).run();
  try {
    (void)sluice::merge(a, b);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "sluice::merge: the reports have 4 and 2 stages; only reports of the same graph "
                 "merge");
  }
}

}  // namespace
