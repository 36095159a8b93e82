// Exchange: one request that evhttp cannot answer in a single evhttp_send_reply — one
// that waits (a delay, a hang), drips, is cut by a reset, sends raw bytes, or streams a
// body too large to queue at once. Lives on the loop thread; ServerLoop owns it and frees
// it after finish().
//
// Plain replies do not need one: send_reply() answers them on the spot.
#pragma once

#include <event2/util.h>

#include <chrono>
#include <cstdint>

#include "reply.hpp"

struct event;
struct evhttp_connection;
struct evhttp_request;

namespace sluice::http_server::detail {

class ServerLoop;
struct ServerCounters;

/// Answers request at once with reply (a text, file or pattern body held in memory); only
/// for replies that do not need an Exchange.
void send_reply(evhttp_request* request, Reply& reply);

/// True when the reply cannot be sent with one evhttp_send_reply (now).
bool needs_exchange(const Reply& reply) noexcept;

class Exchange {
 public:
  Exchange(ServerLoop& loop, evhttp_request* request, Reply reply);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  evhttp_connection* connection() const noexcept { return connection_; }

  /// Starts the delay, or the answer when there is none.
  void start();
  /// evhttp is closing the connection under this exchange (the client left, or the
  /// server stops): counts an abandoned request unless the server stops.
  void connection_closed(bool server_stopping) noexcept;

 private:
  enum class Phase {
    delaying,   ///< the delay timer is running
    hanging,    ///< /hang: nothing will be sent
    streaming,  ///< a large pattern body goes out a part at a time
    dripping,   ///< /drip: one byte per timer tick
    resetting,  ///< /reset: waiting for the sent part to leave, then the reset
    closing,    ///< raw bytes sent: closing the connection on the next tick
    done        ///< retired; no callback does anything
  };

  static void on_timer(evutil_socket_t fd, short what, void* self);
  static void on_peer_closed(evutil_socket_t fd, short what, void* self);
  static void on_part_sent(evhttp_connection* connection, void* self);

  void answer();
  void send_head();
  void stream_next_part();
  void drip_next();
  void reset_when_sent();
  void send_raw();
  void arm_timer(std::chrono::microseconds delay);
  void watch_peer_close();
  void free_connection() noexcept;
  void finish() noexcept;

  ServerLoop& loop_;
  evhttp_request* request_;
  evhttp_connection* connection_;
  Reply reply_;
  Phase phase_ = Phase::delaying;
  event* timer_ = nullptr;
  event* peer_closed_ = nullptr;  // fires when the client closes while we wait
  std::uint64_t body_sent_ = 0;   // pattern bytes handed to evhttp so far
  int reset_checks_ = 0;          // polls of the unsent byte count before a reset
};

}  // namespace sluice::http_server::detail
