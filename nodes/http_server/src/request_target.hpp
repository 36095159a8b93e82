// RequestTarget: a request target split into its decoded path and query parameters, with
// typed, range-checked parameter getters that throw BadParameter (answered with 400).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http_server::detail {

/// A missing, malformed or out-of-range parameter; what() is the 400 message.
class BadParameter : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Decodes %XX escapes (and '+' as a space when plus_is_space, as in query strings).
/// nullopt for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

class RequestTarget {
 public:
  /// Splits "/path?a=1&b=2". Throws BadParameter for a bad escape.
  explicit RequestTarget(std::string_view target);

  /// The path, percent-decoded ("/static/a b.txt").
  const std::string& path() const noexcept { return path_; }

  /// The first value of a parameter, decoded; a parameter without '=' has value "".
  std::optional<std::string_view> get(std::string_view name) const;
  /// An integer in [min, max]; nullopt when absent.
  std::optional<std::uint64_t> get_uint(std::string_view name, std::uint64_t min,
                                        std::uint64_t max) const;
  /// A number in [min, max]; nullopt when absent.
  std::optional<double> get_double(std::string_view name, double min, double max) const;
  /// Like get_uint, but absent is an error too.
  std::uint64_t require_uint(std::string_view name, std::uint64_t min, std::uint64_t max) const;
  std::string_view require(std::string_view name) const;

 private:
  std::string path_;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace sluice::http_server::detail
