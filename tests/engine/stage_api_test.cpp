// The stage interface (sluice/stage_api.hpp, docs/architecture.md "The stage
// interface"): stages that end their tickets by emitting, filtering, failing or
// grouping, from their own bodies and from threads of their own. Every test checks the
// run-level law and what the stage's tickets became.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <sluice/sluice.hpp>
#include <sluice/stage_api.hpp>

#include "test_support.hpp"

namespace {

using sluice::ItemGroup;
using sluice::ItemTicket;
using sluice::Report;
using sluice::StagePort;

const sluice::StageReport& stage(const Report& r, const std::string& name) {
  for (const auto& s : r.stages) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no stage " + name);
}

/// Passes the first item of each key (x % 10) and filters the repeats.
struct FirstOfKey {
  using output_type = int;
  std::set<int> seen;
  void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
    if (seen.insert(x % 10).second) {
      port.emit(std::move(t), x);
    } else {
      port.filter(std::move(t));
    }
  }
};

/// Sums items in pairs; the odd one out leaves at the end of input.
struct PairSum {
  using output_type = long;
  ItemGroup group;
  long sum = 0;
  void on_item(int x, ItemTicket&& t, StagePort<long>& port) {
    group.add(std::move(t));
    sum += x;
    if (group.size() == 2) port.emit(std::move(group), std::exchange(sum, 0));
  }
  bool on_end_of_input(StagePort<long>& port) {
    if (group.empty()) return false;
    port.emit(std::move(group), std::exchange(sum, 0));
    return true;
  }
};

/// Hands every ticket to a thread of its own, which emits it (doubled) later: the port
/// used from outside the graph, with tickets held across calls.
class OffThread {
 public:
  using output_type = int;
  OffThread() = default;
  OffThread(const OffThread&) = delete;
  OffThread& operator=(const OffThread&) = delete;
  ~OffThread() { on_stop(); }

  void on_start(StagePort<int>& port) {
    thread_ = std::jthread([this, &port](std::stop_token st) { work(st, port); });
  }
  void on_item(int x, ItemTicket&& t, StagePort<int>&) {
    std::lock_guard lock(m_);
    queue_.push_back({x, std::move(t)});
    cv_.notify_one();
  }
  void on_stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      cv_.notify_all();
      thread_.join();
    }
  }

 private:
  struct Held {
    int x;
    ItemTicket ticket;
  };
  void work(std::stop_token st, StagePort<int>& port) {
    std::unique_lock lock(m_);
    while (!st.stop_requested()) {
      cv_.wait(lock, st, [&] { return !queue_.empty(); });
      while (!queue_.empty()) {
        Held h = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        if (h.x % 7 == 3) {
          port.fail(std::move(h.ticket), std::make_exception_ptr(std::runtime_error("seven")));
        } else {
          port.emit(std::move(h.ticket), 2 * h.x);
        }
        lock.lock();
      }
    }
  }
  std::mutex m_;
  std::condition_variable_any cv_;
  std::deque<Held> queue_;
  std::jthread thread_;
};

class StageApi : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::size_t threads() const { return GetParam(); }
};

TEST_P(StageApi, EmitAndFilterEndEveryTicketOnce) {
  std::vector<int> got;
  Report r = sluice::from("n", std::views::iota(0, 1000))
                 .then(sluice::custom_stage("first-of-key", [] { return FirstOfKey{}; }))
                 .sink("keep", [&](int x) { got.push_back(x); })
                 .run({.threads = threads()});
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(r.delivered, 10u);
  EXPECT_EQ(r.filtered, 990u);
  EXPECT_TRUE(r.balanced());
  const auto& s = stage(r, "first-of-key");
  EXPECT_EQ(s.kind, "custom");
  EXPECT_EQ(s.in, 1000u);
  EXPECT_EQ(s.out, 10u);
  EXPECT_EQ(s.filtered, 990u);
}

TEST_P(StageApi, AGroupsItemsAreDeliveredWithItsOutput) {
  std::vector<long> sums;
  Report r = sluice::from("n", std::views::iota(0, 1001))
                 .then(sluice::custom_stage("pairs", [] { return PairSum{}; }))
                 .sink("keep", [&](long s) { sums.push_back(s); })
                 .run({.threads = threads(), .max_in_flight = 8});
  ASSERT_EQ(sums.size(), 501u);  // outputs leave in the order they were emitted
  for (std::size_t i = 0; i < 500; ++i) EXPECT_EQ(sums[i], static_cast<long>(4 * i + 1));
  EXPECT_EQ(sums.back(), 1000);
  EXPECT_EQ(r.delivered, 1001u);
  EXPECT_TRUE(r.balanced());
  EXPECT_EQ(stage(r, "pairs").out, 501u);
}

