// sluice::LocalHttpServer: a small HTTP/1.1 server on the loopback interface, for tests,
// samples and benchmarks. It misbehaves on request (delays, errors, resets, hangs) so a
// client can be tested against every fault without a network.
//
// The constructor binds (port 0 by default: the kernel picks a free port, `port()` says
// which) and starts one event-loop thread (libevent, epoll). It holds 10,000 concurrent
// connections on that one thread: delays are timers, never sleeps. `stop()` or the
// destructor ends the loop, closes every connection (hanging ones included) and joins the
// thread. Counters are atomics, readable from any thread while it runs.
//
//   sluice::LocalHttpServer server;                      // 127.0.0.1, ephemeral port
//   std::string url = server.url("/bytes?n=1000&delay_us=200");
//   // ... a client GETs url: after >= 200 us, a 200 with 1000 bytes "abc...zab..."
//   EXPECT_EQ(server.endpoint_count(sluice::HttpEndpoint::bytes), 1u);
//
// Endpoints (GET, HEAD and POST on all of them; a request body is read and counted, and
// every response carries `X-Request-Body-Bytes: <n>`). Unknown query parameters are
// ignored (handy for cache-busting ids); a malformed or out-of-range one gives 400 with a
// one-line message; an unknown path gives 404; another method gives 405.
//
//   any endpoint     delay_us=N      wait N microseconds (a timer) before answering
//   /delay           us=N [n=B]      200 after N us (same as delay_us); body "ok\n", or B
//                                    pattern bytes when n is given
//   /bytes           n=B             200 with B pattern bytes: byte i is 'a' + i % 26
//                                    (see `pattern_byte`), Content-Length B
//   /status          code=C          status C (200..599), short text body
//   /flaky           fail=F [code=C] [retry_after=S] [seed=X] [n=B]
//                                    a fraction F (0..1) of /flaky requests answer C
//                                    (default 503, with `Retry-After: S` when given), the
//                                    rest 200 ("ok\n" or B pattern bytes). Without seed
//                                    the failures are spread evenly over the server's
//                                    /flaky request counter k (k fails when
//                                    floor((k+1)F) > floor(kF)): any run of N requests has
//                                    N*F failures, +-1. With seed=X the choice is a hash
//                                    of (X, k): pseudo-random, reproducible for one order.
//   /reset           after=A [n=B]   headers announcing Content-Length B (default A+1024),
//                                    A pattern bytes, then a TCP reset (SO_LINGER 0)
//   /hang                            never answers; the connection stays open until the
//                                    client closes it or the server stops
//   /redirect        to=URL [code=C] C (301, 302 default, 303, 307, 308) with Location URL
//   /static/PATH                     the file PATH under `LocalHttpServerOptions::static_root`;
//                                    404 when missing or no root is set, 403 for any ".."
//                                    segment or a path that resolves outside the root
//   /echo                            any method; JSON {"method","target","headers",
//                                    "body_bytes"} describing the request
//
// Hostile endpoints, for testing a client's limits:
//
//   /drip            [n=B] [every_us=U]  a head announcing B (100) bytes, then one pattern
//                                    byte every U us (1 s)
//   /headers         size=S [count=K]  200 "ok\n" with K (1) headers X-Filler-i of S bytes
//   /gzip            n=B [encoding=E]  B pattern bytes compressed with E (gzip, or deflate:
//                                    zlib format), `Content-Encoding: E`
//   /malformed       [kind=K]        raw bytes, then close: `status` (default) a status
//                                    line "HTTP/1.1 abc"; `garbage` no HTTP at all;
//                                    `length` two different Content-Lengths
//   /redirect_loop   [hop=K]         302 to /redirect_loop?hop=K+1, endlessly
//
// Connections are persistent (HTTP/1.1 keep-alive, `Connection: close` honoured) and
// answered in order. A client that closes its end while its request waits (a delay, a
// hang) abandons that request: the server closes the connection and counts it. (A
// half-close right after an undelayed request still gets its answer.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (tens of thousands of
/// sockets need more than the usual 1024). Returns the soft limit now in effect.
/// Idempotent and thread-safe; the server calls it when it starts (see the option).
std::uint64_t raise_fd_limit() noexcept;

