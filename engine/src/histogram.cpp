#include "sluice/detail/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::detail {

double HistogramCounts::quantile(double q) const noexcept {
  if (total_ == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the wanted sample, 1-based; interpolate linearly inside its bucket.
  double rank = std::max(1.0, std::ceil(q * static_cast<double>(total_)));
  std::uint64_t seen = 0;
  for (int b = 0; b < Histogram::kBuckets; ++b) {
    std::uint64_t c = counts_[b];
    if (c == 0) continue;
    if (static_cast<double>(seen + c) >= rank) {
      double within = (rank - static_cast<double>(seen)) / static_cast<double>(c);
      return static_cast<double>(Histogram::bucket_low(b)) +
             within * static_cast<double>(Histogram::bucket_width(b));
    }
    seen += c;
  }
  return max();
}

double HistogramCounts::max() const noexcept {
  for (int b = Histogram::kBuckets - 1; b >= 0; --b) {
    if (counts_[b] != 0) {
      return static_cast<double>(Histogram::bucket_low(b) + Histogram::bucket_width(b));
    }
  }
  return 0.0;
}

LatencySummary HistogramCounts::summary() const {
  LatencySummary s{count(), mean() / 1e3, quantile(0.5) / 1e3, quantile(0.99) / 1e3, max() / 1e3,
                   {},      sum_};
  if (total_ != 0) {
    auto last = std::find_if(counts_.rbegin(), counts_.rend(), [](std::uint64_t c) { return c; });
    s.buckets.assign(counts_.begin(), last.base());
  }
  return s;
}

HistogramCounts HistogramCounts::of(const LatencySummary& s) {
  HistogramCounts h;
  const std::size_t n = std::min(s.buckets.size(), h.counts_.size());
  for (std::size_t b = 0; b < n; ++b) {
    h.counts_[b] = s.buckets[b];
    h.total_ += s.buckets[b];
  }
  h.sum_ = s.sum_ns;
  return h;
}

HistogramCounts& HistogramCounts::operator-=(const HistogramCounts& o) noexcept {
  for (int b = 0; b < Histogram::kBuckets; ++b) counts_[b] -= std::min(counts_[b], o.counts_[b]);
  total_ -= std::min(total_, o.total_);
  sum_ -= std::min(sum_, o.sum_);
  return *this;
}

HistogramCounts& HistogramCounts::operator+=(const HistogramCounts& o) noexcept {
  for (int b = 0; b < Histogram::kBuckets; ++b) counts_[b] += o.counts_[b];
  total_ += o.total_;
  sum_ += o.sum_;
  return *this;
}

}  // namespace sluice::detail
