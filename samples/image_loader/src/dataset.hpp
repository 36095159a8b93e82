// The images the loader reads: test JPEGs generated once into a cache folder, plus
// truncated copies (they do not decode: quarantined) and names that do not exist (404:
// failures), split into two image sets, each served by a server of its own.
//
//   Dataset d = prepare_dataset(cache_dir, 256, 2);       // generates on the first run
//   sluice::http_server::LocalServer a({.static_root = d.root}), b({.static_root = d.root});
//   ImageSets sets = make_image_sets(d, a.url("/static/"), b.url("/static/"));
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

/// Two image sets and where each is served from.
struct ImageSets {
  std::string base_a;  ///< URL of set a's /static/
  std::string base_b;  ///< URL of set b's /static/
  std::vector<sluice::http::Request> a;
  std::vector<sluice::http::Request> b;
};

/// The dataset split in two: set a has the first half of the good images (the larger half
/// when odd) and the even-numbered corrupt and missing files, set b the rest; each set's
/// requests name its own server (`base_a`, `base_b`: /static/ URLs ending in '/').
ImageSets make_image_sets(const Dataset& dataset, const std::string& base_a,
                          const std::string& base_b);

}  // namespace image_loader
