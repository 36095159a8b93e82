#include "server_loop.hpp"

#include <arpa/inet.h>
#include <event2/event.h>
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

#include "connection.hpp"
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
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  if (base == nullptr) throw std::runtime_error("libevent: cannot create an event base");
  return base;
}

}  // namespace

ServerLoop::ServerLoop(const LocalServerOptions& options, ServerCounters& counters)
    : counters_(counters), max_request_head_bytes_(options.max_request_head_bytes) {
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
        base_, &ServerLoop::on_accept, this,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
        options.listen_backlog, reinterpret_cast<const sockaddr*>(&address.storage),
        static_cast<int>(address.length));
    if (listener_ == nullptr) {
      const int error = errno;
      throw std::system_error(
          error, std::generic_category(),
          "cannot listen on " + options.host + ":" + std::to_string(options.port));
    }
    evconnlistener_set_error_cb(listener_, &ServerLoop::on_accept_error);
    port_ = bound_port(evconnlistener_get_fd(listener_));

    stop_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!stop_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
    stop_event_ =
        event_new(base_, stop_fd_.get(), EV_READ | EV_PERSIST, &ServerLoop::on_stop, this);
    resume_accepting_ = evtimer_new(base_, &ServerLoop::on_resume_accepting, this);
    free_retired_ = event_new(base_, -1, 0, &ServerLoop::on_free_retired, this);
    if (stop_event_ == nullptr || resume_accepting_ == nullptr || free_retired_ == nullptr ||
        event_add(stop_event_, nullptr) != 0) {
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

void ServerLoop::retire(Connection* connection) noexcept {
  const auto found = connections_.find(connection);
  if (found == connections_.end()) return;
  retired_.push_back(std::move(found->second));
  connections_.erase(found);
  counters_.active_connections.fetch_sub(1, std::memory_order_relaxed);
  event_active(free_retired_, EV_TIMEOUT, 0);
}

void ServerLoop::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self) {
  auto* loop = static_cast<ServerLoop*>(self);
  // Responses are written whole; Nagle would only hold back the tail of one.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  try {
    auto connection = std::make_unique<Connection>(*loop, fd);
    Connection* key = connection.get();
    loop->connections_.emplace(key, std::move(connection));
  } catch (const std::bad_alloc&) {
    return;  // the connection closed its socket; the client sees a reset
  }
  ServerCounters& counters = loop->counters_;
  ServerCounters::bump(counters.connections_accepted);
  const auto active = counters.active_connections.fetch_add(1, std::memory_order_relaxed) + 1;
  if (active > counters.peak_active_connections.load(std::memory_order_relaxed)) {
    counters.peak_active_connections.store(active, std::memory_order_relaxed);
  }
}

void ServerLoop::on_accept_error(evconnlistener* listener, void* self) {
  auto* loop = static_cast<ServerLoop*>(self);
  evconnlistener_disable(listener);
  evtimer_add(loop->resume_accepting_, &kAcceptRetry);
}

void ServerLoop::on_resume_accepting(evutil_socket_t, short, void* self) {
  evconnlistener_enable(static_cast<ServerLoop*>(self)->listener_);
}

void ServerLoop::on_stop(evutil_socket_t, short, void* self) {
  event_base_loopbreak(static_cast<ServerLoop*>(self)->base_);
}

void ServerLoop::on_free_retired(evutil_socket_t, short, void* self) {
  static_cast<ServerLoop*>(self)->retired_.clear();
}

void ServerLoop::close_everything() noexcept {
  if (listener_ != nullptr) {
    evconnlistener_free(listener_);  // stop accepting first
    listener_ = nullptr;
  }
  counters_.active_connections.fetch_sub(connections_.size(), std::memory_order_relaxed);
  connections_.clear();
  retired_.clear();
  for (event** e : {&stop_event_, &resume_accepting_, &free_retired_}) {
    if (*e != nullptr) event_free(*e);
    *e = nullptr;
  }
}

}  // namespace sluice::http_server::detail
