#include "server_loop.hpp"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include "exchange.hpp"
#include "static_files.hpp"

namespace sluice::http_server::detail {

namespace {

// After accept() fails for lack of descriptors, wait this long before trying again
// (accepting at once would spin on the same error).
constexpr timeval kAcceptRetry{0, 50 * 1000};

struct ListenAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

ListenAddress parse_listen_address(const std::string& host, std::uint16_t port) {
  ListenAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("host must be a numeric IPv4 or IPv6 address, got '" + host + "'");
  }
  return address;
}

std::uint16_t bound_port(evutil_socket_t fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockname");
  }
  const auto port = address.ss_family == AF_INET6
                        ? reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port
                        : reinterpret_cast<const sockaddr_in*>(&address)->sin_port;
  return ntohs(port);
}

event_base* new_event_base() {
  event_config* config = event_config_new();
  if (config == nullptr) throw std::bad_alloc();
  // Sub-millisecond delays need the kernel's precise timers (timerfd with epoll).
  event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER);
  // evhttp turns reading and writing on and off several times per request; with the
  // change list, epoll hears only the net change once per loop iteration (a third more
  // requests per second at 64 connections).
#if !defined(__SANITIZE_THREAD__)
  // The change list takes a closed connection out of epoll on the next loop iteration, by
  // its descriptor number, after close(). That is harmless (epoll forgets a closed
  // descriptor by itself, and libevent ignores the ENOENT), but ThreadSanitizer reports
  // the number, reused meanwhile by another thread's socket(), as a race. The TSan build
  // goes without it.
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
#endif
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  if (base == nullptr) throw std::runtime_error("libevent: cannot create an event base");
  return base;
}

// evhttp gives up on connections quiet for this long; a day is never, for tests.
constexpr timeval kIdleTimeout{86400, 0};

void count_response(evhttp_request*, void* counters) {
  ServerCounters::bump(static_cast<ServerCounters*>(counters)->responses_sent);
}

}  // namespace

ServerLoop::ServerLoop(const LocalServerOptions& options, ServerCounters& counters)
    : counters_(counters) {
  if (options.listen_backlog <= 0) throw std::invalid_argument("listen_backlog must be positive");
  if (options.max_request_head_bytes < 256) {
    throw std::invalid_argument("max_request_head_bytes must be at least 256");
  }
  if (!options.static_root.empty()) {
    endpoints_.static_root = canonical_static_root(options.static_root);
  }
  const ListenAddress address = parse_listen_address(options.host, options.port);

  base_ = new_event_base();
  try {
    listener_ = evconnlistener_new_bind(
        base_, nullptr, nullptr,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
        options.listen_backlog, reinterpret_cast<const sockaddr*>(&address.storage),
        static_cast<int>(address.length));
    if (listener_ == nullptr) {
      const int error = errno;
      throw std::system_error(
          error, std::generic_category(),
          "cannot listen on " + options.host + ":" + std::to_string(options.port));
    }
    port_ = bound_port(evconnlistener_get_fd(listener_));

    http_ = evhttp_new(base_);
    if (http_ == nullptr || evhttp_bind_listener(http_, listener_) == nullptr) {
      throw std::runtime_error("libevent: cannot start the HTTP server");
    }
    evconnlistener_set_error_cb(listener_, &ServerLoop::on_accept_error);
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                          EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                          EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(http_, static_cast<ev_ssize_t>(options.max_request_head_bytes));
    evhttp_set_timeout_tv(http_, &kIdleTimeout);
    evhttp_set_bevcb(http_, &ServerLoop::on_new_connection, this);
    evhttp_set_gencb(http_, &ServerLoop::on_request, this);

    stop_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!stop_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
    stop_event_ =
        event_new(base_, stop_fd_.get(), EV_READ | EV_PERSIST, &ServerLoop::on_stop, this);
    adopt_ = event_new(base_, -1, 0, &ServerLoop::on_adopt, this);
    free_retired_ = event_new(base_, -1, 0, &ServerLoop::on_free_retired, this);
    flush_ = event_new(base_, -1, 0, &ServerLoop::on_flush, this);
    if (stop_event_ == nullptr || adopt_ == nullptr || free_retired_ == nullptr ||
        flush_ == nullptr || event_add(stop_event_, nullptr) != 0) {
      throw std::runtime_error("libevent: cannot create the server's events");
    }
  } catch (...) {
    close_everything();
    event_base_free(base_);
    throw;
  }
}

