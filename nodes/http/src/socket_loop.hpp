// The event loop under the client: libcurl's multi handle driven by
// curl_multi_socket_action on epoll. curl says which sockets to watch (the socket
// callback) and when to call back (the timer callback); epoll waits on exactly those,
// so the cost of an event does not grow with the number of transfers in flight.
#pragma once

#include <curl/curl.h>
#include <sys/epoll.h>

#include <chrono>
#include <optional>
#include <vector>

#include "sluice/http_client.hpp"

namespace sluice::http_detail {

using Clock = std::chrono::steady_clock;

/// Owns the multi handle and the epoll instance. Made, used and destroyed on the I/O
/// thread only; other threads reach it solely through the wake-up eventfd.
class SocketLoop {
 public:
  /// `wake_fd` is an eventfd that other threads write to; it stays owned by the caller.
  SocketLoop(int wake_fd, const HttpClientOptions& options);
  ~SocketLoop();

  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  /// Starts a configured easy handle. Returns libcurl's verdict.
  CURLMcode add(CURL* easy) noexcept;
  /// Stops an easy handle (finished or aborted) and detaches it from the multi handle.
  void remove(CURL* easy) noexcept;

  /// Waits until a socket is ready, the eventfd is written, curl's timer fires, or
  /// `deadline` passes, whichever comes first, and lets curl act on what happened.
  void wait_and_dispatch(std::optional<Clock::time_point> deadline);

  /// Calls `done(easy, result)` for every transfer that has finished. The handle is
  /// still attached; the callee removes it.
  template <class Fn>
  void drain_finished(Fn&& done) {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg == CURLMSG_DONE) done(msg->easy_handle, msg->data.result);
    }
  }

 private:
  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* loop, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* loop);
  void act(curl_socket_t socket, int events) noexcept;
  int epoll_timeout_ms(std::optional<Clock::time_point> deadline) const noexcept;

  int wake_fd_;
  int epoll_fd_ = -1;
  CURLM* multi_ = nullptr;
  std::optional<Clock::time_point> curl_deadline_;  // set by on_timer
  std::vector<epoll_event> events_;
};

}  // namespace sluice::http_detail
