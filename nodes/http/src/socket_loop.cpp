#include "socket_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sluice::http_detail {

namespace {

constexpr int kEventsPerWait = 1024;
constexpr long kDefaultConnectionCache = 10'000;

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("sluice::HttpClient: ") + what + ": " +
                           std::strerror(errno));
}

}  // namespace

SocketLoop::SocketLoop(int wake_fd, const HttpClientOptions& options)
    : wake_fd_(wake_fd), events_(kEventsPerWait) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) {
    close(epoll_fd_);
    fail("epoll_ctl(eventfd)");
  }

  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    close(epoll_fd_);
    throw std::runtime_error("sluice::HttpClient: curl_multi_init failed");
  }
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &SocketLoop::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &SocketLoop::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING,
                    options.http2_multiplex ? long{CURLPIPE_MULTIPLEX} : long{CURLPIPE_NOTHING});
  if (options.max_host_connections > 0) {
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  }
  if (options.max_total_connections > 0) {
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  }
  // libcurl sizes the cache at 4 x the transfers added at the moment a connection is
  // returned; between two waves of requests that is a handful, and the idle
  // connections of the last wave would be closed just before the next one needs them.
  long cache_size = options.connection_cache_size;
  if (cache_size <= 0)
    cache_size =
        options.max_total_connections > 0 ? options.max_total_connections : kDefaultConnectionCache;
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, cache_size);
}

SocketLoop::~SocketLoop() {
  // Every easy handle has been removed by now; this closes the cached connections.
  curl_multi_cleanup(multi_);
  close(epoll_fd_);
}

CURLMcode SocketLoop::add(CURL* easy) noexcept {
  return curl_multi_add_handle(multi_, easy);
}

void SocketLoop::remove(CURL* easy) noexcept {
  curl_multi_remove_handle(multi_, easy);
}

int SocketLoop::on_socket(CURL* /*easy*/, curl_socket_t socket, int what, void* loop_ptr,
                          void* /*socket_data*/) {
  auto& loop = *static_cast<SocketLoop*>(loop_ptr);
  if (what == CURL_POLL_REMOVE) {
    // The socket may be closed already, which removed it from epoll; ENOENT/EBADF are fine.
    epoll_ctl(loop.epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = socket;
  if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
  // curl closes and opens sockets without always telling us in between (a closed fd
  // leaves epoll by itself and its number comes back), so ADD and MOD fall back on
  // each other instead of trusting bookkeeping.
  if (epoll_ctl(loop.epoll_fd_, EPOLL_CTL_MOD, socket, &ev) != 0) {
    if (errno != ENOENT || epoll_ctl(loop.epoll_fd_, EPOLL_CTL_ADD, socket, &ev) != 0) {
      return -1;  // libcurl then fails the transfers on this socket
    }
  }
  return 0;
}

int SocketLoop::on_timer(CURLM* /*multi*/, long timeout_ms, void* loop_ptr) {
  auto& loop = *static_cast<SocketLoop*>(loop_ptr);
  if (timeout_ms < 0) {
    loop.curl_deadline_.reset();
  } else {
    loop.curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void SocketLoop::act(curl_socket_t socket, int events) noexcept {
  int running = 0;
  curl_multi_socket_action(multi_, socket, events, &running);
}

int SocketLoop::epoll_timeout_ms(std::optional<Clock::time_point> deadline) const noexcept {
  if (curl_deadline_ && (!deadline || *curl_deadline_ < *deadline)) deadline = curl_deadline_;
  if (!deadline) return -1;
  const auto left = *deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up: waking a fraction of a millisecond early would only spin once more.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
}

void SocketLoop::wait_and_dispatch(std::optional<Clock::time_point> deadline) {
  const int ready = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()),
                               epoll_timeout_ms(deadline));
  if (ready < 0 && errno != EINTR) fail("epoll_wait");
  for (int i = 0; i < ready; ++i) {
    const epoll_event& ev = events_[static_cast<std::size_t>(i)];
    if (ev.data.fd == wake_fd_) {
      eventfd_t drained = 0;
      eventfd_read(wake_fd_, &drained);
      continue;
    }
    int mask = 0;
    if (ev.events & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (ev.events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (ev.events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    act(ev.data.fd, mask);
  }
  if (curl_deadline_ && Clock::now() >= *curl_deadline_) {
    // Cleared first: the call below may set a new deadline through on_timer.
    curl_deadline_.reset();
    act(CURL_SOCKET_TIMEOUT, 0);
  }
}

}  // namespace sluice::http_detail
