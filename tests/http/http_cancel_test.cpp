// Cancels at random moments over a pipeline with an HTTP stage and another async stage
// in flight: every run returns (no hang), its counts balance, nothing is left in the
// client, and the same pipeline then runs again to the end. SLUICE_RANDOM_CANCELS sets
// how many cancels (default 50; the full figure is 1,000).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <mutex>
#include <queue>
#include <random>
#include <ranges>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/http.hpp"
#include "sluice/http_server.hpp"
#include "sluice/sluice.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// An async stage that is not HTTP: completes each item from its own thread after a
/// short delay, like a timer or a remote call would.
class DelayedEcho {
 public:
  DelayedEcho() : thread_([this] { loop(); }) {}
  ~DelayedEcho() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  DelayedEcho(const DelayedEcho&) = delete;
  DelayedEcho& operator=(const DelayedEcho&) = delete;

  void add(std::uint64_t value, sluice::Completion<std::uint64_t> done,
           std::chrono::microseconds delay) {
    {
      std::lock_guard lock(mutex_);
      queue_.push(Entry{Clock::now() + delay, value, std::move(done)});
    }
    wake_.notify_all();
  }

 private:
  struct Entry {
    Clock::time_point due;
    std::uint64_t value;
    sluice::Completion<std::uint64_t> done;
    bool operator>(const Entry& other) const { return due > other.due; }
  };

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (queue_.empty()) {
        if (stop_) return;
        wake_.wait(lock);
        continue;
      }
      const auto due = queue_.top().due;
      if (Clock::now() < due && !stop_) {
        wake_.wait_until(lock, due);
        continue;
      }
      Entry entry = queue_.top();
      queue_.pop();
      lock.unlock();
      entry.done.succeed(entry.value);  // after a cancel too: allowed and ignored
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

std::size_t cancels_to_run() {
  if (const char* text = std::getenv("SLUICE_RANDOM_CANCELS")) {
    return static_cast<std::size_t>(std::strtoull(text, nullptr, 10));
  }
  return 50;
}

TEST(http_random_cancels, EveryRunReturnsBalancedAndThePipelineRunsAgain) {
  sluice::http_server::LocalServer server;
  auto client = std::make_shared<sluice::http::Client>();
  const auto fetch = sluice::http::fetch_stage(client);
  DelayedEcho echo;
  std::uint64_t items = 100'000;  // more than any cancelled run gets through

  const auto make_request = [&](std::uint64_t id) {
    sluice::http::Request req{.tag = id};
    if (id % 100 == 7) {
      req.url = server.url("/hang?id=" + std::to_string(id));
      req.timeout = 300ms;
    } else {
      req.url = server.url("/delay?us=" + std::to_string(id * 7919 % 5000) +
                           "&n=" + std::to_string(id % 300 + 1));
    }
    return req;
  };
  const sluice::Pipeline pipeline =
      sluice::from("ids", std::views::iota(std::uint64_t{0}, std::uint64_t{100'000}))
          .filter("window", [&](std::uint64_t id) { return id < items; })
          .map("request", make_request)
          .async_map("fetch", fetch,
                     {.max_in_flight = 64, .on_cancel = [fetch] { fetch.cancel(); }})
          .async_map<std::uint64_t>(
              "echo",
              [&](const sluice::http::Response& r, sluice::Completion<std::uint64_t> done) {
                echo.add(r.tag, std::move(done), std::chrono::microseconds(r.tag % 3000));
              },
              {.max_in_flight = 32})
          .sink("out", [](std::uint64_t) {});

  std::mt19937_64 random(12345);
  std::uniform_int_distribution<int> moment_us(0, 20'000);
  const std::size_t cancels = cancels_to_run();
  std::uint64_t produced = 0;
  for (std::size_t i = 0; i < cancels; ++i) {
    sluice::RunHandle handle = pipeline.start({.threads = 2});
    // A random moment (the point of the test, not a wait for anything).
    std::this_thread::sleep_for(std::chrono::microseconds(moment_us(random)));
    handle.cancel();
    auto finished = std::async(std::launch::async, [&handle] { return handle.wait(); });
    if (finished.wait_for(30s) != std::future_status::ready) {
      ADD_FAILURE() << "cancel " << i << " hung";
      std::abort();  // a hung run cannot be cleaned up; end the test binary loudly
    }
    const sluice::Report report = finished.get();
    ASSERT_TRUE(report.balanced()) << "cancel " << i << ": " << report;
    ASSERT_EQ(report.in_flight(), 0u) << "cancel " << i;
    const auto c = client->counters();
    ASSERT_EQ(c.in_flight, 0u) << "cancel " << i << ": requests left in the client";
    produced += report.produced;
  }
  EXPECT_GT(produced, 0u);

  // The same pipeline, uncancelled, runs to the end.
  items = 500;
  const sluice::Report full = pipeline.run({.threads = 2, .deadline = 60s});
  EXPECT_FALSE(full.was_cancelled) << full.cancel_reason;
  EXPECT_TRUE(full.balanced());
  EXPECT_EQ(full.delivered, 500u);
  EXPECT_EQ(full.filtered, 100'000u - 500u);
  EXPECT_EQ(client->counters().in_flight, 0u);
}

}  // namespace
