// Static files under a root folder, refusing any path that could leave it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "unique_fd.hpp"

namespace sluice::http_server::detail {

struct StaticFile {
  int status = 404;  ///< 200 (file is set), 403 (escapes the root) or 404
  UniqueFd file;
  std::uint64_t size = 0;
  std::string content_type;
};

/// The canonical form of a root folder; throws std::invalid_argument when it is not one.
std::filesystem::path canonical_static_root(const std::filesystem::path& root);

/// Opens relative_path (decoded, '/'-separated, below the canonical root). A ".." segment,
/// a NUL or a symbolic link out of the root gives 403; a missing or non-regular file 404.
StaticFile open_static_file(const std::filesystem::path& canonical_root,
                            std::string_view relative_path);

/// "text/html; charset=utf-8" for .html, ..., "application/octet-stream" by default.
std::string content_type_for(const std::filesystem::path& path);

}  // namespace sluice::http_server::detail
