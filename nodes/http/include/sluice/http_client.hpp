// HttpClient: asynchronous HTTP on one I/O thread (libcurl's multi interface driven by
// curl_multi_socket_action on epoll), so thousands of requests can be in flight at
// the cost of one thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sluice/http_retry.hpp"
#include "sluice/http_types.hpp"

namespace sluice {

/// How a client behaves. The defaults are safe for fetching from untrusted URLs:
/// http/https only (redirects too, at most 10), finite timeouts, a response size cap,
/// TLS verification on.
///
///   sluice::HttpClientOptions opts;
///   opts.timeout = std::chrono::seconds(5);
///   opts.max_host_connections = 64;
///   auto client = std::make_shared<sluice::HttpClient>(opts);
struct HttpClientOptions {
  /// Total time one attempt may take, when the request does not say.
  std::chrono::milliseconds timeout{30'000};
  /// Time one attempt may take to connect, when the request does not say.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Bodies longer than this end the transfer with HttpError::too_large. Decoded bytes
  /// count: a compressed body is stopped where it inflates past the cap.
  std::size_t max_response_bytes = 64u << 20;
  /// Header lines of one attempt (every redirect hop together) longer than this end it
  /// with HttpError::too_large. (libcurl refuses any single line over 100 KiB anyway.)
  std::size_t max_header_bytes = 256u << 10;
  /// Bytes buffered across every transfer at once (bodies and headers being received,
  /// counted by their buffers' capacity). A transfer that would pass it ends with
  /// HttpError::too_large, its body cut where it stopped; 0 = no budget. Thousands of
  /// requests in flight against large bodies stay within it instead of within
  /// max_response_bytes times their number.
  std::size_t memory_budget_bytes = std::size_t{1} << 30;
  /// An attempt receiving fewer than low_speed_bytes per second for low_speed_time ends
  /// with HttpError::timeout (a server dripping bytes to hold a connection). Whole
  /// seconds, at least 1; a zero time or rate turns it off.
  std::size_t low_speed_bytes = 16;
  std::chrono::seconds low_speed_time{30};
  /// Offer every content encoding libcurl decodes (gzip, deflate, ...) and decode the
  /// body, so callers get it as meant; false sends no Accept-Encoding and leaves a body
  /// as it came.
  bool decode_content = true;
  /// Raise this process's RLIMIT_NOFILE soft limit to its hard limit when the client
  /// starts: every connection is a descriptor, and the usual soft limit of 1024 is
  /// short of thousands in flight. Requests that still find no descriptor end with
  /// HttpError::no_descriptors, whose message gives both limits.
  bool raise_fd_limit = true;
  /// Redirects followed per request (http and https targets only).
  long max_redirects = 10;
  /// Connections open at once to one host; 0 = no cap. Transfers past it queue. (A cap
  /// keeps every transfer on one multi handle; see HttpClient.)
  long max_host_connections = 0;
  /// Connections open at once in all; 0 = no cap. Transfers past it queue.
  long max_total_connections = 0;
  /// Connections kept for reuse, per multi handle (see HttpClient); 0 = automatic: that
  /// handle's share of max_total_connections when set, else 10,000. (libcurl's own
  /// default, 4 per transfer running at that moment, closes idle connections whenever
  /// the load dips, and the next burst reconnects.)
  long connection_cache_size = 0;
  /// Multiplex requests over one HTTP/2 connection when the server offers it.
  bool http2_multiplex = true;
  /// Verify the server's TLS certificate and host name. Turn off only for tests.
  bool verify_tls = true;
  /// The retry policy of requests that carry none.
  HttpRetryPolicy retry{};
  /// Sent as User-Agent unless a request sets its own.
  std::string user_agent = "sluice-http/0.1";
};

/// Counts since the client was made; readable from any thread at any time.
///
///   auto c = client.counters();
///   std::cout << c.completed << "/" << c.submitted << ", timeouts "
///             << c.errors(sluice::HttpError::timeout) << "\n";
struct HttpCounters {
  std::uint64_t submitted = 0;  ///< submit() calls
  std::uint64_t completed = 0;  ///< callbacks invoked
  std::uint64_t in_flight = 0;  ///< submitted but not completed (queued, running, waiting to retry)
  std::uint64_t attempts = 0;   ///< transfers started, retries included
  std::uint64_t retries = 0;    ///< attempts after the first
  /// Completed requests by outcome; index [none] counts the ones that got a response.
  std::array<std::uint64_t, kHttpErrorKinds> by_error{};
  /// Bytes held now against HttpClientOptions::memory_budget_bytes, and the most held
  /// at once since the client was made.
  std::uint64_t buffered_bytes = 0;
  std::uint64_t peak_buffered_bytes = 0;
  /// Connections (sockets) the client opened since it was made, holds open now, and
  /// held open at most at once. Idle connections are reused across the client's multi
  /// handles, so the peak stays within the most requests it had in flight.
  std::uint64_t connections_opened = 0;
  std::uint64_t open_connections = 0;
  std::uint64_t peak_open_connections = 0;

