// reason_phrase: the text after the status code in a status line.
#pragma once

#include <string_view>

namespace sluice::http_server::detail {

/// "OK", "Service Unavailable", ...; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(int status) noexcept;

/// Statuses whose responses never carry a body or Content-Length (1xx, 204, 304).
constexpr bool status_has_no_body(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace sluice::http_server::detail
