// The image set the loader reads: test JPEGs generated once into a cache folder, plus
// truncated copies and names that do not exist, so a run shows how failures are counted.
//
//   Dataset d = prepare_dataset(cache_dir, 256, 2);       // generates on the first run
//   sluice::http_server::LocalServer server({.static_root = d.root});
//   auto requests = make_requests(d, server.url("/static/"));
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <sluice/http.hpp>

namespace image_loader {

struct Dataset {
  std::filesystem::path root;        ///< the folder served under /static/
  std::vector<std::string> good;     ///< file names of test images 0..n-1, in index order
  std::vector<std::string> corrupt;  ///< truncated JPEGs (they fail to decode)
  std::vector<std::string> missing;  ///< names with no file behind them (404)
  std::size_t generated = 0;         ///< files written by this call (0 on a warm cache)
};

/// Writes `images` test JPEGs (mixed sizes) and `corrupt` truncated ones into `cache`,
/// keeping files already there, and names `corrupt` missing files.
Dataset prepare_dataset(const std::filesystem::path& cache, std::size_t images,
                        std::size_t corrupt);

/// One GET per file, good and bad interleaved; `base` is the URL of /static/ (ending in
/// '/'). A good image's request carries its index as the tag.
std::vector<sluice::http::Request> make_requests(const Dataset& dataset, const std::string& base);

}  // namespace image_loader
