#include "window_stats.hpp"

#include <algorithm>
#include <cmath>

namespace http_fanout {

void WindowStats::add(const Outcome& o) {
  if (!o.sent) {
    ++unsent_;
    return;
  }
  if (o.ok) {
    ++ok_;
  } else {
    ++failed_;
    ++errors_[o.error];
  }
  latencies_ms_.push_back(o.latency_ms);
}

void WindowStats::merge(const WindowStats& other) {
  ok_ += other.ok_;
  failed_ += other.failed_;
  unsent_ += other.unsent_;
  for (const auto& [kind, n] : other.errors_) errors_[kind] += n;
  latencies_ms_.insert(latencies_ms_.end(), other.latencies_ms_.begin(), other.latencies_ms_.end());
}

double WindowStats::percentile_ms(double q) const {
  if (latencies_ms_.empty()) return 0;
  // Nearest rank: the smallest latency with at least q of the calls at or below it.
  std::vector<double> v = latencies_ms_;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  std::size_t k = rank == 0 ? 0 : std::min(rank, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace http_fanout
