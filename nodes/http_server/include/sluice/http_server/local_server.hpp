// sluice::http_server::LocalServer: a small HTTP/1.1 server on the loopback interface, for tests,
// samples and benchmarks. It misbehaves on request (delays, errors, resets, hangs) so a
// client can be tested against every fault without a network.
//
// The constructor binds (port 0 by default: the kernel picks a free port, `port()` says
// which) and starts one event-loop thread (libevent's HTTP server, evhttp, on epoll). It holds
// 10,000 concurrent connections on that one thread: delays are timers, never sleeps. `stop()` or
// the destructor ends the loop, closes every connection (hanging ones included) and joins the
// thread. Counters are atomics, readable from any thread while it runs.
//
//   sluice::http_server::LocalServer server;                      // 127.0.0.1, ephemeral port
//   std::string url = server.url("/bytes?n=1000&delay_us=200");
//   // ... a client GETs url: after >= 200 us, a 200 with 1000 bytes "abc...zab..."
//   EXPECT_EQ(server.endpoint_count(sluice::http_server::Endpoint::bytes), 1u);
//
// What each endpoint answers, and its parameters: sluice/http_server/endpoint.hpp.
//
// Connections are persistent (HTTP/1.1 keep-alive, `Connection: close` honoured) and
// answered in order. A client that closes its end while its request waits (a delay, a
// hang) abandons that request: the server closes the connection and counts it. (A
// half-close right after an undelayed request still gets its answer.) A request evhttp
// cannot read (malformed, or a head over `max_request_head_bytes`) gets evhttp's own 400
// and a closed connection, and is counted nowhere: it never reaches the server's router.
// Request bodies are read whole into memory before the answer (evhttp keeps them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/http_server/endpoint.hpp"

namespace sluice::http_server {

/// How to start a LocalServer. The defaults suit tests.
struct LocalServerOptions {
  /// Address to listen on (numeric IPv4 or IPv6). Loopback keeps it off the network.
  std::string host = "127.0.0.1";
  /// 0: the kernel picks a free port (read it back with `port()`).
  std::uint16_t port = 0;
  /// Folder served under /static/. Empty: /static/ answers 404.
  std::filesystem::path static_root;
  /// listen(2) backlog; the kernel caps it at net.core.somaxconn.
  int listen_backlog = 65535;
  /// Largest request head (request line and headers) accepted; larger gets 400 (evhttp
  /// has no 431) and a closed connection.
  std::size_t max_request_head_bytes = 64 * 1024;
  /// Call `raise_fd_limit()` (sluice/http_server/fd_limit.hpp) when starting.
  bool raise_fd_limit = true;
};

/// A snapshot of the server's counters (each read atomically; the set is not one instant).
struct LocalServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t active_connections = 0;       ///< open now
  std::uint64_t peak_active_connections = 0;  ///< most open at once
  std::uint64_t requests_received = 0;        ///< requests routed (not malformed ones)
  std::uint64_t responses_sent = 0;           ///< responses written out in full
  std::uint64_t bad_requests = 0;             ///< 400 and 405 answers of the router
  std::uint64_t flaky_failures = 0;           ///< /flaky requests answered with the failure code
  std::uint64_t resets = 0;                   ///< connections reset by /reset
  std::uint64_t abandoned = 0;                ///< requests whose client left before the answer
  std::array<std::uint64_t, kEndpointCount> per_endpoint{};  ///< requests per endpoint

  std::uint64_t count(Endpoint endpoint) const noexcept {
    return per_endpoint[static_cast<std::size_t>(endpoint)];
  }
};

/// The server. Not copyable or movable (its loop thread refers to it).
class LocalServer {
 public:
  /// Binds, listens and starts the loop thread. Throws std::system_error when the address
  /// cannot be bound, std::invalid_argument for a bad option.
  explicit LocalServer(LocalServerOptions options = {});
  /// Same as stop().
  ~LocalServer();

  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  LocalServer(LocalServer&&) = delete;
  LocalServer& operator=(LocalServer&&) = delete;

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

  LocalServerStats stats() const noexcept;
  std::uint64_t requests_received() const noexcept;
  std::uint64_t responses_sent() const noexcept;
  std::uint64_t active_connections() const noexcept;
  std::uint64_t endpoint_count(Endpoint endpoint) const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http_server
