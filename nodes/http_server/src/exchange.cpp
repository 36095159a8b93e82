#include "exchange.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "pattern_body.hpp"
#include "server_loop.hpp"

namespace sluice::http_server::detail {

namespace {

// Pattern bodies larger than this go out a part at a time, each part when the previous
// one has left: a 1 TiB body never sits in memory, even as references.
constexpr std::uint64_t kStreamPart = 1 << 20;
// /reset waits for the kernel to send what was written, polling this often, this long.
constexpr std::chrono::microseconds kResetPoll = std::chrono::milliseconds(1);
constexpr int kMaxResetChecks = 1000;
// After raw bytes, how long to wait for the client to close first (see send_raw()).
constexpr std::chrono::microseconds kLingerTime = std::chrono::seconds(1);

bool is_head_request(evhttp_request* request) {
  return evhttp_request_get_command(request) == EVHTTP_REQ_HEAD;
}

std::uint64_t request_body_bytes(evhttp_request* request) {
  return evbuffer_get_length(evhttp_request_get_input_buffer(request));
}

// The reply's headers and the framing evhttp would get wrong: Content-Length is the
// reply's own (evhttp leaves it out of HEAD answers and streamed bodies), and
// X-Request-Body-Bytes says how much body the request had.
void add_reply_headers(evhttp_request* request, const Reply& reply) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  for (const auto& [name, value] : reply.headers) {
    evhttp_add_header(headers, name.c_str(), value.c_str());
  }
  if (!status_has_no_body(reply.status)) {
    evhttp_add_header(headers, "Content-Length", std::to_string(reply.content_length()).c_str());
  }
  evhttp_add_header(headers, "X-Request-Body-Bytes",
                    std::to_string(request_body_bytes(request)).c_str());
}

// evhttp reads on while it writes an answer, to notice a client leaving, and drops the
// answer at the client's FIN: a client that half-closes after its request (as `nc` does)
// would lose it. So reading stops after each write evhttp starts; it resumes with the next
// request. A client that leaves still shows: the write fails, or (while an Exchange
// waits) its EV_CLOSED watch fires.
void stop_reading(bufferevent* bev) {
  bufferevent_disable(bev, EV_READ);
}

bufferevent* connection_bev(evhttp_request* request) {
  return evhttp_connection_get_bufferevent(evhttp_request_get_connection(request));
}

timeval to_timeval(std::chrono::microseconds delay) {
  return timeval{static_cast<time_t>(delay.count() / 1000000),
                 static_cast<suseconds_t>(delay.count() % 1000000)};
}

}  // namespace

bool needs_exchange(const Reply& reply) noexcept {
  return reply.action != Reply::Action::respond || reply.delay.count() > 0 ||
         reply.body_kind == Reply::Body::raw ||
         (reply.body_kind == Reply::Body::pattern && reply.body_length > kStreamPart);
}

void send_reply(evhttp_request* request, Reply& reply) {
  add_reply_headers(request, reply);
  evbuffer* body = evbuffer_new();
  if (body == nullptr) {
    evhttp_send_error(request, 500, nullptr);
    return;
  }
  // Like the connection's own output: file bodies are sent with sendfile(2).
  evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD);
  if (!is_head_request(request) && !status_has_no_body(reply.status)) {
    switch (reply.body_kind) {
      case Reply::Body::text:
      case Reply::Body::raw:
        evbuffer_add(body, reply.text.data(), reply.text.size());
        break;
      case Reply::Body::file:
        // libevent owns the descriptor from here (closed when sent or freed).
        evbuffer_add_file(body, reply.file.release(), 0, static_cast<ev_off_t>(reply.body_length));
        break;
      case Reply::Body::pattern:
        append_pattern(body, 0, reply.body_length, reply.body_length);
        break;
    }
  }
  bufferevent* bev = connection_bev(request);
  // A null reason: evhttp's own phrase for the code.
  evhttp_send_reply(request, reply.status, nullptr, body);
  stop_reading(bev);
  evbuffer_free(body);
}

