// ServerCounters: what the server saw, written by its loop thread and read by any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "sluice/http_server.hpp"

namespace sluice::http_server::detail {

struct ServerCounters {
  // One writer (the loop thread), so relaxed increments are exact; readers only need
  // each value to be untorn, not a consistent set.
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> active_connections{0};
  std::atomic<std::uint64_t> peak_active_connections{0};
  std::atomic<std::uint64_t> requests_received{0};
  std::atomic<std::uint64_t> responses_sent{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> flaky_failures{0};
  std::atomic<std::uint64_t> resets{0};
  std::atomic<std::uint64_t> abandoned{0};
  std::array<std::atomic<std::uint64_t>, kEndpointCount> per_endpoint{};

  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  void bump(Endpoint endpoint) noexcept { bump(per_endpoint[static_cast<std::size_t>(endpoint)]); }

  LocalServerStats snapshot() const noexcept {
    LocalServerStats s;
    s.connections_accepted = connections_accepted.load(std::memory_order_relaxed);
    s.active_connections = active_connections.load(std::memory_order_relaxed);
    s.peak_active_connections = peak_active_connections.load(std::memory_order_relaxed);
    s.requests_received = requests_received.load(std::memory_order_relaxed);
    s.responses_sent = responses_sent.load(std::memory_order_relaxed);
    s.bad_requests = bad_requests.load(std::memory_order_relaxed);
    s.flaky_failures = flaky_failures.load(std::memory_order_relaxed);
    s.resets = resets.load(std::memory_order_relaxed);
    s.abandoned = abandoned.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < per_endpoint.size(); ++i) {
      s.per_endpoint[i] = per_endpoint[i].load(std::memory_order_relaxed);
    }
    return s;
  }
};

}  // namespace sluice::http_server::detail