/// The body byte at offset i of /bytes, /delay?n=, /flaky?n= and /reset responses:
/// 'a' + i % 26, so a client can check a body without a copy of it.
constexpr char pattern_byte(std::uint64_t i) noexcept {
  return static_cast<char>('a' + i % 26);
}

/// The endpoints the server counts requests for.
enum class HttpEndpoint : std::size_t {
  delay,
  bytes,
  status,
  flaky,
  reset,
  hang,
  redirect,
  static_file,
  echo,
  drip,
  headers,
  gzip,
  malformed,
  redirect_loop,
  not_found,  ///< any other path, and requests too malformed to route
  count_      ///< number of endpoints, not an endpoint
};

inline constexpr std::size_t kHttpEndpointCount = static_cast<std::size_t>(HttpEndpoint::count_);

/// "delay", "bytes", ..., "not_found".
std::string_view to_string(HttpEndpoint endpoint) noexcept;

/// How to start a LocalHttpServer. The defaults suit tests.
struct LocalHttpServerOptions {
  /// Address to listen on (numeric IPv4 or IPv6). Loopback keeps it off the network.
  std::string host = "127.0.0.1";
  /// 0: the kernel picks a free port (read it back with `port()`).
  std::uint16_t port = 0;
  /// Folder served under /static/. Empty: /static/ answers 404.
  std::filesystem::path static_root;
  /// listen(2) backlog; the kernel caps it at net.core.somaxconn.
  int listen_backlog = 65535;
  /// Largest request head (request line and headers) accepted; larger gets 431.
  std::size_t max_request_head_bytes = 64 * 1024;
  /// Call `raise_fd_limit()` when starting.
  bool raise_fd_limit = true;
};

/// A snapshot of the server's counters (each read atomically; the set is not one instant).
struct LocalHttpServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t active_connections = 0;       ///< open now
  std::uint64_t peak_active_connections = 0;  ///< most open at once
  std::uint64_t requests_received = 0;        ///< requests read (malformed ones included)
  std::uint64_t responses_sent = 0;           ///< responses written out in full
  std::uint64_t bad_requests = 0;             ///< 400, 405 and 431 answers, malformed requests
  std::uint64_t flaky_failures = 0;           ///< /flaky requests answered with the failure code
  std::uint64_t resets = 0;                   ///< connections reset by /reset
  std::uint64_t abandoned = 0;                ///< requests whose client left before the answer
  std::array<std::uint64_t, kHttpEndpointCount> per_endpoint{};  ///< requests per endpoint

  std::uint64_t count(HttpEndpoint endpoint) const noexcept {
    return per_endpoint[static_cast<std::size_t>(endpoint)];
  }
};

/// The server. Not copyable or movable (its loop thread refers to it).
class LocalHttpServer {
 public:
  /// Binds, listens and starts the loop thread. Throws std::system_error when the address
  /// cannot be bound, std::invalid_argument for a bad option.
  explicit LocalHttpServer(LocalHttpServerOptions options = {});
  /// Same as stop().
  ~LocalHttpServer();

  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;
  LocalHttpServer(LocalHttpServer&&) = delete;
  LocalHttpServer& operator=(LocalHttpServer&&) = delete;

  /// The port it listens on (the real one when the option said 0).
  std::uint16_t port() const noexcept;
  /// "http://127.0.0.1:PORT" (IPv6 hosts in brackets).
  std::string base_url() const;
  /// base_url() + path_and_query, e.g. url("/delay?us=1000").
  std::string url(std::string_view path_and_query) const;

  /// Ends the loop, closes every connection and joins the thread. Idempotent, may be
  /// called from any thread (never from inside the server's own thread).
  void stop() noexcept;
  /// True until stop() has been called.
  bool running() const noexcept;

  LocalHttpServerStats stats() const noexcept;
  std::uint64_t requests_received() const noexcept;
  std::uint64_t responses_sent() const noexcept;
  std::uint64_t active_connections() const noexcept;
  std::uint64_t endpoint_count(HttpEndpoint endpoint) const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
