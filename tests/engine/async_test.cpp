// async_map: operations completed out of order from foreign threads, completions that
// arrive after a cancel, and the in-flight cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <ranges>
#include <thread>

#include <oneapi/tbb/global_control.h>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// A pool of threads that completes queued operations in random order.
class ShuffledCompleter {
 public:
  explicit ShuffledCompleter(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, i] { loop(static_cast<unsigned>(i)); });
    }
  }
  ~ShuffledCompleter() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void add(std::function<void()> f) {
    {
      std::lock_guard lock(m_);
      work_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void loop(unsigned seed) {
    std::mt19937 rng(seed);
    std::unique_lock lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !work_.empty(); });
      if (work_.empty()) return;
      std::size_t i = std::uniform_int_distribution<std::size_t>(0, work_.size() - 1)(rng);
      auto f = std::move(work_[i]);
      work_.erase(work_.begin() + static_cast<std::ptrdiff_t>(i));
      lock.unlock();
      f();
      lock.lock();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> work_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

TEST(Async, OutOfOrderCompletionsFromForeignThreadsLoseNothing) {
  ShuffledCompleter pool(3);
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 20'000))
               .async_map<long>("op",
                                [&](int x, sluice::Completion<long> done) {
                                  pool.add([x, done] { done.succeed(3L * x); });
                                },
                                {.max_in_flight = 100})
               .map("narrow", [](long v) { return static_cast<int>(v / 3); }, {.concurrency = 2})
               .sink("collect", [&](int x) { out.push_back(x); })
               .run({.threads = 2});
  ASSERT_EQ(out.size(), 20'000u);
  std::sort(out.begin(), out.end());
  for (int i = 0; i < 20'000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(r.stages[1].in, 20'000u);
  EXPECT_EQ(r.stages[1].out, 20'000u);
  EXPECT_EQ(r.stages[1].in_flight, 0u);
}

TEST(Async, CompletionsArrivingAfterACancelAreIgnored) {
  std::mutex m;
  std::vector<sluice::Completion<int>> held;
  std::atomic<bool> cancel_called{false};
  auto p = sluice::from("n", std::views::iota(0, 1000))
               .async_map<int>("held",
                               [&](int, sluice::Completion<int> done) {
                                 std::lock_guard lock(m);
                                 held.push_back(std::move(done));
                               },
                               {.max_in_flight = 50, .on_cancel = [&] { cancel_called = true; }})
               .sink("s", [](int) {});
  std::stop_source stop;
  std::thread t([&] {
    sluice::test::wait_until([&] {
      std::lock_guard lock(m);
      return held.size() >= 50;
    });
    stop.request_stop();
  });
  auto r = p.run({.threads = 2, .stop = stop.get_token()});
  t.join();
  EXPECT_TRUE(cancel_called.load());
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_EQ(r.delivered, 0u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(r.cancelled, r.produced);
  // Completing now, after run() returned and its graph is gone, is harmless.
  std::lock_guard lock(m);
  ASSERT_EQ(held.size(), 50u);
  for (auto& c : held) {
    EXPECT_TRUE(c.cancelled());
    EXPECT_TRUE(c.succeed(1));
    EXPECT_FALSE(c.succeed(2));  // once only
  }
}

TEST(Async, CompletingTwiceDeliversOnce) {
  auto r = sluice::from("n", std::views::iota(0, 100))
               .async_map<int>("twice",
                               [](int x, sluice::Completion<int> done) {
                                 EXPECT_TRUE(done.succeed(x));
                                 EXPECT_FALSE(done.succeed(x));
                                 EXPECT_FALSE(done.fail("late"));
                               })
               .sink("s", [](int) {})
               .run();
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(r.failed, 0u);
}

struct Doubler {
  using output_type = long;
  void operator()(int x, sluice::Completion<long> done) const { done.succeed(2L * x); }
};

TEST(Async, OutputTypeComesFromTheOperation) {
  long sum = 0;
  sluice::from("n", std::views::iota(1, 11))
      .async_map("d", Doubler{})
      .sink("s", [&](long v) { sum += v; })
      .run();
  EXPECT_EQ(sum, 110);
}

TEST(Async, MaxInFlightIsReachedWithSlowOperations) {
  std::atomic<int> outstanding{0}, peak{0};
  ShuffledCompleter pool(2);
  auto r = sluice::from("n", std::views::iota(0, 3000))
               .async_map<int>("op",
                               [&](int x, sluice::Completion<int> done) {
                                 int now = outstanding.fetch_add(1) + 1;
                                 int seen = peak.load();
                                 while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                                 }
                                 pool.add([&, x, done] {
                                   // Hold each completion until the cap is reached (bounded).
                                   sluice::test::wait_until(
                                       [&] { return outstanding.load() >= 32; }, 50ms);
                                   outstanding.fetch_sub(1);
                                   done.succeed(x);
                                 });
                               },
                               {.max_in_flight = 32})
               .sink("s", [](int) {})
               .run({.threads = 2});
  EXPECT_EQ(r.delivered, 3000u);
  EXPECT_EQ(peak.load(), 32);
}

TEST(Async, CompletionsMadeInBatchesAllArriveInOrder) {
  // An I/O-loop-like completer: it takes what is pending and completes it inside a
  // CompletionBatch, sometimes nested, so the stage gets each round in one hand-over.
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<int, sluice::Completion<int>>> pending;
  bool stop = false;
  std::thread completer([&] {
    std::mt19937 rng(7);
    std::unique_lock lock(m);
    for (;;) {
      cv.wait(lock, [&] { return stop || !pending.empty(); });
      if (pending.empty()) return;
      auto round = std::move(pending);
      pending.clear();
      lock.unlock();
      std::shuffle(round.begin(), round.end(), rng);
      {
        sluice::CompletionBatch batch;
        for (std::size_t i = 0; i < round.size(); ++i) {
          if (i % 3 == 0) {
            sluice::CompletionBatch nested;  // ends nothing: the outer batch does
            round[i].second.succeed(round[i].first * 2);
          } else {
            round[i].second.succeed(round[i].first * 2);
          }
        }
      }
      lock.lock();
    }
  });
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 5000))
               .async_map<int>("op",
                               [&](int x, sluice::Completion<int> done) {
                                 {
                                   std::lock_guard lock(m);
                                   pending.emplace_back(x, std::move(done));
                                 }
                                 cv.notify_one();
                               },
                               {.max_in_flight = 64, .ordered = true})
               .sink("collect", [&](int x) { out.push_back(x); })
               .run({.threads = 2});
  {
    std::lock_guard lock(m);
    stop = true;
  }
  cv.notify_one();
  completer.join();
  ASSERT_EQ(out.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], 2 * i);
  EXPECT_EQ(r.stages[1].out, 5000u);
}

