// MemoryBudget: the bytes that a client's transfers hold in their buffers (bodies and
// headers being received), charged before they are allocated, so that the client as a
// whole stays within a cap however many transfers are in flight.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "sluice/options.hpp"

namespace sluice::http::detail {

/// Charged and released on the I/O thread only; held() and peak() may be read from any
/// thread.
///
///   MemoryBudget budget(8u << 20);
///   if (!budget.try_charge(4096)) fail_the_transfer();
///   ...
///   budget.release(4096);
class MemoryBudget {
 public:
  /// `limit` sluice::unlimited: no limit (only counted).
  explicit MemoryBudget(std::size_t limit) noexcept : limit_(limit) {}

  /// Charges `bytes` when they fit under the limit; false (and nothing charged) when not.
  bool try_charge(std::size_t bytes) noexcept {
    const std::size_t now = held_.load(std::memory_order_relaxed);
    if (limit_ != unlimited && bytes > limit_ - std::min(limit_, now)) return false;
    const std::size_t after = now + bytes;
    held_.store(after, std::memory_order_relaxed);
    if (after > peak_.load(std::memory_order_relaxed)) {
      peak_.store(after, std::memory_order_relaxed);
    }
    return true;
  }

  void release(std::size_t bytes) noexcept {
    const std::size_t now = held_.load(std::memory_order_relaxed);
    held_.store(now - std::min(now, bytes), std::memory_order_relaxed);
  }

  std::size_t limit() const noexcept { return limit_; }
  std::size_t held() const noexcept { return held_.load(std::memory_order_relaxed); }
  std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  // One writer (the I/O thread): plain loads and stores, atomics only for the readers.
  std::atomic<std::size_t> held_{0};
  std::atomic<std::size_t> peak_{0};
};

}  // namespace sluice::http::detail
