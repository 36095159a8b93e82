// What each window of the fan-out reduces its responses into: counts by outcome and the
// latencies, from which a window line (and the run's summary) takes its percentiles.
//
//   WindowStats s;
//   s.add(outcome);               // the window stage's reduce function
//   double p99 = s.percentile_ms(0.99);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace http_fanout {

/// One message's HTTP call: sent or not (the run's time was up first), and how it ended.
struct Outcome {
  bool sent = false;
  bool ok = false;        ///< a 2xx response
  std::string error;      ///< when not ok: "http_503", "timeout", "refused", ...
  double latency_ms = 0;  ///< request start to response (sent calls only)
};

class WindowStats {
 public:
  void add(const Outcome& o);
  /// Folds another window's figures in (for the run's totals).
  void merge(const WindowStats& other);

  std::uint64_t completed() const noexcept { return ok_ + failed_; }
  std::uint64_t ok() const noexcept { return ok_; }
  std::uint64_t failed() const noexcept { return failed_; }
  std::uint64_t unsent() const noexcept { return unsent_; }
  const std::map<std::string, std::uint64_t>& errors() const noexcept { return errors_; }
  /// The q-quantile (0..1) of the latencies of completed calls, in ms; 0 when none.
  double percentile_ms(double q) const;

 private:
  std::uint64_t ok_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t unsent_ = 0;
  std::map<std::string, std::uint64_t> errors_;
  std::vector<double> latencies_ms_;
};

}  // namespace http_fanout
