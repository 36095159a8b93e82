// Instruments shared by the engine tests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include <sluice/completion.hpp>
#include <sluice/sluice.hpp>

namespace sluice::test {

/// Tracks how many bodies run at once and the most seen.
class ConcurrencyGauge {
 public:
  class Scope {
   public:
    explicit Scope(ConcurrencyGauge& g) : g_(g) {
      int now = g_.active_.fetch_add(1) + 1;
      int seen = g_.max_.load();
      while (now > seen && !g_.max_.compare_exchange_weak(seen, now)) {
      }
    }
    ~Scope() { g_.active_.fetch_sub(1); }

   private:
    ConcurrencyGauge& g_;
  };
  int active() const { return active_.load(); }
  int max() const { return max_.load(); }

 private:
  std::atomic<int> active_{0};
  std::atomic<int> max_{0};
};

/// A value type that counts its live instances.
class Tracked {
 public:
  static inline std::atomic<long> alive{0};
  static inline std::atomic<long> max_alive{0};

  explicit Tracked(long v = 0) : v_(v) { bump(); }
  Tracked(const Tracked& o) : v_(o.v_) { bump(); }
  Tracked(Tracked&& o) noexcept : v_(o.v_) { bump(); }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) noexcept = default;
  ~Tracked() { alive.fetch_sub(1); }
  long value() const { return v_; }

  static void reset() {
    alive = 0;
    max_alive = 0;
  }

 private:
  static void bump() {
    long now = alive.fetch_add(1) + 1;
    long seen = max_alive.load();
    while (now > seen && !max_alive.compare_exchange_weak(seen, now)) {
    }
  }
  long v_;
};

/// Spins (yielding) until pred() or the timeout; returns pred().
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

/// Starts `p`, cancels it once `ready()` holds, and returns its report, having checked
/// what every cancelled run must show: the cancel reached it and it still balances.
template <class Ready>
Report cancel_when(const Pipeline& p, const RunOptions& options, Ready ready) {
  RunHandle h = p.start(options);
  const bool reached = wait_until(ready);
  h.cancel();
  Report r = h.wait();
  EXPECT_TRUE(reached) << "the run never got to where the test cancels it";
  EXPECT_TRUE(r.was_cancelled);
  EXPECT_TRUE(r.balanced());
  return r;
}

/// Busy work that the optimiser cannot remove.
inline std::uint64_t spin(int n) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  asm volatile("" : "+r"(x));  // callers often ignore the result: keep the work
  return x;
}

/// Completes the operations handed to it with `value`, from a thread of its own (a
/// stand-in for an I/O thread). `before_each` runs just before each completion;
/// `pace` spaces the batches it completes (completions then arrive late, in bursts).
template <class T>
class CompleterThread {
 public:
  explicit CompleterThread(T value, std::function<void()> before_each = {},
                           std::chrono::microseconds pace = std::chrono::microseconds(0))
      : value_(value),
        before_each_(std::move(before_each)),
        pace_(pace),
        thread_([this] { loop(); }) {}
  ~CompleterThread() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void add(sluice::Completion<T> c) { add(std::move(c), value_); }
  /// Completes `c` with a value of its own.
  void add(sluice::Completion<T> c, T value) {
    {
      std::lock_guard lock(m_);
      pending_.emplace_back(std::move(c), std::move(value));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty()) return;
      std::deque<std::pair<sluice::Completion<T>, T>> take;
      take.swap(pending_);
      lock.unlock();
      if (pace_.count() > 0) std::this_thread::sleep_for(pace_);
      for (auto& [c, v] : take) {
        if (before_each_) before_each_();
        c.succeed(std::move(v));
      }
      lock.lock();
    }
  }

  T value_;
  std::function<void()> before_each_;
  std::chrono::microseconds pace_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<sluice::Completion<T>, T>> pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sluice::test