TEST_P(StageApi, AGroupAfterATeeCountsEachItemOnce) {
  std::atomic<long> left_total{0}, right_count{0};
  auto [left, right] = sluice::from("n", std::views::iota(0, 500)).tee<2>("both");
  left.then(sluice::custom_stage("pairs", [] { return PairSum{}; })).sink("sums", [&](long s) {
    left_total += s;
  });
  Report r = right.sink("count", [&](int) { ++right_count; }).run({.threads = threads()});
  EXPECT_EQ(left_total.load(), 499L * 500 / 2);
  EXPECT_EQ(right_count.load(), 500);
  EXPECT_EQ(r.produced, 500u);
  EXPECT_EQ(r.delivered, 500u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(StageApi, ThePortWorksFromAThreadOfTheStagesOwn) {
  for (int round = 0; round < 2; ++round) {  // a fresh stage per run
    std::atomic<long> total{0};
    Report r = sluice::from("n", std::views::iota(0, 2000))
                   .then(sluice::custom_stage("off-thread", [] { return OffThread{}; },
                                              {.on_error = sluice::ErrorPolicy::skip()}))
                   .sink("sum", [&](int x) { total += x; })
                   .run({.threads = threads(), .max_in_flight = 16});
    long expect = 0;
    std::uint64_t failed = 0;
    for (int x = 0; x < 2000; ++x) {
      if (x % 7 == 3) {
        ++failed;
      } else {
        expect += 2 * x;
      }
    }
    EXPECT_EQ(total.load(), expect);
    EXPECT_EQ(r.failed, failed);
    EXPECT_EQ(r.delivered, 2000u - failed);
    EXPECT_TRUE(r.balanced());
    EXPECT_FALSE(r.was_cancelled);
  }
}

TEST_P(StageApi, TicketsKeptAcrossCallsEndLater) {
  // A stage may keep tickets across calls and end them later (here it keeps the last
  // four). They keep their slots meanwhile, so what it keeps counts against
  // max_in_flight: it must keep fewer than that, or the source waits for it for ever.
  struct HoldFour {
    using output_type = int;
    std::deque<std::pair<int, ItemTicket>> held;
    std::size_t* most;
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
      held.emplace_back(x, std::move(t));
      *most = std::max(*most, held.size());
      if (held.size() == 4) {
        port.emit(std::move(held.front().second), held.front().first);
        held.pop_front();
      }
    }
    bool on_end_of_input(StagePort<int>& port) {
      if (held.empty()) return false;
      for (auto& [x, t] : held) port.emit(std::move(t), x);
      held.clear();
      return true;
    }
  };
  std::size_t most = 0;
  std::vector<int> got;
  Report r = sluice::from("n", std::views::iota(0, 300))
                 .then(sluice::custom_stage("hold",
                                            [&] {
                                              return HoldFour{{}, &most};
                                            }))
                 .sink("keep", [&](int x) { got.push_back(x); })
                 .run({.threads = threads(), .max_in_flight = 6});
  EXPECT_EQ(most, 4u);
  std::vector<int> want(300);
  std::iota(want.begin(), want.end(), 0);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(r.balanced());
}

TEST_P(StageApi, ATicketDroppedWithoutAnOutcomeFailsAndSaysSo) {
  struct Forgetful {
    using output_type = int;
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
      if (x != 5) port.emit(std::move(t), x);  // item 5: forgotten
    }
  };
  auto pipeline = sluice::from("n", std::views::iota(0, 10))
                      .then(sluice::custom_stage("forgetful", [] { return Forgetful{}; }))
                      .sink("s", [](int) {});
  Report r = pipeline.run({.threads = threads(), .on_error = sluice::ErrorPolicy::skip()});
  EXPECT_EQ(r.delivered, 9u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_TRUE(r.balanced());
  try {
    pipeline.run({.threads = threads()});
    FAIL() << "a dropped ticket must fail the run under fail_fast";
  } catch (const sluice::PipelineError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("custom stage 'forgetful' dropped item 5 without an outcome"),
              std::string::npos)
        << what;
  }
}

TEST_P(StageApi, AnExceptionFromOnItemFailsItsTicket) {
  struct Picky {
    using output_type = int;
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
      if (x % 3 == 0) throw std::runtime_error("no multiples of three");
      port.emit(std::move(t), x);
    }
  };
  std::vector<sluice::Failure> seen;
  Report r = sluice::from("n", std::views::iota(0, 30))
                 .then(sluice::custom_stage("picky", [] { return Picky{}; }))
                 .sink("s", [](int) {})
                 .run({.threads = threads(),
                       .on_error = sluice::ErrorPolicy::dead_letter(
                           [&](const sluice::Failure& f) { seen.push_back(f); })});
  EXPECT_EQ(r.failed, 10u);
  EXPECT_EQ(r.delivered, 20u);
  EXPECT_TRUE(r.balanced());
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen[0].stage, "picky");
  EXPECT_EQ(seen[0].message, "no multiples of three");
  EXPECT_EQ(stage(r, "picky").failed, 10u);
}

