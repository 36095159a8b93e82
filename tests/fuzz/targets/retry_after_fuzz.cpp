// Fuzz target: the client's reading of a server's Retry-After header (delta-seconds or an
// HTTP-date, parsed with libcurl's curl_getdate), and the retry decision it feeds.
// Checks: a wait is never negative, delta-seconds read as themselves up to the one-year
// ceiling, and a retry never waits past the policy's caps.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "fuzz_check.hpp"
#include "retry_schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::http::detail;
  using namespace std::chrono;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const std::time_t now = 1'767'225'600;  // 2026-01-01T00:00:00Z

  const auto wait = parse_retry_after(value, now);
  if (wait) FUZZ_CHECK(wait->count() >= 0, "a negative Retry-After");
  const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    FUZZ_CHECK(wait.has_value(), "delta-seconds not read");
    FUZZ_CHECK(wait->count() <= 86'400 * 365, "delta-seconds past the one-year ceiling");
    if (size <= 6) {
      std::int64_t expected = 0;
      for (const char c : value) expected = expected * 10 + (c - '0');
      FUZZ_CHECK(wait->count() == expected, "delta-seconds misread");
    }
  }

  const sluice::http::RetryPolicy policy{.max_attempts = 3};
  RetryBudget budget;
  for (const int status : {429, 503}) {
    RetryInput input;
    input.result.status = status;
    input.method = "GET";
    input.retry_after = value;
    input.now = now;
    input.unit = 0.5;
    input.submitted = 1;
    const RetryDecision decision = decide_retry(policy, input, budget);
    FUZZ_CHECK(decision.delay.count() >= 0, "a negative retry delay");
    FUZZ_CHECK(decision.delay <= std::max<microseconds>(policy.max_retry_after, policy.max_delay),
               "a retry delay past the policy's caps");
    if (wait && *wait > policy.max_retry_after) {
      FUZZ_CHECK(!decision.retry, "retried although Retry-After is past the cap");
    }
  }
  return 0;
}
