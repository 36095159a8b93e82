#include "connection.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <new>
#include <string>

#include "endpoints.hpp"
#include "pattern_body.hpp"
#include "response_head.hpp"
#include "server_loop.hpp"
#include "status_text.hpp"

namespace sluice::http_server::detail {

namespace {

// Pattern bytes queued per top-up: enough to fill a socket buffer between write events.
constexpr std::uint64_t kTopUpBytes = 1 << 20;
// Bytes read per read callback (large request bodies are counted, never kept).
constexpr std::size_t kMaxSingleRead = 256 * 1024;
// While a response is pending, stop reading once this much follows it (pipelined bytes).
constexpr std::size_t kInputSlack = 64 * 1024;
// How long a closing connection waits for the client to close first (see linger()).
constexpr std::chrono::microseconds kLingerTime = std::chrono::seconds(1);
// /reset waits for the kernel to send what was written, polling this often, this long.
constexpr std::chrono::microseconds kResetPoll = std::chrono::milliseconds(1);
constexpr int kMaxResetChecks = 1000;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

Connection::Connection(ServerLoop& loop, evutil_socket_t fd)
    : loop_(loop), parser_(loop.max_request_head_bytes()) {
  bev_ = bufferevent_socket_new(loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev_ == nullptr) {
    evutil_closesocket(fd);
    throw std::bad_alloc();
  }
  pending_ = evbuffer_new();
  if (pending_ == nullptr) {
    bufferevent_free(bev_);  // closes fd
    throw std::bad_alloc();
  }
  // Like the bufferevent's own output: file bodies are sent with sendfile(2).
  evbuffer_set_flags(pending_, EVBUFFER_FLAG_DRAINS_TO_FD);
  bufferevent_setcb(bev_, &Connection::on_read, &Connection::on_write, &Connection::on_event, this);
  bufferevent_setwatermark(bev_, EV_READ, 0, loop_.max_request_head_bytes() + kInputSlack);
  // libevent's 16 KiB per callback would cut large bodies into many loop iterations.
  bufferevent_set_max_single_write(bev_, kTopUpBytes);
  bufferevent_set_max_single_read(bev_, kMaxSingleRead);
  // Writing is enabled only while the socket refuses bytes (see write_out()).
  bufferevent_enable(bev_, EV_READ);
}

Connection::~Connection() {
  if (timer_ != nullptr) event_free(timer_);
  evbuffer_free(pending_);
  bufferevent_free(bev_);  // closes the socket
}

void Connection::on_read(bufferevent*, void* self) {
  auto* connection = static_cast<Connection*>(self);
  if (connection->phase_ == Phase::reading) {
    connection->read_requests();
  } else if (connection->phase_ == Phase::lingering) {
    evbuffer* input = bufferevent_get_input(connection->bev_);
    evbuffer_drain(input, evbuffer_get_length(input));
  }
  // Otherwise a response is pending: what arrives waits in the input buffer.
}

void Connection::on_write(bufferevent*, void* self) {
  // libevent has written out the part write_out() could not: go on from there.
  static_cast<Connection*>(self)->write_out();
}

void Connection::on_event(bufferevent*, short events, void* self) {
  auto* connection = static_cast<Connection*>(self);
  const Phase phase = connection->phase_;
  if ((events & BEV_EVENT_EOF) != 0 && (phase == Phase::writing || phase == Phase::resetting)) {
    // The client has sent all it will (a half-close, as `nc` does) and the answer is on
    // its way: finish it, then close.
    connection->peer_closed_ = true;
    connection->keep_alive_ = false;
    bufferevent_disable(connection->bev_, EV_READ);
    return;
  }
  if ((events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == 0) return;
  if (phase != Phase::reading && phase != Phase::lingering) {
    ServerCounters::bump(connection->loop_.counters().abandoned);
  }
  connection->close();
}

void Connection::on_timer(evutil_socket_t, short, void* self) {
  auto* connection = static_cast<Connection*>(self);
  switch (connection->phase_) {
    case Phase::delaying:
      connection->send_reply();
      break;
    case Phase::resetting:
      connection->reset_when_sent();
      break;
    case Phase::dripping:
      connection->drip_next();
      break;
    case Phase::lingering:
      connection->close();
      break;
    default:
      break;
  }
}

void Connection::read_requests() {
  // Requests answered at once come back here through response_written(): one loop
  // instead of a recursion as deep as the pipeline.
  in_read_loop_ = true;
  evbuffer* input = bufferevent_get_input(bev_);
  while (phase_ == Phase::reading && evbuffer_get_length(input) > 0) {
    evbuffer_iovec chunks[16];
    const int count = evbuffer_peek(input, -1, nullptr, chunks, 16);
    const bool had_head = parser_.head_complete();
    std::size_t consumed = 0;
    for (int i = 0; i < count && i < 16; ++i) {
      const std::string_view bytes(static_cast<const char*>(chunks[i].iov_base), chunks[i].iov_len);
      const std::size_t used = parser_.feed(bytes);
      consumed += used;
      // Stop where the parser stopped: at the end of the head or of the request.
      if (used < bytes.size() || parser_.head_complete() != had_head || parser_.complete() ||
          parser_.failed()) {
        break;
      }
    }
    evbuffer_drain(input, consumed);

    if (parser_.failed()) {
      refuse_malformed_request();
    } else if (parser_.complete()) {
      handle_request();
    } else if (parser_.head_complete() && parser_.request().expect_continue && !continue_sent_) {
      // The client waits for this before sending its body.
      continue_sent_ = true;
      evbuffer_add(pending_, kContinue.data(), kContinue.size());
      write_out();
    } else if (consumed == 0) {
      break;
    }
  }
  in_read_loop_ = false;
}

void Connection::handle_request() {
  ServerCounters& counters = loop_.counters();
  ServerCounters::bump(counters.requests_received);
  reply_ = route_request(parser_.request(), loop_.endpoints());
  counters.bump(reply_.endpoint);
  if (reply_.bad_request) ServerCounters::bump(counters.bad_requests);
  if (reply_.flaky_failure) ServerCounters::bump(counters.flaky_failures);

  if (reply_.action == Reply::Action::hang) {
    phase_ = Phase::hanging;
  } else if (reply_.delay.count() > 0) {
    phase_ = Phase::delaying;
    arm_timer(reply_.delay);
  } else {
    send_reply();
  }
}

void Connection::refuse_malformed_request() {
  ServerCounters& counters = loop_.counters();
  ServerCounters::bump(counters.requests_received);
  ServerCounters::bump(counters.bad_requests);
  counters.bump(Endpoint::not_found);
  reply_ = text_reply(Endpoint::not_found, parser_.error_status(), parser_.error_message() + "\n");
  reply_.close = true;  // the framing is lost: nothing after this can be trusted
  send_reply();
}

void Connection::send_reply() {
  const Request& request = parser_.request();
  keep_alive_ = request.keep_alive && !reply_.close && reply_.action == Reply::Action::respond;
  evbuffer* output = pending_;
  body_queued_ = 0;
  body_to_queue_ = 0;
  if (reply_.body_kind == Reply::Body::raw) {
    keep_alive_ = false;
    evbuffer_add(output, reply_.text.data(), reply_.text.size());
    phase_ = Phase::writing;
    return write_out();
  }
  const std::string head = format_response_head(
      reply_, parser_.failed() ? 1 : request.minor_version, keep_alive_, request.body_bytes);
  evbuffer_add(output, head.data(), head.size());

  const bool with_body = request.method != "HEAD" && !status_has_no_body(reply_.status);
  if (with_body) {
    switch (reply_.body_kind) {
      case Reply::Body::text:
        evbuffer_add(output, reply_.text.data(), reply_.text.size());
        break;
      case Reply::Body::file:
        // libevent owns the descriptor from here (sendfile, closed when sent or freed).
        if (evbuffer_add_file(output, reply_.file.release(), 0,
                              static_cast<ev_off_t>(reply_.body_length)) != 0) {
          return close();
        }
        break;
      case Reply::Body::raw:  // sent whole above
        break;
      case Reply::Body::pattern:
        body_to_queue_ =
            reply_.action == Reply::Action::reset ? reply_.reset_after : reply_.body_length;
        break;
    }
  }
  if (reply_.action == Reply::Action::drip) {
    body_to_queue_ = 0;  // drip_next() hands the body out a byte at a time
    phase_ = Phase::dripping;
    return write_out();
  }
  phase_ = reply_.action == Reply::Action::reset ? Phase::resetting : Phase::writing;
  write_out();
}

void Connection::drip_next() {
  if (body_queued_ < reply_.body_length) {
    body_queued_ += append_pattern(pending_, body_queued_, reply_.body_length - body_queued_, 1);
  }
  write_out();
}

void Connection::write_out() {
  // Responses are built in pending_ and written straight to the socket: arming a write
  // event for every response would cost two epoll_ctl calls and a loop iteration. Only
  // what the socket refuses goes to the bufferevent's output, for libevent to finish.
  evbuffer* output = bufferevent_get_output(bev_);
  const evutil_socket_t fd = bufferevent_getfd(bev_);
  while (phase_ != Phase::closed) {
    if (evbuffer_get_length(output) > 0) {
      return;  // libevent is still writing; on_write() comes back here when it is done
    }
    if (body_queued_ < body_to_queue_ && evbuffer_get_length(pending_) < kTopUpBytes) {
      top_up_body();
    }
    if (evbuffer_get_length(pending_) == 0) {
      bufferevent_disable(bev_, EV_WRITE);
      return output_drained();
    }
    if (evbuffer_write(pending_, fd) >= 0) continue;
    const int error = EVUTIL_SOCKET_ERROR();
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      evbuffer_add_buffer(output, pending_);
      bufferevent_enable(bev_, EV_WRITE);
      return;
    }
    // The client is gone (EPIPE, ECONNRESET): nobody will read the rest.
    if (phase_ == Phase::writing || phase_ == Phase::resetting || phase_ == Phase::dripping) {
      ServerCounters::bump(loop_.counters().abandoned);
    }
    return close();
  }
}

void Connection::output_drained() {
  if (phase_ == Phase::writing) {
    response_written();
  } else if (phase_ == Phase::resetting) {
    reset_when_sent();
  } else if (phase_ == Phase::dripping) {
    if (body_queued_ < reply_.body_length) return arm_timer(reply_.drip_every);
    phase_ = Phase::writing;
    response_written();
  }
  // Otherwise it was a 100 Continue: the request goes on.
}

void Connection::top_up_body() {
  body_queued_ +=
      append_pattern(pending_, body_queued_, body_to_queue_ - body_queued_, kTopUpBytes);
}

void Connection::response_written() {
  ServerCounters::bump(loop_.counters().responses_sent);
  reply_ = Reply{};
  if (peer_closed_) return close();
  if (!keep_alive_) return linger();
  parser_.reset();
  continue_sent_ = false;
  phase_ = Phase::reading;
  if (!in_read_loop_) read_requests();  // a pipelined request may be waiting already
}

void Connection::reset_when_sent() {
  // The output buffer is empty, but the kernel may still hold unsent bytes, which a reset
  // would discard: wait (briefly) until the client has them all.
  const evutil_socket_t fd = bufferevent_getfd(bev_);
  int unsent = 0;
  if (::ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent > 0 && reset_checks_++ < kMaxResetChecks) {
    return arm_timer(kResetPoll);
  }
  const struct linger reset_on_close { 1, 0 };  // close() sends RST instead of FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  ServerCounters::bump(loop_.counters().resets);
  close();
}

void Connection::linger() {
  // Closing with unread input would reset the connection and could destroy the response
  // before the client reads it; so shut the write side and let the client close first.
  phase_ = Phase::lingering;
  ::shutdown(bufferevent_getfd(bev_), SHUT_WR);
  evbuffer* input = bufferevent_get_input(bev_);
  evbuffer_drain(input, evbuffer_get_length(input));
  arm_timer(kLingerTime);
}

void Connection::arm_timer(std::chrono::microseconds delay) {
  if (timer_ == nullptr) {
    timer_ = evtimer_new(loop_.base(), &Connection::on_timer, this);
    if (timer_ == nullptr) return close();
  }
  // The loop caches the time at each iteration; refresh it so the delay starts now.
  event_base_update_cache_time(loop_.base());
  const timeval timeout{static_cast<time_t>(delay.count() / 1000000),
                        static_cast<suseconds_t>(delay.count() % 1000000)};
  evtimer_add(timer_, &timeout);
}

void Connection::close() noexcept {
  // Freeing now would pull the object from under the callers up the stack; stop every
  // callback instead and let the loop free it once this event has been handled.
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  bufferevent_setcb(bev_, nullptr, nullptr, nullptr, nullptr);
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  if (timer_ != nullptr) event_del(timer_);
  loop_.retire(this);
}

}  // namespace sluice::http_server::detail