Exchange::Exchange(ServerLoop& loop, evhttp_request* request, Reply reply)
    : loop_(loop),
      request_(request),
      connection_(evhttp_request_get_connection(request)),
      reply_(std::move(reply)) {}

Exchange::~Exchange() {
  if (timer_ != nullptr) event_free(timer_);
  if (peer_closed_ != nullptr) event_free(peer_closed_);
}

void Exchange::start() {
  if (reply_.delay.count() > 0) {
    phase_ = Phase::delaying;
    watch_peer_close();
    arm_timer(reply_.delay);
  } else {
    answer();
  }
}

void Exchange::answer() {
  switch (reply_.action) {
    case Reply::Action::hang:
      phase_ = Phase::hanging;
      return watch_peer_close();
    case Reply::Action::drip:
      send_head();
      phase_ = Phase::dripping;
      watch_peer_close();
      return arm_timer(reply_.drip_every);
    case Reply::Action::reset:
      send_head();
      phase_ = Phase::streaming;
      return stream_next_part();
    case Reply::Action::respond:
      break;
  }
  if (reply_.body_kind == Reply::Body::raw) return send_raw();
  if (reply_.body_kind == Reply::Body::pattern && reply_.body_length > kStreamPart &&
      !is_head_request(request_)) {
    send_head();
    phase_ = Phase::streaming;
    return stream_next_part();
  }
  // Retired first: evhttp may read and route the next pipelined request at once.
  finish();
  send_reply(request_, reply_);
  loop_.flush_soon(connection_);
}

void Exchange::send_head() {
  add_reply_headers(request_, reply_);
  evhttp_send_reply_start(request_, reply_.status, nullptr);
  stop_reading(connection_bev(request_));
}

void Exchange::stream_next_part() {
  const bool reset = reply_.action == Reply::Action::reset;
  // A HEAD answer has no body to send (evhttp would drop it, and never call back).
  const std::uint64_t target =
      is_head_request(request_) ? 0 : (reset ? reply_.reset_after : reply_.body_length);
  if (body_sent_ >= target) {
    if (reset) {
      // Out of evhttp's write callback before the connection is freed.
      phase_ = Phase::resetting;
      return arm_timer(std::chrono::microseconds(0));
    }
    finish();
    evhttp_send_reply_end(request_);
    return;
  }
  evbuffer* part = evbuffer_new();
  if (part == nullptr) return free_connection();
  body_sent_ += append_pattern(part, body_sent_, target - body_sent_, kStreamPart);
  evhttp_send_reply_chunk_with_cb(request_, part, &Exchange::on_part_sent, this);
  stop_reading(connection_bev(request_));
  evbuffer_free(part);
}

void Exchange::on_part_sent(evhttp_connection*, void* self) {
  auto* exchange = static_cast<Exchange*>(self);
  if (exchange->phase_ == Phase::streaming) exchange->stream_next_part();
}

void Exchange::drip_next() {
  evbuffer* part = evbuffer_new();
  if (part == nullptr) return free_connection();
  body_sent_ += append_pattern(part, body_sent_, reply_.body_length - body_sent_, 1);
  evhttp_send_reply_chunk(request_, part);
  stop_reading(connection_bev(request_));
  evbuffer_free(part);
  if (body_sent_ < reply_.body_length) return arm_timer(reply_.drip_every);
  finish();
  evhttp_send_reply_end(request_);
}

