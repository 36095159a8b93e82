// sluice::http::RetryPolicy: when and how often the HTTP client tries a request again.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice::http {

/// Retries with exponential backoff and full jitter, within a budget.
///
/// A request is retried when its attempt ended in a connect failure (refused, connect
/// timeout, connection reset), a 429, or a 5xx, while attempts remain and the client's
/// retry budget allows. The n-th retry waits a uniformly random time in
/// [0, min(max_delay, base_delay * 2^(n-1))] ("full jitter"), or exactly the server's
/// `Retry-After` when it sent one; a Retry-After longer than `max_retry_after` ends the
/// retries (the response is delivered as it is). Waits run on the client's I/O-thread
/// timer: no thread sleeps.
///
/// Requests that a server may have acted on (a reset mid-transfer, a 500/502/504) are
/// retried only for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) unless
/// `retry_unsafe_methods` is set; refused connections, 429 and 503 are retried for all.
///
/// The budget keeps a failing server from being hit with a multiple of the offered
/// load: across one client, retries stay within `budget_floor + budget_ratio *
/// requests submitted`.
///
///   sluice::http::RetryPolicy retry{.max_attempts = 4,
///                                   .base_delay = std::chrono::milliseconds(50)};
///   sluice::http::Request req{.url = u, .retry = retry};
struct RetryPolicy {
  /// Attempts in all, the first included; 1 means no retries.
  int max_attempts = 1;
  /// The backoff ceiling of the first retry; it doubles for each further one.
  std::chrono::milliseconds base_delay{100};
  /// The backoff ceiling never grows past this.
  std::chrono::milliseconds max_delay{10'000};
  /// The longest Retry-After the client waits for; longer ones end the retries.
  std::chrono::milliseconds max_retry_after{30'000};
  /// The share of submitted requests that retries may add, client-wide.
  double budget_ratio = 0.2;
  /// Retries always allowed on top of the ratio, so a client's first failures retry.
  std::uint64_t budget_floor = 10;
  /// Retry resets and 500/502/504 for non-idempotent methods (POST, PATCH) too.
  bool retry_unsafe_methods = false;

  /// No retries: one attempt per request.
  static RetryPolicy none() noexcept { return {}; }
  /// `attempts` attempts with the default backoff and budget.
  static RetryPolicy with_attempts(int attempts) noexcept {
    RetryPolicy p;
    p.max_attempts = attempts;
    return p;
  }
};

}  // namespace sluice::http
