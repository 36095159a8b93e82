// The retry schedule: which attempt outcomes are worth another try, how long to wait
// (exponential backoff with full jitter, or the server's Retry-After), and the
// client-wide retry budget. Pure functions, so the maths is tested without a network.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

#include "sluice/http/retry.hpp"
#include "sluice/http/types.hpp"

namespace sluice::http::detail {

/// What one attempt ended in, as far as retrying is concerned.
struct AttemptResult {
  ErrorKind error = ErrorKind::none;
  int status = 0;
  /// The attempt reached the server (connected, or got as far as sending).
  bool connected = false;
};

/// GET, HEAD, PUT, DELETE, OPTIONS, TRACE (case-insensitive).
bool is_idempotent(std::string_view method) noexcept;

/// Whether the outcome calls for another try, leaving attempts and budget aside.
bool is_retryable(const AttemptResult& result, std::string_view method,
                  const RetryPolicy& policy) noexcept;

/// The backoff ceiling of retry number `retry` (1 = the first retry):
/// min(max_delay, base_delay * 2^(retry-1)).
std::chrono::microseconds backoff_ceiling(const RetryPolicy& policy, int retry) noexcept;

/// Full jitter: `unit` (uniform in [0, 1)) times the ceiling.
std::chrono::microseconds backoff_delay(const RetryPolicy& policy, int retry, double unit) noexcept;

/// A Retry-After value: delta-seconds, or an HTTP-date counted from `now`
/// (a date in the past means 0; a wait past a year reads as a year). nullopt when it is
/// neither.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::time_t now) noexcept;

/// The client-wide allowance of retries: at most floor + ratio * submitted, so a
/// failing server sees a bounded multiple of the offered load. I/O thread only.
class RetryBudget {
 public:
  /// Takes one retry from the budget when the policy allows it; false when spent.
  bool try_spend(const RetryPolicy& policy, std::uint64_t submitted) noexcept;
  std::uint64_t spent() const noexcept { return spent_; }

 private:
  std::uint64_t spent_ = 0;
};

/// The verdict on a finished attempt.
struct RetryDecision {
  bool retry = false;
  std::chrono::microseconds delay{0};
};

/// Everything decide_retry needs to know about the attempt and the client.
struct RetryInput {
  AttemptResult result;
  std::string_view method;
  int attempts_made = 1;
  /// The response's Retry-After header, when it had one.
  std::optional<std::string_view> retry_after;
  std::time_t now = 0;
  /// A uniform draw in [0, 1) for the jitter.
  double unit = 0.0;
  std::uint64_t submitted = 0;
};

/// Whether to retry and after how long. Spends from `budget` only on a yes.
RetryDecision decide_retry(const RetryPolicy& policy, const RetryInput& input,
                           RetryBudget& budget) noexcept;

}  // namespace sluice::http::detail
