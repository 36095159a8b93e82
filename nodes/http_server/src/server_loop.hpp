// ServerLoop: the libevent side of LocalServer — the event base, the listening socket
// and every open connection. Built on the caller's thread (so bind errors throw there),
// then owned by the loop thread from run() until run() returns.
#pragma once

#include <event2/util.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "endpoints.hpp"
#include "server_counters.hpp"
#include "sluice/http_server.hpp"
#include "unique_fd.hpp"

struct event;
struct event_base;
struct evconnlistener;
struct sockaddr;

namespace sluice::http_server::detail {

class Connection;

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

  // For connections, on the loop thread.
  event_base* base() const noexcept { return base_; }
  ServerCounters& counters() noexcept { return counters_; }
  EndpointState& endpoints() noexcept { return endpoints_; }
  std::size_t max_request_head_bytes() const noexcept { return max_request_head_bytes_; }
  /// Takes a closed connection out of service; it is freed (and its socket closed) once
  /// the current callback has returned.
  void retire(Connection* connection) noexcept;

 private:
  static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* address, int length,
                        void* self);
  static void on_accept_error(evconnlistener* listener, void* self);
  static void on_resume_accepting(evutil_socket_t fd, short what, void* self);
  static void on_stop(evutil_socket_t fd, short what, void* self);
  static void on_free_retired(evutil_socket_t fd, short what, void* self);
  void close_everything() noexcept;

  ServerCounters& counters_;
  EndpointState endpoints_;
  std::size_t max_request_head_bytes_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  event* stop_event_ = nullptr;
  event* resume_accepting_ = nullptr;
  event* free_retired_ = nullptr;
  UniqueFd stop_fd_;  // an eventfd: writing to it wakes the loop to stop
  std::uint16_t port_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> retired_;
};

}  // namespace sluice::http_server::detail
