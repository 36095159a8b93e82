#include "sluice/http_types.hpp"

#include <algorithm>
#include <cctype>

namespace sluice {

const char* to_string(HttpError kind) noexcept {
  switch (kind) {
    case HttpError::none:
      return "none";
    case HttpError::refused:
      return "refused";
    case HttpError::timeout:
      return "timeout";
    case HttpError::reset:
      return "reset";
    case HttpError::dns:
      return "dns";
    case HttpError::too_large:
      return "too_large";
    case HttpError::scheme_refused:
      return "scheme_refused";
    case HttpError::cancelled:
      return "cancelled";
    case HttpError::protocol:
      return "protocol";
    case HttpError::too_many_redirects:
      return "too_many_redirects";
    case HttpError::no_descriptors:
      return "no_descriptors";
    case HttpError::other:
      return "other";
  }
  return "unknown";
}

std::optional<std::string_view> find_header(const HttpHeaders& headers,
                                            std::string_view name) noexcept {
  const auto same = [name](const std::string& candidate) {
    return std::equal(candidate.begin(), candidate.end(), name.begin(), name.end(),
                      [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b));
                      });
  };
  for (const auto& [key, value] : headers) {
    if (same(key)) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace sluice
