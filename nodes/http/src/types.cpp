#include "sluice/http/types.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::http {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::none:
      return "none";
    case ErrorKind::refused:
      return "refused";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::reset:
      return "reset";
    case ErrorKind::dns:
      return "dns";
    case ErrorKind::too_large:
      return "too_large";
    case ErrorKind::scheme_refused:
      return "scheme_refused";
    case ErrorKind::cancelled:
      return "cancelled";
    case ErrorKind::protocol:
      return "protocol";
    case ErrorKind::too_many_redirects:
      return "too_many_redirects";
    case ErrorKind::no_descriptors:
      return "no_descriptors";
    case ErrorKind::other:
      return "other";
  }
  return "unknown";
}

std::optional<std::string_view> find_header(const Headers& headers,
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

}  // namespace sluice::http
