// The event loop under the client: libcurl's multi interface driven by
// curl_multi_socket_action on epoll. curl says which sockets to watch (the socket
// callback) and when to call back (the timer callback); epoll waits on exactly those,
// so the cost of an event does not grow with the number of transfers in flight.
//
// curl tells us to stop watching a connection's socket at the end of every transfer
// and to watch it again at the start of the next one on that connection: two or three
// epoll_ctl calls per request, each a system call. Sockets that curl opens and closes
// through our callbacks (every connection) therefore stay registered while idle, and
// are taken out of epoll only if an event arrives while curl does not want it (the
// server closed an idle connection) or when curl closes them.
//
// One multi handle's own work per transfer grows with the connections it holds (the
// libcurl 7.x connection cache is searched and walked linearly when a transfer starts
// and when it is removed), which at thousands of connections costs more than the
// transfer. So transfers are spread over shards — multi handles on the same epoll set
// and thread — each filled to kShardTransfers before the next is opened. Up to that
// many transfers in flight, there is one multi handle, as there would be without this.
#pragma once

#include <curl/curl.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "sluice/http/client.hpp"

namespace sluice::http::detail {

using Clock = std::chrono::steady_clock;

class SocketLoop;

/// What the open-socket callback needs of one transfer: the loop that tracks the socket,
/// and where to leave errno when socket(2) fails (EMFILE tells "no descriptors" from a
/// refused connection, which libcurl reports alike).
struct OpenSocketContext {
  SocketLoop* loop = nullptr;
  std::uint32_t shard = 0;  // the shard whose connection cache will hold the connection
  int error = 0;
};

/// Connections the loop has opened, readable from any thread (the client's counters).
struct ConnectionCounters {
  std::atomic<std::uint64_t> opened{0};  ///< ever
  std::atomic<std::uint64_t> open{0};    ///< now
  std::atomic<std::uint64_t> peak{0};    ///< most open at once
};

/// Owns the multi handles and the epoll instance. Made, used and destroyed on the I/O
/// thread only; other threads reach it solely through the wake-up eventfd.
class SocketLoop {
 public:
  /// `wake_fd` is an eventfd that other threads write to; it stays owned by the caller.
  SocketLoop(int wake_fd, const ClientOptions& options, ConnectionCounters& connections);
  ~SocketLoop();

  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  /// Starts a configured easy handle (adding the socket callbacks the loop needs) on the
  /// first shard with room. Returns libcurl's verdict; `shard` says where it went.
  CURLMcode add(CURL* easy, std::size_t& shard, OpenSocketContext& open_context) noexcept;
  /// Stops an easy handle (finished or aborted) and detaches it from its shard.
  void remove(CURL* easy, std::size_t shard) noexcept;
  /// Whether a transfer added now would find an idle connection (one host: exactly;
  /// several: a guess, as idle connections are counted over all hosts).
  bool has_idle_connection() const noexcept;

  /// Waits until a socket is ready, the eventfd is written, a curl timer fires, or
  /// `deadline` passes, whichever comes first, and lets curl act on what happened.
  /// Returns true when the wait took as many events as it takes at once: more sockets
  /// may be ready. A deadline in the past looks without waiting.
  bool wait_and_dispatch(std::optional<Clock::time_point> deadline);

  /// Calls `done(easy, result, shard)` for every transfer that has finished. The handle
  /// is still attached; the callee removes it.
  template <class Fn>
  void drain_finished(Fn&& done) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(shards_[i]->multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) done(msg->easy_handle, msg->data.result, i);
      }
    }
  }

 private:
  // One multi handle with its own connection cache and timer.
  struct Shard {
    SocketLoop* loop = nullptr;
    std::uint32_t index = 0;
    CURLM* multi = nullptr;
    std::optional<Clock::time_point> deadline;  // set by on_timer
    std::size_t transfers = 0;                  // added and not yet removed
    std::size_t connections = 0;                // open in its connection cache
    std::size_t room = 0;                       // transfers it takes before the next shard
  };

  // What the loop knows about one descriptor number.
  struct SocketState {
    std::uint32_t registered = 0;  // the epoll events it is registered with; 0: not in epoll
    std::uint32_t shard = 0;       // the shard that last asked to watch it
    std::uint32_t owner = 0;       // the shard whose connection cache holds it (if tracked)
    bool tracked = false;          // opened through on_open: its close is reported to on_close
    bool wanted = false;           // curl watches it now (no CURL_POLL_REMOVE since)
  };

  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* shard, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* shard);
  static curl_socket_t on_open(void* context, curlsocktype purpose, curl_sockaddr* address);
  static int on_close(void* loop, curl_socket_t socket);
  Shard* open_shard() noexcept;
  Shard* pick_shard() noexcept;
  SocketState* state(curl_socket_t socket);
  bool watch(curl_socket_t socket, std::uint32_t events, std::uint32_t shard) noexcept;
  void unwatch(curl_socket_t socket) noexcept;
  void act(curl_socket_t socket, int events) noexcept;
  int epoll_timeout_ms(std::optional<Clock::time_point> deadline) const noexcept;

  ClientOptions options_;
  ConnectionCounters& connections_;
  int wake_fd_;
  int epoll_fd_ = -1;
  std::size_t max_shards_ = 1;
  std::vector<std::unique_ptr<Shard>> shards_;  // stable addresses: curl holds them
  std::vector<epoll_event> events_;
  std::vector<SocketState> sockets_;  // by descriptor number
};

}  // namespace sluice::http::detail