ServerLoop::~ServerLoop() {
  close_everything();
  if (base_ != nullptr) event_base_free(base_);
}

void ServerLoop::run() {
  evconnlistener_enable(listener_);
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  close_everything();
  // Freed bufferevents close their sockets in finalizers that only the loop runs;
  // freeing the base runs them now, so stop() returns with every connection closed.
  event_base_free(base_);
  base_ = nullptr;
}

void ServerLoop::request_stop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_.get(), &one, sizeof one);
}

void ServerLoop::retire(Exchange* exchange) noexcept {
  const auto found = exchanges_.find(exchange->connection());
  if (found == exchanges_.end() || found->second.get() != exchange) return;
  retired_.push_back(std::move(found->second));
  exchanges_.erase(found);
  event_active(free_retired_, EV_TIMEOUT, 0);
}

bufferevent* ServerLoop::on_new_connection(event_base* base, void* self) {
  // evhttp calls this as it accepts, before it has made the connection: note the
  // bufferevent, and ask to hear of the connection's close once evhttp has made it.
  auto* loop = static_cast<ServerLoop*>(self);
  bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) return nullptr;
  try {
    loop->unadopted_.push_back(bev);
  } catch (const std::bad_alloc&) {
    return bev;  // served, but not counted
  }
  event_active(loop->adopt_, EV_TIMEOUT, 0);
  return bev;
}

void ServerLoop::on_adopt(evutil_socket_t, short, void* self) {
  // Runs right after the accepting callback, before any event of the new connections:
  // each bufferevent's callback argument is now its evhttp connection.
  auto* loop = static_cast<ServerLoop*>(self);
  ServerCounters& counters = loop->counters_;
  for (bufferevent* bev : loop->unadopted_) {
    void* argument = nullptr;
    bufferevent_getcb(bev, nullptr, nullptr, nullptr, &argument);
    auto* connection = static_cast<evhttp_connection*>(argument);
    if (connection == nullptr) continue;
    evhttp_connection_set_closecb(connection, &ServerLoop::on_connection_closed, loop);
    // Responses are written whole; Nagle would only hold back the tail of one.
    const int one = 1;
    ::setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ServerCounters::bump(counters.connections_accepted);
    const auto active = counters.active_connections.fetch_add(1, std::memory_order_relaxed) + 1;
    if (active > counters.peak_active_connections.load(std::memory_order_relaxed)) {
      counters.peak_active_connections.store(active, std::memory_order_relaxed);
    }
  }
  loop->unadopted_.clear();
}

void ServerLoop::on_connection_closed(evhttp_connection* connection, void* self) {
  auto* loop = static_cast<ServerLoop*>(self);
  loop->counters_.active_connections.fetch_sub(1, std::memory_order_relaxed);
  loop->to_flush_.erase(connection);
  const auto found = loop->exchanges_.find(connection);
  if (found != loop->exchanges_.end()) found->second->connection_closed(false);
}

