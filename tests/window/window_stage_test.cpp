// The tumbling-window stage inside pipelines: sums per key come out right, every item
// is accounted for, the tail is flushed at the end, a slow stream's window closes on
// the timer, and windows never hold the pipeline's in-flight budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <vector>

#include <sluice/sluice.hpp>
#include <sluice/window.hpp>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Sum {
  long total = 0;
  std::vector<int> seen;
};
auto add_to_sum = [](Sum& s, int x) {
  s.total += x;
  s.seen.push_back(x);
};
auto mod3 = [](const int& x) { return x % 3; };

TEST(WindowStage, CountWindowsReducePerKeyAndFlushTheTail) {
  std::vector<sluice::window::Window<int, Sum>> out;
  auto r =
      sluice::from("n", std::views::iota(0, 1000))
          .map("id", [](int x) { return x; }, {.concurrency = 4})
          .then(sluice::window::tumbling<Sum>("per-key", sluice::window::every_n(100), mod3,
                                              add_to_sum))
          .sink("collect", [&](sluice::window::Window<int, Sum> w) { out.push_back(std::move(w)); })
          .run({.threads = 4});
  // Keys 0, 1, 2 get 334, 333, 333 items: 3 full windows each and a partial tail.
  ASSERT_EQ(out.size(), 12u);
  std::map<int, long> totals;
  std::map<int, std::uint64_t> counts;
  std::map<int, int> partials;
  for (const auto& w : out) {
    totals[w.key] += w.value.total;
    counts[w.key] += w.count;
    partials[w.key] += w.partial ? 1 : 0;
    EXPECT_EQ(w.value.seen.size(), w.count);
    for (int x : w.value.seen) EXPECT_EQ(x % 3, w.key);
    if (!w.partial) {
      EXPECT_EQ(w.count, 100u);
    }
  }
  for (int k = 0; k < 3; ++k) {
    long want = 0;
    for (int x = k; x < 1000; x += 3) want += x;
    EXPECT_EQ(totals[k], want);
    EXPECT_EQ(partials[k], 1);
  }
  EXPECT_EQ(counts[0], 334u);
  EXPECT_EQ(r.produced, 1000u);
  EXPECT_EQ(r.delivered, 1000u);  // items count as delivered with their window
  EXPECT_TRUE(r.balanced());
  const auto& ws = r.stages[2];
  EXPECT_EQ(ws.kind, "window");
  EXPECT_EQ(ws.in, 1000u);
  EXPECT_EQ(ws.out, 12u);
}

TEST(WindowStage, WindowsHoldNoInFlightSlots) {
  // A count window of 5,000 items behind a budget of 8: if windows held their items'
  // slots, the source would stop at 8 and the run would never end.
  std::vector<std::uint64_t> counts;
  auto r =
      sluice::from("n", std::views::iota(0, 20'000))
          .then(sluice::window::tumbling<long>(
              "big", sluice::window::every_n(5000), [](const int&) { return 0; },
              [](long& acc, int x) { acc += x; }))
          .sink("collect", [&](sluice::window::Window<int, long> w) { counts.push_back(w.count); })
          .run({.threads = 2, .max_in_flight = 8});
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{5000, 5000, 5000, 5000}));
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.delivered, 20'000u);
}

TEST(WindowStage, TimeWindowsAccountForEveryItemAndLeaveInOrder) {
  std::vector<sluice::window::Window<int, Sum>> out;
  auto r =
      sluice::from("paced", std::views::iota(0, 120), {.items_per_second = 600})
          .then(sluice::window::tumbling<Sum>("per-50ms", sluice::window::every(50ms), mod3,
                                              add_to_sum))
          .sink("collect", [&](sluice::window::Window<int, Sum> w) { out.push_back(std::move(w)); })
          .run({.threads = 2});
  std::uint64_t items = 0;
  long total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& w = out[i];
    items += w.count;
    total += w.value.total;
    EXPECT_EQ(w.end - w.start, 50ms);
    EXPECT_EQ(w.start, 50ms * static_cast<long>(w.number));
    if (i > 0) {  // by interval, then by key
      const auto& p = out[i - 1];
      EXPECT_TRUE(p.number < w.number || (p.number == w.number && p.key < w.key))
          << "window " << i - 1 << ": #" << p.number << " key " << p.key << " count " << p.count
          << (p.partial ? " partial" : "") << "; window " << i << ": #" << w.number << " key "
          << w.key << " count " << w.count << (w.partial ? " partial" : "");
    }
    if (i + 1 < out.size() && out[i + 1].number != w.number) {
      EXPECT_FALSE(w.partial);  // only the last interval can be cut short
    }
  }
  EXPECT_EQ(items, 120u);
  EXPECT_EQ(total, 119L * 120 / 2);
  EXPECT_GE(out.back().number, 2u);  // 120 items at 600/s span several 50 ms windows
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.delivered, 120u);
}

TEST(WindowStage, ASlowStreamsWindowClosesOnTimeNotOnTheNextItem) {
  // Three items, then the source blocks until the test has received their windows: only
  // the timer can close them. (On a busy machine the three may straddle a window
  // boundary, so the test takes windows until it has seen all three items.)
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int n = 0;
  const auto t0 = Clock::now();
  auto windows =
      sluice::generate("slow",
                       [&n, released]() -> std::optional<int> {
                         if (n == 3) {
                           released.wait();
                           return std::nullopt;
                         }
                         return n++;
                       })
          .then(sluice::window::tumbling<Sum>(
              "per-100ms", sluice::window::every(100ms), [](const int&) { return 0; }, add_to_sum))
          .consume({.threads = 2});
  std::uint64_t seen = 0;
  while (seen < 3) {
    auto w = windows.next();
    const auto received = Clock::now() - t0;
    ASSERT_TRUE(w.has_value());
    EXPECT_FALSE(w->partial);     // closed by its time, not by the end of input
    EXPECT_GE(received, w->end);  // never before its time: the run started after t0
    EXPECT_LT(received, w->end + 5s);
    seen += w->count;
  }
  release.set_value();
  EXPECT_EQ(seen, 3u);
  EXPECT_FALSE(windows.next().has_value());  // nothing left to flush
  auto r = windows.finish();
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.delivered, 3u);
}

