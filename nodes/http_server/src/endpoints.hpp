// The endpoints: from a parsed request to a Reply. Runs on the loop thread only; the
// state it keeps between requests (the /flaky counter) lives in EndpointState.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "reply.hpp"
#include "request.hpp"

namespace sluice::http_server::detail {

struct EndpointState {
  std::optional<std::filesystem::path> static_root;  ///< canonical; none: /static/ is 404
  std::uint64_t flaky_requests = 0;                  ///< the /flaky request counter k
};

/// The endpoint a path names (not_found for none).
Endpoint endpoint_for_path(std::string_view path) noexcept;

/// Whether /flaky request number k fails: evenly spread without a seed, a seeded hash with.
bool flaky_request_fails(double fail_fraction, std::uint64_t k,
                         std::optional<std::uint64_t> seed) noexcept;

/// Decides the reply to a complete request (parameters checked, 400 when one is bad).
Reply route_request(const Request& request, EndpointState& state);

}  // namespace sluice::http_server::detail
