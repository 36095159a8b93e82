// Instruments shared by the engine tests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

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

}  // namespace sluice::test