TEST(WindowStage, EmptyWindowsShowAStalledStream) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int n = 0;
  auto windows = sluice::generate("stalls",
                                  [&n, released]() -> std::optional<int> {
                                    if (n == 2) {
                                      released.wait();
                                      return std::nullopt;
                                    }
                                    return n++;
                                  })
                     .then(sluice::window::tumbling<Sum>("per-20ms", sluice::window::every(20ms),
                                                         mod3, add_to_sum, {.emit_empty = true}))
                     .consume({.threads = 2});
  // Keys 0 and 1 had an item in the first window; afterwards each interval brings an
  // empty window for both, until the source ends.
  int empties = 0;
  std::uint64_t items = 0;
  while (empties < 6) {
    auto w = windows.next();
    ASSERT_TRUE(w.has_value());
    items += w->count;
    if (w->count == 0) {
      ++empties;
      EXPECT_GE(w->number, 1u);
      EXPECT_EQ(w->value.total, 0);
    }
  }
  release.set_value();
  while (auto w = windows.next()) items += w->count;
  EXPECT_EQ(items, 2u);
  auto r = windows.finish();
  EXPECT_TRUE(r.balanced());
}

TEST(WindowStage, OrderedInputFoldsInInputOrder) {
  std::vector<sluice::window::Window<int, Sum>> out;
  sluice::from("n", std::views::iota(0, 3000))
      .map("jitter",
           [](int x) {
             if (x % 7 == 0) std::this_thread::yield();
             return x;
           },
           {.concurrency = 4})
      .then(sluice::window::tumbling<Sum>("ordered", sluice::window::every_n(250), mod3, add_to_sum,
                                          {.ordered = true}))
      .sink("collect", [&](sluice::window::Window<int, Sum> w) { out.push_back(std::move(w)); })
      .run({.threads = 4});
  std::uint64_t items = 0;
  for (const auto& w : out) {
    items += w.count;
    EXPECT_TRUE(std::ranges::is_sorted(w.value.seen)) << "key " << w.key << " #" << w.number;
  }
  EXPECT_EQ(items, 3000u);
}

TEST(WindowStage, FailuresOfKeyOrReduceAreCountedAndTheRestReduced) {
  auto r = sluice::from("n", std::views::iota(0, 1000))
               .then(sluice::window::tumbling<long>(
                   "picky", sluice::window::every_n(50),
                   [](const int& x) {
                     if (x % 10 == 3) throw std::runtime_error("no key for 3");
                     return x % 2;
                   },
                   [](long& acc, int x) {
                     if (x % 10 == 7) throw std::runtime_error("cannot add 7");
                     acc += x;
                   }))
               .sink("s", [](sluice::window::Window<int, long>) {})
               .run({.threads = 2, .on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.failed, 200u);
  EXPECT_EQ(r.delivered, 800u);
  EXPECT_EQ(r.stages[1].failed, 200u);
  EXPECT_TRUE(r.balanced());
}

TEST(WindowStage, FailFastInTheReduceStopsTheRunNamingTheItem) {
  auto p = sluice::from("n", std::views::iota(0, 1000))
               .then(sluice::window::tumbling<long>(
                   "boom", sluice::window::every(10ms), [](const int&) { return 0; },
                   [](long& acc, int x) {
                     if (x == 500) throw std::runtime_error("500!");
                     acc += x;
                   }))
               .sink("s", [](sluice::window::Window<int, long>) {});
  try {
    p.run({.threads = 2});
    FAIL() << "expected a PipelineError";
  } catch (const sluice::PipelineError& e) {
    EXPECT_EQ(e.failure().stage, "boom");
    EXPECT_EQ(e.failure().item_index, 500u);
    EXPECT_TRUE(e.report().balanced());
  }
}

TEST(WindowStage, CancelWithOpenWindowsEndsPromptlyAndRunsAgain) {
  std::stop_source stop;
  std::atomic<int> windows_seen{0};
  auto p = sluice::from("endless", std::views::iota(0))
               .then(sluice::window::tumbling<long>(
                   "per-5ms", sluice::window::every(5ms), [](const int& x) { return x % 4; },
                   [](long& acc, int) { ++acc; }))
               .sink("s", [&](sluice::window::Window<int, long>) {
                 if (windows_seen.fetch_add(1) + 1 == 8) stop.request_stop();
               });
  for (int round = 0; round < 3; ++round) {
    stop = std::stop_source();
    windows_seen = 0;
    auto r = p.run({.threads = 2, .stop = stop.get_token()});
    EXPECT_TRUE(r.was_cancelled);
    EXPECT_GE(windows_seen.load(), 8);
    EXPECT_TRUE(r.balanced());
    EXPECT_GT(r.delivered, 0u);
  }
}

TEST(WindowStage, ToDotNamesTheWiring) {
  auto dot = sluice::from("n", std::views::iota(0, 10))
                 .then(sluice::window::tumbling<long>(
                     "w", sluice::window::every(10s), [](const int&) { return 0; },
                     [](long& acc, int x) { acc += x; }))
                 .to_dot();
  EXPECT_NE(dot.find("tumbling 10s, timer thread"), std::string::npos) << dot;
}

}  // namespace
