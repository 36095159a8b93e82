#include "static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace sluice::http_server::detail {

namespace fs = std::filesystem;

std::filesystem::path canonical_static_root(const std::filesystem::path& root) {
  std::error_code ec;
  auto canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    throw std::invalid_argument("static root is not a folder: " + root.string());
  }
  return canonical;
}

StaticFile open_static_file(const fs::path& canonical_root, std::string_view relative_path) {
  StaticFile result;
  if (relative_path.find('\0') != std::string_view::npos) {
    result.status = 403;
    return result;
  }
  fs::path candidate = canonical_root;
  while (!relative_path.empty()) {
    const auto slash = relative_path.find('/');
    const std::string_view segment = relative_path.substr(0, slash);
    relative_path.remove_prefix(slash == std::string_view::npos ? relative_path.size() : slash + 1);
    if (segment == "..") {
      result.status = 403;
      return result;
    }
    if (segment.empty() || segment == ".") continue;
    candidate /= fs::path(std::string(segment));
  }

  // Symbolic links may point anywhere: the resolved file must still be under the root.
  std::error_code ec;
  const fs::path resolved = fs::canonical(candidate, ec);
  if (ec) return result;  // 404
  const auto [root_end, resolved_at] =
      std::mismatch(canonical_root.begin(), canonical_root.end(), resolved.begin(), resolved.end());
  if (root_end != canonical_root.end()) {
    result.status = 403;
    return result;
  }

  UniqueFd fd(::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  struct stat info {};
  if (!fd || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return result;  // 404
  result.status = 200;
  result.file = std::move(fd);
  result.size = static_cast<std::uint64_t>(info.st_size);
  result.content_type = content_type_for(resolved);
  return result;
}

std::string content_type_for(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".json", "application/json"},
      {".js", "text/javascript"},
      {".css", "text/css"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".png", "image/png"},
      {".gif", "image/gif"},
      {".svg", "image/svg+xml"},
  }};
  for (const auto& [extension, type] : kTypes) {
    if (ext == extension) return std::string(type);
  }
  return "application/octet-stream";
}

}  // namespace sluice::http_server::detail