TEST(Async, ACancelWhileABatchHoldsCompletionsEndsTheRun) {
  std::mutex m;
  std::vector<sluice::Completion<int>> held;
  std::stop_source stop;
  auto p = sluice::from("n", std::views::iota(0, 100))
               .async_map<int>("held",
                               [&](int, sluice::Completion<int> done) {
                                 std::lock_guard lock(m);
                                 held.push_back(std::move(done));
                               },
                               {.max_in_flight = 10})
               .sink("s", [](int) {});
  std::thread io([&] {
    sluice::test::wait_until([&] {
      std::lock_guard lock(m);
      return held.size() >= 10;
    });
    std::vector<sluice::Completion<int>> mine;
    {
      std::lock_guard lock(m);
      mine = held;
    }
    sluice::CompletionBatch batch;
    mine.front().succeed(1);  // queued; its hand-over waits for the batch to end
    stop.request_stop();
    // The run cannot have ended yet (the pending hand-over holds the graph), but its
    // operations see the cancel.
    sluice::test::wait_until([&] { return mine.back().cancelled(); });
    EXPECT_TRUE(mine.back().cancelled());
    mine.back().succeed(2);  // after the cancel sweep: dropped
  });
  auto r = p.run({.threads = 2, .stop = stop.get_token()});
  io.join();
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_TRUE(r.balanced());
}

// Operations hold no graph wait, so the graph is idle while they are out; the tail batch
// must still wait for them rather than be flushed as soon as the source has ended and the
// graph has gone idle.
class AsyncTail : public ::testing::TestWithParam<std::size_t> {};

TEST_P(AsyncTail, OperationsStillOutWhenTheSourceEndsReachTheTailBatch) {
  std::mutex m;
  std::vector<sluice::Completion<int>> held;
  std::vector<int> held_values;
  std::vector<std::size_t> sizes;  // in the order the sink saw them
  std::vector<int> seen;
  const auto batches = [&] {
    std::lock_guard lock(m);
    return sizes.size();
  };
  std::thread completer([&] {
    ASSERT_TRUE(sluice::test::wait_until([&] {
      std::lock_guard lock(m);
      return held.size() == 10;  // every item is out: the source has ended
    }));
    const auto complete = [&](std::size_t from, std::size_t to) {
      std::vector<std::pair<sluice::Completion<int>, int>> now;
      {
        std::lock_guard lock(m);
        for (std::size_t i = from; i < to; ++i) now.emplace_back(held[i], held_values[i]);
      }
      for (auto& [done, value] : now) done.succeed(value);
    };
    complete(0, 4);  // one full batch and one item towards the next
    ASSERT_TRUE(sluice::test::wait_until([&] { return batches() == 1; }));
    // The graph is idle now with six operations out. A driver that flushed here would
    // emit the lone item as a batch of its own; give it the time to show.
    sluice::test::wait_until([&] { return batches() > 1; }, 200ms);
    complete(4, 10);
  });
  auto r = sluice::from("n", std::views::iota(0, 10))
               .async_map<int>("held",
                               [&](int x, sluice::Completion<int> done) {
                                 std::lock_guard lock(m);
                                 held.push_back(std::move(done));
                                 held_values.push_back(x);
                               },
                               {.max_in_flight = 16})
               .batch("three", 3)
               .sink("collect",
                     [&](std::vector<int> b) {
                       std::lock_guard lock(m);
                       sizes.push_back(b.size());
                       seen.insert(seen.end(), b.begin(), b.end());
                     })
               .run({.threads = GetParam(), .deadline = 20s});
  completer.join();
  EXPECT_FALSE(r.was_cancelled) << r.cancel_reason;
  EXPECT_EQ(r.delivered, 10u);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 3, 1}));  // the partial one last
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

INSTANTIATE_TEST_SUITE_P(Threads, AsyncTail, ::testing::Values(1, 2, 4));

TEST(Async, CompletesUnderAProcessWideLimitOfOneThread) {
  // No worker may join the arena, and the driver sleeps while the operations are out:
  // the completions' work must still run (oneTBB lends a worker for enqueued tasks).
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
  sluice::test::CompleterThread<int> io(7);
  std::atomic<long> sum{0};
  auto r = sluice::from("n", std::views::iota(0, 2000))
               .async_map<int>("op", [&](int, sluice::Completion<int> done) { io.add(done); },
                               {.max_in_flight = 8})
               .sink("sum", [&](int x) { sum += x; })
               .run({.threads = 2, .deadline = 20s});
  EXPECT_FALSE(r.was_cancelled) << r.cancel_reason;
  EXPECT_EQ(r.delivered, 2000u);
  EXPECT_EQ(sum.load(), 7 * 2000);
}

}  // namespace