TEST_P(StageApi, AStageThatCannotStartStopsTheRunNamingIt) {
  struct Broken {
    using output_type = int;
    void on_start(StagePort<int>&) { throw std::runtime_error("no timer"); }
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) { port.emit(std::move(t), x); }
  };
  auto pipeline = sluice::from("n", std::views::iota(0, 100))
                      .then(sluice::custom_stage("broken", [] { return Broken{}; }))
                      .sink("s", [](int) {});
  try {
    pipeline.run({.threads = threads(), .on_error = sluice::ErrorPolicy::skip()});
    FAIL() << "a stage that cannot start must stop the run";
  } catch (const sluice::PipelineError& e) {
    EXPECT_NE(std::string(e.what()).find("stage 'broken' failed in on_start: no timer"),
              std::string::npos)
        << e.what();
    EXPECT_TRUE(e.report().balanced());
  }
}

TEST_P(StageApi, OnStartHasRunBeforeTheFirstItemArrives) {
  // on_start gives the source a while to pull: a source started before the stage would,
  // and its first item would reach on_item before on_start had returned.
  struct SlowStart {
    using output_type = int;
    std::atomic<bool>* pulled;
    std::atomic<int>* early;
    std::atomic<bool> started{false};
    SlowStart(std::atomic<bool>* p, std::atomic<int>* e) : pulled(p), early(e) {}
    void on_start(StagePort<int>&) {
      sluice::test::wait_until([&] { return pulled->load(); }, std::chrono::milliseconds(200));
      started.store(true);
    }
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
      if (!started.load()) early->fetch_add(1);
      port.emit(std::move(t), x);
    }
  };
  std::atomic<bool> pulled{false};
  std::atomic<int> early{0};
  auto numbers = std::views::iota(0, 100) | std::views::transform([&](int x) {
                   pulled.store(true);
                   return x;
                 });
  Report r =
      sluice::from("n", numbers)
          .then(sluice::custom_stage("slow_start", [&] { return SlowStart(&pulled, &early); }))
          .sink("s", [](int) {})
          .run({.threads = threads()});
  EXPECT_EQ(r.delivered, 100u);
  EXPECT_EQ(early.load(), 0) << "items reached on_item before on_start had returned";
}

TEST_P(StageApi, ConcurrencyCapIsHonoured) {
  sluice::test::ConcurrencyGauge gauge;
  struct Gauged {
    using output_type = int;
    sluice::test::ConcurrencyGauge* gauge;
    void on_item(int x, ItemTicket&& t, StagePort<int>& port) {
      sluice::test::ConcurrencyGauge::Scope in(*gauge);
      sluice::test::spin(2000);
      port.emit(std::move(t), x);
    }
  };
  Report r = sluice::from("n", std::views::iota(0, 2000))
                 .then(sluice::custom_stage("gauged", [&] { return Gauged{&gauge}; },
                                            {.concurrency = 2, .ordered_output = false}))
                 .sink("s", [](int) {})
                 .run({.threads = threads()});
  EXPECT_LE(gauge.max(), 2);
  EXPECT_EQ(r.delivered, 2000u);
  EXPECT_TRUE(r.balanced());
}

TEST_P(StageApi, CancelWithTicketsHeldOnAnotherThreadEndsPromptlyAndRunsAgain) {
  // The stage's thread never emits until told: the run can only end by the cancel.
  struct Holder {
    using output_type = int;
    std::vector<ItemTicket> held;
    std::atomic<int>* taken;
    void on_item(int, ItemTicket&& t, StagePort<int>&) {
      held.push_back(std::move(t));
      taken->fetch_add(1);
    }
  };
  for (int round = 0; round < 2; ++round) {
    std::atomic<int> taken{0};
    std::stop_source stop;
    auto pipeline = sluice::from("n", std::views::iota(0, 1000))
                        .then(sluice::custom_stage("holder",
                                                   [&] {
                                                     return Holder{{}, &taken};
                                                   }))
                        .sink("s", [](int) {});
    std::thread canceller([&] {
      sluice::test::wait_until([&] { return taken.load() >= 8; });
      stop.request_stop();
    });
    Report r = pipeline.run({.threads = threads(), .max_in_flight = 8, .stop = stop.get_token()});
    canceller.join();
    EXPECT_TRUE(r.was_cancelled);
    EXPECT_EQ(r.delivered, 0u);
    EXPECT_TRUE(r.balanced());
  }
}

TEST(StageApiDot, ToDotShowsTheWiring) {
  const std::string dot =
      sluice::from("n", std::views::iota(0, 10))
          .then(sluice::custom_stage("dedupe", [] { return FirstOfKey{}; },
                                     {.concurrency = 4, .ordered = true, .describe = "by key"}))
          .sink("s", [](int) {})
          .to_dot();
  EXPECT_NE(dot.find("sequencer_node -> async_node(4, by key) -> function_node(settle) -> "
                     "sequencer_node"),
            std::string::npos)
      << dot;
}

INSTANTIATE_TEST_SUITE_P(Threads, StageApi, ::testing::Values(1u, 2u, 4u));

}  // namespace
