// Output in input order when asked, with filters, failures and expansions in between:
// dropped items leave placeholders, so no gap stalls the reorder buffers.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <ranges>
#include <vector>

#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

// Uneven body times, so that completion order differs from input order.
int jitter(int x) {
  sluice::test::spin(static_cast<int>((x * 7919) % 13) * 3000);
  return x;
}

TEST(Order, OrderedSinkAfterAConcurrentMapSeesInputOrder) {
  std::vector<int> out;
  sluice::from("n", std::views::iota(0, 2000))
      .map("jitter", jitter, {.concurrency = 4})
      .sink("collect", [&](int x) { out.push_back(x); }, {.ordered = true})
      .run({.threads = 4, .max_in_flight = 64});
  ASSERT_EQ(out.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
}

TEST(Order, UnorderedStagesReallyReorder) {
  // The control for the test above: without ordering, completion order shows through.
  std::vector<int> out;
  sluice::from("n", std::views::iota(0, 2000))
      .map("slow-evens",
           [](int x) {
             return x + static_cast<int>(sluice::test::spin(x % 2 == 0 ? 100000 : 0) == 1);
           },
           {.concurrency = 4})
      .sink("collect", [&](int x) { out.push_back(x); })
      .run({.threads = 4, .max_in_flight = 64});
  ASSERT_EQ(out.size(), 2000u);
  EXPECT_FALSE(std::is_sorted(out.begin(), out.end()));
}

TEST(Order, FiltersAndFailuresInBetweenLeaveNoGap) {
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 3000))
               .map("jitter", jitter, {.concurrency = 4, .ordered = true})
               .filter("no7", [](int x) { return x % 7 != 0; }, {.concurrency = 3})
               .map("fail11",
                    [](int x) {
                      if (x % 11 == 0) throw std::runtime_error("eleven");
                      return jitter(x);
                    },
                    {.concurrency = 4})
               .sink("collect", [&](int x) { out.push_back(x); }, {.ordered = true})
               .run({.threads = 4, .max_in_flight = 32, .on_error = sluice::ErrorPolicy::skip()});
  std::vector<int> want;
  for (int i = 0; i < 3000; ++i)
    if (i % 7 != 0 && i % 11 != 0) want.push_back(i);
  EXPECT_EQ(out, want);
  EXPECT_EQ(r.filtered, 429u);      // multiples of 7 below 3000
  EXPECT_EQ(r.failed, 273u - 39u);  // multiples of 11, less those of 77 (already filtered)
  EXPECT_TRUE(r.balanced());
}

TEST(Order, OrderedFlatMapAndBatchKeepSequence) {
  std::vector<int> out;
  sluice::from("n", std::views::iota(0, 500))
      .flat_map("split",
                [](int x) {
                  jitter(x);
                  return std::vector<int>{2 * x, 2 * x + 1};
                },
                {.concurrency = 4, .ordered = true})
      .batch("b", 7, {.ordered = true})
      .map("check", [](std::vector<int> b) { return jitter(static_cast<int>(b.size())), b; },
           {.concurrency = 3, .ordered = true})
      .unbatch("u", {.ordered = true})
      .sink("collect", [&](int x) { out.push_back(x); }, {.ordered = true})
      .run({.threads = 4});
  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i);
}

TEST(Order, OrderedAsyncMapRestoresOrderOfOutOfOrderCompletions) {
  // Completions are released in reverse groups of 16 from another thread. A group is
  // also released early when it holds the oldest unfinished item: otherwise the reorder
  // buffer could fill the pipeline's in-flight budget waiting for an item that sits in a
  // group of fewer than 16, and nothing more would ever arrive.
  std::mutex m;
  std::vector<std::pair<int, sluice::Completion<int>>> held;
  std::atomic<bool> stop{false};
  std::thread completer([&] {
    std::vector<bool> finished(1600, false);
    int oldest = 0;  // smallest item not yet completed
    while (!stop.load()) {
      std::vector<std::pair<int, sluice::Completion<int>>> take;
      {
        std::lock_guard lock(m);
        const bool has_oldest =
            std::ranges::any_of(held, [&](auto& h) { return h.first == oldest; });
        if (held.size() >= 16 || has_oldest) take.swap(held);
      }
      for (auto it = take.rbegin(); it != take.rend(); ++it) {
        finished[static_cast<std::size_t>(it->first)] = true;
        it->second.succeed(it->first * 10);
      }
      while (oldest < 1600 && finished[static_cast<std::size_t>(oldest)]) ++oldest;
      std::this_thread::yield();
    }
  });
  std::vector<int> out;
  auto r = sluice::from("n", std::views::iota(0, 1600))
               .async_map<int>("rev",
                               [&](int x, sluice::Completion<int> done) {
                                 std::lock_guard lock(m);
                                 held.emplace_back(x, std::move(done));
                               },
                               {.max_in_flight = 64, .ordered = true})
               .sink("collect", [&](int x) { out.push_back(x); })
               .run({.threads = 2, .max_in_flight = 128});
  stop = true;
  completer.join();
  ASSERT_EQ(out.size(), 1600u);
  for (int i = 0; i < 1600; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], i * 10);
  EXPECT_TRUE(r.balanced());
}

}  // namespace
