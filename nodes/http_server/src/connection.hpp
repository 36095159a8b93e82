// Connection: one accepted socket, served one request at a time (pipelined requests wait
// in the input buffer). Lives on the loop thread; ServerLoop owns it and frees it after
// close().
#pragma once

#include <event2/util.h>

#include <chrono>
#include <cstdint>

#include "reply.hpp"
#include "request_parser.hpp"

struct bufferevent;
struct evbuffer;
struct event;

namespace sluice::http_server::detail {

class ServerLoop;

class Connection {
 public:
  /// Takes ownership of fd. Throws std::bad_alloc when libevent cannot allocate.
  Connection(ServerLoop& loop, evutil_socket_t fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

 private:
  enum class Phase {
    reading,    ///< parsing the next request
    delaying,   ///< the request's delay timer is running
    hanging,    ///< /hang: nothing will be sent
    writing,    ///< the response is being written
    resetting,  ///< /reset: writing the part of the body sent before the reset
    dripping,   ///< /drip: the body goes out one byte per timer tick
    lingering,  ///< response sent, write side shut: waiting for the client to close
    closed      ///< waiting for the loop to free it; no callback does anything
  };

  static void on_read(bufferevent* bev, void* self);
  static void on_write(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short events, void* self);
  static void on_timer(evutil_socket_t fd, short what, void* self);

  void read_requests();
  void handle_request();
  void refuse_malformed_request();
  void send_reply();
  void write_out();
  void output_drained();
  void top_up_body();
  void response_written();
  void reset_when_sent();
  void drip_next();
  void linger();
  void arm_timer(std::chrono::microseconds delay);
  void close() noexcept;

  ServerLoop& loop_;
  bufferevent* bev_ = nullptr;
  evbuffer* pending_ = nullptr;  // the response not yet written (see write_out())
  event* timer_ = nullptr;
  RequestParser parser_;
  Phase phase_ = Phase::reading;
  bool continue_sent_ = false;
  bool in_read_loop_ = false;  // read_requests() is on the stack
  bool keep_alive_ = true;
  bool peer_closed_ = false;  // the client half-closed while its answer was being written
  Reply reply_;
  std::uint64_t body_queued_ = 0;  // pattern bytes handed to the output buffer so far
  std::uint64_t body_to_queue_ = 0;
  int reset_checks_ = 0;  // polls of the unsent byte count before a reset
};

}  // namespace sluice::http_server::detail
