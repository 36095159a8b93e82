// sluice::http::Client: asynchronous HTTP on one I/O thread (libcurl's multi interface driven by
// curl_multi_socket_action on epoll), so thousands of requests can be in flight at
// the cost of one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "sluice/http/client_options.hpp"
#include "sluice/http/error_kind.hpp"
#include "sluice/http/types.hpp"

namespace sluice::http {

/// Counts since the client was made; readable from any thread at any time.
///
///   auto c = client.counters();
///   std::cout << c.completed << "/" << c.submitted << ", timeouts "
///             << c.errors(sluice::http::ErrorKind::timeout) << "\n";
struct Counters {
  std::uint64_t submitted = 0;  ///< submit() calls
  std::uint64_t completed = 0;  ///< callbacks invoked
  std::uint64_t in_flight = 0;  ///< submitted but not completed (queued, running, waiting to retry)
  std::uint64_t attempts = 0;   ///< transfers started, retries included
  std::uint64_t retries = 0;    ///< attempts after the first
  /// Completed requests by outcome; index [none] counts the ones that got a response.
  std::array<std::uint64_t, kErrorKinds> by_error{};
  /// Bytes held now against ClientOptions::memory_budget_bytes, and the most held
  /// at once since the client was made.
  std::uint64_t buffered_bytes = 0;
  std::uint64_t peak_buffered_bytes = 0;
  /// Connections (sockets) the client opened since it was made, holds open now, and
  /// held open at most at once. Idle connections are reused across the client's multi
  /// handles, so the peak stays within the most requests it had in flight.
  std::uint64_t connections_opened = 0;
  std::uint64_t open_connections = 0;
  std::uint64_t peak_open_connections = 0;

  std::uint64_t errors(ErrorKind kind) const noexcept {
    return by_error[static_cast<std::size_t>(kind)];
  }
};

namespace detail {
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
/// requests in flight (see Counters::peak_open_connections). max_total_connections is
/// split over the shards; with max_host_connections capped there is a single multi handle.
///
/// Opening a connection costs the I/O thread far more than a request on an idle one.
/// Submitted requests wait in the client's queue (counted in_flight) and start, in
/// order, as soon as an idle connection waits for them; before one opens a connection,
/// the thread reads every answer already there, which hands connections back, and it
/// opens at most 64 per round. From a cold start, requests submitted faster than
/// connections open wait their turn instead of each opening a connection while the
/// answers that would free one go unread. A request's timeout starts when it leaves
/// that queue.
///
/// Every submitted request completes exactly once: its callback runs on the I/O thread
/// with a response (any status) or an error kind. Keep callbacks short — they hold up
/// every other transfer — and hand heavy work elsewhere.
///
///   sluice::http::Client client;
///   client.submit({.url = "http://127.0.0.1:8080/status?code=200"},
///                 [](sluice::http::Response r) { std::cout << r.status << "\n"; });
///   sluice::http::Response r = client.fetch({.url = "http://127.0.0.1:8080/"});  // blocking
///
/// Thread-safe: submit, fetch, cancel_all and counters may be called from any thread,
/// callbacks included (fetch excepted: it would wait on its own thread).
class Client {
 public:
  using Callback = std::function<void(Response)>;

  explicit Client(ClientOptions options = {});
  /// cancel_all(), then stops and joins the I/O thread.
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts a request; `on_done` runs exactly once on the I/O thread. A URL whose
  /// scheme is not http or https completes at once with ErrorKind::scheme_refused,
  /// without touching the network. (A submit racing with the destructor completes at
  /// once with ErrorKind::cancelled, on the calling thread.)
  void submit(Request request, Callback on_done);

  /// Makes a request and waits for its outcome (for sequential or thread-pool use).
  /// Throws std::logic_error when called on the I/O thread (from a callback).
  Response fetch(Request request);

  /// Ends every request submitted so far — running, queued, or waiting to retry —
  /// each with ErrorKind::cancelled. Returns once their callbacks have run (when
  /// called from a callback, it returns at once and the cancel follows right after).
  /// Requests submitted afterwards run normally.
  void cancel_all();

  /// A snapshot of the counters.
  Counters counters() const noexcept;

  const ClientOptions& options() const noexcept { return options_; }

 private:
  ClientOptions options_;
  // Shared with the I/O thread, so that a client destroyed from one of its own
  // callbacks leaves the thread a live engine to finish the cancel on.
  std::shared_ptr<detail::Engine> engine_;
};

}  // namespace sluice::http