void Exchange::reset_when_sent() {
  // Everything written must reach the client before the reset, which would discard it:
  // wait until libevent's buffer is empty and (briefly) until the kernel's is.
  bufferevent* bev = evhttp_connection_get_bufferevent(connection_);
  const evutil_socket_t fd = bufferevent_getfd(bev);
  int unsent = 0;
  if (evbuffer_get_length(bufferevent_get_output(bev)) > 0 ||
      (::ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent > 0 && reset_checks_++ < kMaxResetChecks)) {
    return arm_timer(kResetPoll);
  }
  const struct linger reset_on_close { 1, 0 };
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  // evhttp shuts the write side before it closes, which would send a FIN ahead of the
  // reset (and the client would see a clean end): disconnecting the socket (connect to
  // AF_UNSPEC) sends the reset now, and leaves evhttp a socket with nothing to send.
  // Counted before the reset leaves: a client that has seen it must find it counted.
  ServerCounters::bump(loop_.counters().resets);
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  ::connect(fd, &unspecified, sizeof unspecified);
  free_connection();
}

void Exchange::send_raw() {
  // Bytes of no HTTP evhttp would write: straight to the socket (they are short, and the
  // socket buffer is empty, so one send takes them), then the write side is shut.
  const evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(connection_));
  std::string_view rest = reply_.text;
  while (!rest.empty()) {
    const auto sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(sent));
  }
  if (rest.empty()) ServerCounters::bump(loop_.counters().responses_sent);
  ::shutdown(fd, SHUT_WR);
  // Closing with unread input would reset the connection and could destroy the bytes
  // before the client reads them: let the client close first (or give up after a while).
  phase_ = Phase::closing;
  watch_peer_close();
  arm_timer(kLingerTime);
}

void Exchange::arm_timer(std::chrono::microseconds delay) {
  if (timer_ == nullptr) {
    timer_ = evtimer_new(loop_.base(), &Exchange::on_timer, this);
    if (timer_ == nullptr) return free_connection();
  }
  // The loop caches the time at each iteration; refresh it so the delay starts now.
  event_base_update_cache_time(loop_.base());
  const timeval timeout = to_timeval(delay);
  evtimer_add(timer_, &timeout);
}

void Exchange::watch_peer_close() {
  if (peer_closed_ != nullptr) return;
  // EV_CLOSED (EPOLLRDHUP): the client's FIN, without reading what it may have pipelined.
  const evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(connection_));
  peer_closed_ = event_new(loop_.base(), fd, EV_CLOSED, &Exchange::on_peer_closed, this);
  if (peer_closed_ != nullptr) event_add(peer_closed_, nullptr);
}

void Exchange::on_timer(evutil_socket_t, short, void* self) {
  auto* exchange = static_cast<Exchange*>(self);
  switch (exchange->phase_) {
    case Phase::delaying:
      exchange->answer();
      break;
    case Phase::dripping:
      exchange->drip_next();
      break;
    case Phase::resetting:
      exchange->reset_when_sent();
      break;
    case Phase::closing:
      exchange->free_connection();
      break;
    default:
      break;
  }
}

void Exchange::on_peer_closed(evutil_socket_t, short, void* self) {
  auto* exchange = static_cast<Exchange*>(self);
  const Phase phase = exchange->phase_;
  if (phase == Phase::done) return;
  if (phase == Phase::delaying || phase == Phase::hanging || phase == Phase::dripping) {
    ServerCounters::bump(exchange->loop_.counters().abandoned);
  }
  exchange->free_connection();
}

void Exchange::connection_closed(bool server_stopping) noexcept {
  if (phase_ == Phase::done) return;
  if (!server_stopping && phase_ != Phase::closing) {
    ServerCounters::bump(loop_.counters().abandoned);
  }
  // evhttp leaves a request it was not told the end of to its user.
  if (request_->evcon == nullptr) evhttp_request_free(request_);
  finish();
}

void Exchange::free_connection() noexcept {
  // Retired first, so that the close callback finds nothing left to abandon.
  finish();
  evhttp_connection_free(connection_);  // frees the request too
}

void Exchange::finish() noexcept {
  if (phase_ == Phase::done) return;
  phase_ = Phase::done;
  if (timer_ != nullptr) event_del(timer_);
  if (peer_closed_ != nullptr) event_del(peer_closed_);
  loop_.retire(this);
}

}  // namespace sluice::http_server::detail
