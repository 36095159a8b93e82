// sluice::http::ClientOptions: how an HTTP client behaves (timeouts, caps, connections).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "sluice/http/retry.hpp"
#include "sluice/options.hpp"

namespace sluice::http {

/// How a client behaves. The defaults are safe for fetching from untrusted URLs:
/// http/https only (redirects too, at most 10), finite timeouts, a response size cap,
/// TLS verification on. Counts with no cap take sluice::unlimited.
///
///   sluice::http::ClientOptions opts;
///   opts.timeout = std::chrono::seconds(5);
///   opts.max_host_connections = 64;
///   auto client = std::make_shared<sluice::http::Client>(opts);
struct ClientOptions {
  /// Total time one attempt may take, when the request does not say.
  std::chrono::milliseconds timeout{30'000};
  /// Time one attempt may take to connect, when the request does not say.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Bodies longer than this end the transfer with ErrorKind::too_large. Decoded bytes
  /// count: a compressed body is stopped where it inflates past the cap.
  std::size_t max_response_bytes = 64u << 20;
  /// Header lines of one attempt (every redirect hop together) longer than this end it
  /// with ErrorKind::too_large. (libcurl refuses any single line over 100 KiB anyway.)
  std::size_t max_header_bytes = 256u << 10;
  /// Bytes buffered across every transfer at once (bodies and headers being received,
  /// counted by their buffers' capacity). A transfer that would pass it ends with
  /// ErrorKind::too_large, its body cut where it stopped; sluice::unlimited = no budget.
  /// Thousands of requests in flight against large bodies stay within it instead of
  /// within max_response_bytes times their number.
  std::size_t memory_budget_bytes = std::size_t{1} << 30;
  /// An attempt receiving fewer than low_speed_bytes per second for low_speed_time ends
  /// with ErrorKind::timeout (a server dripping bytes to hold a connection). Whole
  /// seconds, at least 1; a zero time or rate turns the check off (no minimum rate).
  std::size_t low_speed_bytes = 16;
  std::chrono::seconds low_speed_time{30};
  /// Offer every content encoding libcurl decodes (gzip, deflate, ...) and decode the
  /// body, so callers get it as meant; false sends no Accept-Encoding and leaves a body
  /// as it came.
  bool decode_content = true;
  /// Raise this process's RLIMIT_NOFILE soft limit to its hard limit when the client
  /// starts: every connection is a descriptor, and the usual soft limit of 1024 is
  /// short of thousands in flight. Requests that still find no descriptor end with
  /// ErrorKind::no_descriptors, whose message gives both limits.
  bool raise_fd_limit = true;
  /// Redirects followed per request (http and https targets only).
  long max_redirects = 10;
  /// Connections open at once to one host, at least 1; sluice::unlimited = no cap.
  /// Transfers past it queue. (A cap keeps every transfer on one multi handle; see
  /// Client.)
  std::size_t max_host_connections = unlimited;
  /// Connections open at once in all, at least 1; sluice::unlimited = no cap. Transfers
  /// past it queue.
  std::size_t max_total_connections = unlimited;
  /// Connections kept for reuse, per multi handle (see Client); 0 = automatic: that
  /// handle's share of max_total_connections when capped, else 10,000. (libcurl's own
  /// default, 4 per transfer running at that moment, closes idle connections whenever
  /// the load dips, and the next burst reconnects.)
  std::size_t connection_cache_size = 0;
  /// Multiplex requests over one HTTP/2 connection when the server offers it.
  bool http2_multiplex = true;
  /// Verify the server's TLS certificate and host name. Turn off only for tests.
  bool verify_tls = true;
  /// The retry policy of requests that carry none.
  RetryPolicy retry{};
  /// Sent as User-Agent unless a request sets its own.
  std::string user_agent = "sluice-http/0.1";
};

}  // namespace sluice::http
