// Reports: per-stage figures, the table, progress callbacks, and the Graphviz view.
#include <gtest/gtest.h>

#include <mutex>
#include <ranges>
#include <set>
#include <thread>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(Report, StagesCountWhatTheyDid) {
  std::mutex m;
  std::set<std::thread::id> map_threads;
  auto r = sluice::from("src", std::views::iota(0, 1000))
               .map("m",
                    [&](int x) {
                      {
                        std::lock_guard lock(m);
                        map_threads.insert(std::this_thread::get_id());
                      }
                      return sluice::test::spin(500) + static_cast<unsigned>(x);
                    },
                    {.concurrency = 2})
               .filter("f", [](std::uint64_t x) { return x % 2 == 0; })
               .sink("out", [](std::uint64_t) {})
               .run({.threads = 2});
  ASSERT_EQ(r.stages.size(), 4u);
  EXPECT_EQ(r.stages[0].name, "src");
  EXPECT_EQ(r.stages[0].out, 1000u);
  EXPECT_EQ(r.stages[1].kind, "map");
  EXPECT_EQ(r.stages[1].concurrency, 2u);
  EXPECT_EQ(r.stages[1].in, 1000u);
  // Task times are sampled (one in 32 past a thread's first 64); each sample stands for
  // the 31 tasks after it, so each thread that ran the map over-counts by at most 31.
  EXPECT_GE(r.stages[1].task.count, 1000u);
  EXPECT_LE(r.stages[1].task.count, 1000u + 31 * map_threads.size());
  EXPECT_GT(r.stages[1].task.p50_us, 0.0);
  EXPECT_GE(r.stages[1].task.p99_us, r.stages[1].task.p50_us);
  EXPECT_GT(r.stages[1].busy_fraction, 0.0);
  EXPECT_LE(r.stages[1].busy_fraction, 1.0);
  EXPECT_EQ(r.stages[2].filtered + r.stages[2].out, 1000u);
  EXPECT_EQ(r.stages[3].in, r.delivered);
  EXPECT_GT(r.end_to_end.count, 0u);
  EXPECT_LE(r.end_to_end.count, r.delivered);
  std::string table = r.table();
  for (const char* s : {"src", "m", "f", "out", "p99", "busy"}) {
    EXPECT_NE(table.find(s), std::string::npos) << s << "\n" << table;
  }
}

TEST(Report, ProgressReportsIntervalsWhileRunning) {
  std::atomic<int> calls{0};
  std::atomic<std::uint64_t> interval_delivered{0};
  auto r = sluice::from("n", std::views::iota(0, 1'000'000))
               .sink("s",
                     [&](int) {
                       // Keep the run going until two progress reports were seen.
                       if (calls.load() < 2)
                         sluice::test::wait_until([&] { return calls.load() >= 2; }, 5s);
                     })
               .run({.threads = 2,
                     .max_in_flight = 16,
                     .on_progress =
                         [&](const sluice::Progress& p) {
                           EXPECT_TRUE(p.total.stages.size() == 2);
                           EXPECT_GE(p.interval.elapsed_s, 0.0);
                           EXPECT_FALSE(p.line().empty());
                           interval_delivered += p.interval.delivered;
                           calls.fetch_add(1);
                         },
                     .progress_interval = 10ms});
  EXPECT_GE(calls.load(), 2);
  EXPECT_LE(interval_delivered.load(), r.delivered);
}

TEST(Report, ThrowingProgressCallbackStopsTheRun) {
  auto r = sluice::from("n", std::views::iota(0))
               .sink("s", [](int) {})
               .run({.on_progress = [](const sluice::Progress&) { throw std::runtime_error("x"); },
                     .progress_interval = 5ms});
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_NE(r.cancel_reason.find("progress callback"), std::string::npos);
}

TEST(Report, DotNamesTheFlowGraphNodes) {
  auto p = sluice::from("src", std::vector<int>{1})
               .map("m", [](int x) { return x; }, {.concurrency = 3, .ordered = true})
               .batch("b", 2)
               .sink("out", [](std::vector<int>) {});
  std::string dot = p.to_dot();
  for (const char* s :
       {"digraph", "input_node -> limiter_node", "function_node(3) -> sequencer_node",
        "multifunction_node(serial, 2 per batch)", "n0 -> n1", "n2 -> n3"}) {
    EXPECT_NE(dot.find(s), std::string::npos) << s << "\n" << dot;
  }
}

TEST(Report, DotOfAFlowNotYetEndedShowsWhereItsItemsWillLeave) {
  // A consumer loop joins the graph when consume() starts the run, so a flow drawn for
  // it beforehand has an open end; the drawing must show it rather than stop short.
  auto flow = sluice::from("src", std::vector<int>{1}).map("m", [](int x) { return x; });
  std::string dot = flow.to_dot();
  EXPECT_NE(dot.find("n1 -> open1 [style=dashed]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("sink() or consume()"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("open0"), std::string::npos) << "only the unended piece is open\n" << dot;

  auto ended = flow.sink("out", [](int) {});
  EXPECT_EQ(ended.to_dot().find("open"), std::string::npos) << ended.to_dot();
}

}  // namespace
