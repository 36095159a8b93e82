#include "request_target.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sluice::http_server::detail {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string range_text(std::uint64_t min, std::uint64_t max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

std::string range_text(double min, double max) {
  char text[64];
  std::snprintf(text, sizeof text, "%g..%g", min, max);
  return text;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

RequestTarget::RequestTarget(std::string_view target) {
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  if (!path) throw BadParameter("malformed percent-escape in path");
  path_ = std::move(*path);
  if (question == std::string_view::npos) return;

  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) throw BadParameter("malformed percent-escape in query");
    params_.emplace_back(std::move(*name), std::move(*value));
  }
}

std::optional<std::string_view> RequestTarget::get(std::string_view name) const {
  for (const auto& [key, value] : params_) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> RequestTarget::get_uint(std::string_view name, std::uint64_t min,
                                                     std::uint64_t max) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size()) {
    throw BadParameter("parameter '" + std::string(name) + "' must be an integer in " +
                       range_text(min, max) + ", got '" + std::string(*text) + "'");
  }
  if (value < min || value > max) {
    throw BadParameter("parameter '" + std::string(name) + "' must be in " + range_text(min, max) +
                       ", got " + std::to_string(value));
  }
  return value;
}

std::optional<double> RequestTarget::get_double(std::string_view name, double min,
                                                double max) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() ||
      !std::isfinite(value) || value < min || value > max) {
    throw BadParameter("parameter '" + std::string(name) + "' must be a number in " +
                       range_text(min, max) + ", got '" + std::string(*text) + "'");
  }
  return value;
}

std::uint64_t RequestTarget::require_uint(std::string_view name, std::uint64_t min,
                                          std::uint64_t max) const {
  const auto value = get_uint(name, min, max);
  if (!value) {
    throw BadParameter("missing parameter '" + std::string(name) + "' (an integer in " +
                       range_text(min, max) + ")");
  }
  return *value;
}

std::string_view RequestTarget::require(std::string_view name) const {
  const auto value = get(name);
  if (!value) throw BadParameter("missing parameter '" + std::string(name) + "'");
  return *value;
}

}  // namespace sluice::http_server::detail
