// ServerLoop: the libevent side of LocalServer — the event base, libevent's HTTP server
// (evhttp) on our listening socket, and the requests being answered. Built on the
// caller's thread (so bind errors throw there), then owned by the loop thread from run()
// until run() returns.
//
// evhttp reads and frames requests, answers malformed ones itself, and writes responses;
// Exchange (exchange.hpp) does what evhttp has no words for: delays, drips, resets, hangs
// and raw bytes.
#pragma once

#include <event2/util.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "endpoints.hpp"
#include "server_counters.hpp"
#include "sluice/http_server.hpp"
#include "unique_fd.hpp"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;

namespace sluice::http_server::detail {

class Exchange;

class ServerLoop {
 public:
  /// Binds and listens. Throws std::system_error (bind, listen) or std::invalid_argument.
  ServerLoop(const LocalServerOptions& options, ServerCounters& counters);
  ~ServerLoop();
  ServerLoop(const ServerLoop&) = delete;
  ServerLoop& operator=(const ServerLoop&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// Runs the loop until request_stop(), then stops listening and closes every connection.
  void run();
  /// Makes run() return soon. Any thread, any time (also before run() starts).
  void request_stop() noexcept;

  // For exchanges, on the loop thread.
  event_base* base() const noexcept { return base_; }
  ServerCounters& counters() noexcept { return counters_; }
  /// Writes the answer evhttp has just queued on connection to the socket once the
  /// current callback has returned, instead of a loop iteration later (see on_flush()).
  void flush_soon(evhttp_connection* connection);
  /// Takes a finished exchange out of service; it is freed once the current callback has
  /// returned.
  void retire(Exchange* exchange) noexcept;

 private:
  static bufferevent* on_new_connection(event_base* base, void* self);
  static void on_adopt(evutil_socket_t fd, short what, void* self);
  static void on_connection_closed(evhttp_connection* connection, void* self);
  static void on_request(evhttp_request* request, void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_resume_accepting(evutil_socket_t fd, short what, void* listener);
  static void on_stop(evutil_socket_t fd, short what, void* self);
  static void on_free_retired(evutil_socket_t fd, short what, void* self);
  static void on_flush(evutil_socket_t fd, short what, void* self);
  void close_everything() noexcept;

  ServerCounters& counters_;
  EndpointState endpoints_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  evconnlistener* listener_ = nullptr;  // owned by http_ once bound
  event* stop_event_ = nullptr;
  event* adopt_ = nullptr;
  event* free_retired_ = nullptr;
  event* flush_ = nullptr;
  UniqueFd stop_fd_;  // an eventfd: writing to it wakes the loop to stop
  std::uint16_t port_ = 0;
  // Connections evhttp has just made, whose close we have not asked to hear of yet.
  std::vector<bufferevent*> unadopted_;
  // The exchange (at most one: evhttp reads the next request after the answer) of each
  // connection whose request is still being answered by us.
  std::unordered_map<evhttp_connection*, std::unique_ptr<Exchange>> exchanges_;
  std::vector<std::unique_ptr<Exchange>> retired_;
  // Connections with an answer to write (see flush_soon()); a closed one leaves at once.
  std::unordered_set<evhttp_connection*> to_flush_;
};

}  // namespace sluice::http_server::detail