void ServerLoop::on_request(evhttp_request* request, void* self) {
  auto* loop = static_cast<ServerLoop*>(self);
  ServerCounters& counters = loop->counters_;
  ServerCounters::bump(counters.requests_received);
  evhttp_request_set_on_complete_cb(request, &count_response, &counters);
  Reply reply = route_request(request_from(request), loop->endpoints_);
  counters.bump(reply.endpoint);
  if (reply.bad_request) ServerCounters::bump(counters.bad_requests);
  if (reply.flaky_failure) ServerCounters::bump(counters.flaky_failures);
  if (!needs_exchange(reply)) {
    evhttp_connection* connection = evhttp_request_get_connection(request);
    send_reply(request, reply);
    return loop->flush_soon(connection);
  }
  try {
    auto exchange = std::make_unique<Exchange>(*loop, request, std::move(reply));
    Exchange* started = exchange.get();
    loop->exchanges_[started->connection()] = std::move(exchange);
    started->start();
  } catch (const std::bad_alloc&) {
    evhttp_send_error(request, 503, nullptr);
  }
}

void ServerLoop::on_accept_error(evconnlistener* listener, void*) {
  // The argument is evhttp's (the listener's callbacks share one): the retry timer is a
  // one-off event of the base, which frees it if the server stops first.
  evconnlistener_disable(listener);
  event_base_once(evconnlistener_get_base(listener), -1, EV_TIMEOUT,
                  &ServerLoop::on_resume_accepting, listener, &kAcceptRetry);
}

void ServerLoop::on_resume_accepting(evutil_socket_t, short, void* listener) {
  evconnlistener_enable(static_cast<evconnlistener*>(listener));
}

void ServerLoop::on_stop(evutil_socket_t, short, void* self) {
  event_base_loopbreak(static_cast<ServerLoop*>(self)->base_);
}

void ServerLoop::flush_soon(evhttp_connection* connection) {
  try {
    to_flush_.insert(connection);
  } catch (const std::bad_alloc&) {
    return;  // libevent writes it a loop iteration later
  }
  event_active(flush_, EV_TIMEOUT, 0);
}

void ServerLoop::on_flush(evutil_socket_t, short, void* self) {
  // evhttp writes an answer when epoll next says the socket is writable: a write event
  // armed and disarmed, and a loop iteration, per request. Writing it here instead, and
  // telling evhttp it is written (its write callback, through bufferevent_trigger), lets
  // the change list cancel the write event before epoll hears of it. What the socket
  // refuses stays queued for libevent, as before. Runs in the loop iteration of the
  // requests, after their callbacks have returned; a connection closed in between has
  // left the set (on_connection_closed()).
  auto* loop = static_cast<ServerLoop*>(self);
  while (!loop->to_flush_.empty()) {
    evhttp_connection* connection = *loop->to_flush_.begin();
    loop->to_flush_.erase(loop->to_flush_.begin());
    bufferevent* bev = evhttp_connection_get_bufferevent(connection);
    evbuffer* output = bufferevent_get_output(bev);
    if (evbuffer_get_length(output) == 0) continue;
    if (evbuffer_write(output, bufferevent_getfd(bev)) < 0) continue;  // libevent's to report
    // Keep-alive: evhttp reads the next request; close: evhttp frees the connection.
    if (evbuffer_get_length(output) == 0) bufferevent_trigger(bev, EV_WRITE, 0);
  }
}

void ServerLoop::on_free_retired(evutil_socket_t, short, void* self) {
  static_cast<ServerLoop*>(self)->retired_.clear();
}

void ServerLoop::close_everything() noexcept {
  // The exchanges first (their timers go; evhttp frees their requests with the
  // connections), then evhttp: the listener, and every connection, hanging ones too.
  exchanges_.clear();
  retired_.clear();
  to_flush_.clear();
  if (http_ != nullptr) {
    evhttp_free(http_);
    http_ = nullptr;
    listener_ = nullptr;
  } else if (listener_ != nullptr) {
    evconnlistener_free(listener_);
    listener_ = nullptr;
  }
  for (event** e : {&stop_event_, &adopt_, &free_retired_, &flush_}) {
    if (*e != nullptr) event_free(*e);
    *e = nullptr;
  }
}

}  // namespace sluice::http_server::detail