  std::uint64_t errors(HttpError kind) const noexcept {
    return by_error[static_cast<std::size_t>(kind)];
  }
};

namespace http_detail {
class Engine;
}

/// An asynchronous HTTP client: libcurl multi handles on one I/O thread of its own. No
/// other thread touches a curl handle; requests reach the thread through a queue.
///
/// Up to 128 transfers in flight run on one multi handle. Past that, more multi handles
/// (shards, each with its own connection cache) share the thread's epoll set, 128
/// transfers each: libcurl 7.x walks a multi handle's connections when a transfer starts
/// and ends, which at thousands of connections costs more than the transfer itself. A
/// connection is reused only by transfers of its own shard, so a new transfer goes to the
/// shard with idle connections: the client opens no more connections than it has
/// requests in flight (see HttpCounters::peak_open_connections). max_total_connections is
/// split over the shards; with max_host_connections set there is a single multi handle.
///
/// Every submitted request completes exactly once: its callback runs on the I/O thread
/// with a response (any status) or an error kind. Keep callbacks short — they hold up
/// every other transfer — and hand heavy work elsewhere.
///
///   sluice::HttpClient client;
///   client.submit({.url = "http://127.0.0.1:8080/status?code=200"},
///                 [](sluice::HttpResponse r) { std::cout << r.status << "\n"; });
///   sluice::HttpResponse r = client.fetch({.url = "http://127.0.0.1:8080/"});  // blocking
///
/// Thread-safe: submit, fetch, cancel_all and counters may be called from any thread,
/// callbacks included (fetch excepted: it would wait on its own thread).
class HttpClient {
 public:
  using Callback = std::function<void(HttpResponse)>;

  explicit HttpClient(HttpClientOptions options = {});
  /// cancel_all(), then stops and joins the I/O thread.
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Starts a request; `on_done` runs exactly once on the I/O thread. A URL whose
  /// scheme is not http or https completes at once with HttpError::scheme_refused,
  /// without touching the network. (A submit racing with the destructor completes at
  /// once with HttpError::cancelled, on the calling thread.)
  void submit(HttpRequest request, Callback on_done);

  /// Makes a request and waits for its outcome (for sequential or thread-pool use).
  /// Throws std::logic_error when called on the I/O thread (from a callback).
  HttpResponse fetch(HttpRequest request);

  /// Ends every request submitted so far — running, queued, or waiting to retry —
  /// each with HttpError::cancelled. Returns once their callbacks have run (when
  /// called from a callback, it returns at once and the cancel follows right after).
  /// Requests submitted afterwards run normally.
  void cancel_all();

  /// A snapshot of the counters.
  HttpCounters counters() const noexcept;

  const HttpClientOptions& options() const noexcept { return options_; }

 private:
  HttpClientOptions options_;
  // Shared with the I/O thread, so that a client destroyed from one of its own
  // callbacks leaves the thread a live engine to finish the cancel on.
  std::shared_ptr<http_detail::Engine> engine_;
};

}  // namespace sluice
