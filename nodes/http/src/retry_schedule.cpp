#include "retry_schedule.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

namespace sluice::http::detail {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) ==
           std::toupper(static_cast<unsigned char>(y));
  });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_idempotent(std::string_view method) noexcept {
  constexpr std::array<std::string_view, 6> kIdempotent = {"GET",    "HEAD",    "PUT",
                                                           "DELETE", "OPTIONS", "TRACE"};
  return std::any_of(kIdempotent.begin(), kIdempotent.end(),
                     [method](std::string_view m) { return equals_ignoring_case(m, method); });
}

bool is_retryable(const AttemptResult& result, std::string_view method,
                  const RetryPolicy& policy) noexcept {
  const bool may_repeat = policy.retry_unsafe_methods || is_idempotent(method);
  switch (result.error) {
    case ErrorKind::refused:
      return true;  // nothing reached the server
    case ErrorKind::timeout:
      return !result.connected;  // connect timeouts only
    case ErrorKind::reset:
      return may_repeat;  // the server may have seen the request
    case ErrorKind::none:
      // 429 and 503 say "not now" without having acted; other 5xx may have acted.
      // 501 and 505 will not change on a retry.
      if (result.status == 429 || result.status == 503) return true;
      if (result.status >= 500 && result.status <= 599 && result.status != 501 &&
          result.status != 505) {
        return may_repeat;
      }
      return false;
    default:
      return false;
  }
}

std::chrono::microseconds backoff_ceiling(const RetryPolicy& policy, int retry) noexcept {
  using std::chrono::microseconds;
  const auto base = std::chrono::duration_cast<microseconds>(policy.base_delay).count();
  const auto cap = std::chrono::duration_cast<microseconds>(policy.max_delay).count();
  if (base <= 0 || cap <= 0) return microseconds(0);
  // Doubling in floating point cannot overflow; the min brings it back into range.
  const double grown = static_cast<double>(base) * std::exp2(std::max(0, retry - 1));
  return microseconds(static_cast<std::int64_t>(std::min(grown, static_cast<double>(cap))));
}

std::chrono::microseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        double unit) noexcept {
  const double clamped = std::clamp(unit, 0.0, 1.0);
  return std::chrono::microseconds(static_cast<std::int64_t>(
      static_cast<double>(backoff_ceiling(policy, retry).count()) * clamped));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::time_t now) noexcept {
  // Anything past a year is as good as "never" for the cap comparison; stopping there
  // keeps huge values (delta-seconds or a date in year 989909999) from overflowing when
  // they are compared with, or converted to, finer units.
  constexpr std::int64_t kCeiling = 86'400 * 365;
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    std::int64_t seconds = 0;
    for (char c : value) seconds = std::min<std::int64_t>(seconds * 10 + (c - '0'), kCeiling);
    return std::chrono::seconds(seconds);
  }
  try {
    const std::string text(value);
    const std::time_t when = curl_getdate(text.c_str(), nullptr);
    if (when == static_cast<std::time_t>(-1)) return std::nullopt;
    if (when <= now) return std::chrono::seconds(0);
    return std::chrono::seconds(std::min<std::int64_t>(when - now, kCeiling));
  } catch (...) {
    return std::nullopt;
  }
}

bool RetryBudget::try_spend(const RetryPolicy& policy, std::uint64_t submitted) noexcept {
  const double allowance = static_cast<double>(policy.budget_floor) +
                           std::max(0.0, policy.budget_ratio) * static_cast<double>(submitted);
  if (static_cast<double>(spent_) + 1.0 > allowance) return false;
  ++spent_;
  return true;
}

RetryDecision decide_retry(const RetryPolicy& policy, const RetryInput& input,
                           RetryBudget& budget) noexcept {
  if (input.attempts_made >= policy.max_attempts) return {};
  if (!is_retryable(input.result, input.method, policy)) return {};

  std::chrono::microseconds delay =
      backoff_delay(policy, input.attempts_made, input.unit);  // retry n follows attempt n
  if (input.result.error == ErrorKind::none && input.retry_after) {
    if (const auto wait = parse_retry_after(*input.retry_after, input.now)) {
      // The server named its time; waiting less would only earn another refusal, and a
      // wait past the cap is the caller's to decide, so the response goes back as is.
      if (*wait > policy.max_retry_after) return {};
      delay = *wait;
    }
  }
  if (!budget.try_spend(policy, input.submitted)) return {};
  return {true, delay};
}

}  // namespace sluice::http::detail
