// Request: one parsed HTTP/1.x request head, plus the size of its body (the server
// counts body bytes but never keeps them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http_server::detail {

struct Request {
  std::string method;
  std::string target;     ///< as sent: "/bytes?n=10"
  int minor_version = 1;  ///< HTTP/1.<minor_version>
  std::vector<std::pair<std::string, std::string>> headers;
  std::uint64_t body_bytes = 0;
  bool keep_alive = true;
  bool expect_continue = false;

  /// The first header with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

/// ASCII case-insensitive equality, as header names and tokens compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// True when a comma-separated header value (e.g. Connection) lists this token.
bool has_token(std::string_view list, std::string_view token) noexcept;

}  // namespace sluice::http_server::detail
