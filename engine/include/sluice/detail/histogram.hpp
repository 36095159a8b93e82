// Log-linear histogram of durations in nanoseconds: 8 sub-buckets per power of two
// (at most 12.5% error), recorded lock-free. A writer that owns its histogram (one per
// arena thread) pays a load and a store; a shared one pays a fetch_add.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <vector>

#include "sluice/report.hpp"

namespace sluice::detail {

class HistogramCounts;

class Histogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxExp = 42;  // about 73 minutes; longer values land in the last bucket
  static constexpr int kBuckets = kSub + (kMaxExp - kSubBits + 1) * kSub;

  static int bucket_of(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<int>(v);
    int e = std::bit_width(v) - 1;  // v in [2^e, 2^(e+1))
    if (e > kMaxExp) return kBuckets - 1;
    int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
    return kSub + (e - kSubBits) * kSub + sub;
  }

  /// The lower bound of bucket b, and its width.
  static std::uint64_t bucket_low(int b) noexcept {
    if (b < kSub) return static_cast<std::uint64_t>(b);
    int e = (b - kSub) / kSub + kSubBits;
    std::uint64_t sub = static_cast<std::uint64_t>((b - kSub) % kSub);
    return (std::uint64_t{1} << e) + (sub << (e - kSubBits));
  }
  static std::uint64_t bucket_width(int b) noexcept {
    if (b < kSub) return 1;
    int e = (b - kSub) / kSub + kSubBits;
    return std::uint64_t{1} << (e - kSubBits);
  }

  /// Records v as `weight` samples (a sampled value stands for the ones not timed).
  void record_owned(std::uint64_t v, std::uint64_t weight = 1) noexcept {
    bump_owned(counts_[bucket_of(v)], weight);
    bump_owned(sum_, v * weight);
  }
  void record_shared(std::uint64_t v, std::uint64_t weight = 1) noexcept {
    counts_[bucket_of(v)].fetch_add(weight, std::memory_order_relaxed);
    sum_.fetch_add(v * weight, std::memory_order_relaxed);
  }

  void add_to(HistogramCounts& out) const noexcept;

  static void bump_owned(std::atomic<std::uint64_t>& c, std::uint64_t v) noexcept {
    c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> sum_{0};
};

/// A plain (non-atomic) copy of one or more histograms, for quantiles and deltas.
class HistogramCounts {
 public:
  HistogramCounts() : counts_(Histogram::kBuckets, 0) {}

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t sum() const noexcept { return sum_; }
  double mean() const noexcept { return total_ ? static_cast<double>(sum_) / total_ : 0.0; }
  /// The q-quantile (0..1), interpolated inside its bucket.
  double quantile(double q) const noexcept;
  double max() const noexcept;

  /// count, mean, p50, p99 and max in microseconds, with the buckets they come from.
  LatencySummary summary() const;
  /// The counts a summary was made from (LatencySummary::buckets and sum_ns).
  static HistogramCounts of(const LatencySummary& s);

  HistogramCounts& operator-=(const HistogramCounts& o) noexcept;
  HistogramCounts& operator+=(const HistogramCounts& o) noexcept;

 private:
  friend class Histogram;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
};

inline void Histogram::add_to(HistogramCounts& out) const noexcept {
  for (int b = 0; b < kBuckets; ++b) {
    std::uint64_t c = counts_[b].load(std::memory_order_relaxed);
    out.counts_[b] += c;
    out.total_ += c;
  }
  out.sum_ += sum_.load(std::memory_order_relaxed);
}

}  // namespace sluice::detail
