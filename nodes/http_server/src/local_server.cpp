#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "server_counters.hpp"
#include "server_loop.hpp"
#include "sluice/http_server.hpp"

namespace sluice::http_server {

using detail::ServerCounters;
using detail::ServerLoop;

class LocalServer::Impl {
 public:
  explicit Impl(LocalServerOptions options) : host_(std::move(options.host)) {
    options.host = host_;
    if (options.raise_fd_limit) raise_fd_limit();
    loop_ = std::make_unique<ServerLoop>(options, counters_);
    start_loop_thread();
  }

  ~Impl() { stop(); }

  void stop() noexcept {
    std::lock_guard lock(stop_mutex_);
    running_.store(false, std::memory_order_relaxed);
    if (!thread_.joinable()) return;
    loop_->request_stop();
    thread_.join();
  }

  std::uint16_t port() const noexcept { return loop_->port(); }
  const std::string& host() const noexcept { return host_; }
  bool running() const noexcept { return running_.load(std::memory_order_relaxed); }
  const ServerCounters& counters() const noexcept { return counters_; }

 private:
  void start_loop_thread() {
    // The loop thread takes no process signals: SIGPIPE from writing to a socket the
    // client has closed must become EPIPE rather than kill the process, and SIGINT or
    // SIGTERM belong to the application's own threads. A thread inherits the mask.
    sigset_t blocked;
    sigset_t previous;
    sigemptyset(&blocked);
    for (int signal : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
      sigaddset(&blocked, signal);
    }
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    try {
      thread_ = std::thread([this] { loop_->run(); });
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    running_.store(true, std::memory_order_relaxed);
  }

  std::string host_;
  ServerCounters counters_;
  std::unique_ptr<ServerLoop> loop_;
  std::thread thread_;
  std::mutex stop_mutex_;
  std::atomic<bool> running_{false};
};

LocalServer::LocalServer(LocalServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LocalServer::~LocalServer() = default;

std::uint16_t LocalServer::port() const noexcept {
  return impl_->port();
}

std::string LocalServer::base_url() const {
  const std::string& host = impl_->host();
  const bool ipv6 = host.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

std::string LocalServer::url(std::string_view path_and_query) const {
  return base_url() + std::string(path_and_query);
}

void LocalServer::stop() noexcept {
  impl_->stop();
}

bool LocalServer::running() const noexcept {
  return impl_->running();
}

LocalServerStats LocalServer::stats() const noexcept {
  return impl_->counters().snapshot();
}

std::uint64_t LocalServer::requests_received() const noexcept {
  return impl_->counters().requests_received.load(std::memory_order_relaxed);
}

std::uint64_t LocalServer::responses_sent() const noexcept {
  return impl_->counters().responses_sent.load(std::memory_order_relaxed);
}

std::uint64_t LocalServer::active_connections() const noexcept {
  return impl_->counters().active_connections.load(std::memory_order_relaxed);
}

std::uint64_t LocalServer::endpoint_count(Endpoint endpoint) const noexcept {
  return impl_->counters().per_endpoint[static_cast<std::size_t>(endpoint)].load(
      std::memory_order_relaxed);
}

}  // namespace sluice::http_server
