#include "dataset.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <sluice/image.hpp>

namespace fs = std::filesystem;

namespace image_loader {
namespace {

std::string numbered(const char* prefix, std::size_t k) {
  char name[64];
  std::snprintf(name, sizeof name, "%s_%06zu.jpg", prefix, k);
  return name;
}

// Writes the first half of a real JPEG: a header that parses, then data that stops.
void write_truncated(const fs::path& path, std::size_t k) {
  if (fs::exists(path)) return;
  const std::vector<std::uint8_t> jpeg = sluice::image::encode_test_image(k);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(jpeg.data()),
              static_cast<std::streamsize>(jpeg.size() / 2));
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace

Dataset prepare_dataset(const fs::path& cache, std::size_t images, std::size_t corrupt) {
  Dataset d;
  d.root = cache;
  fs::create_directories(cache);
  std::size_t before = 0;
  for (std::size_t i = 0; i < images; ++i) {
    before += fs::exists(cache / sluice::image::test_image_name(i)) ? 1 : 0;
  }
  const auto paths = sluice::image::generate_test_images(cache, images, {}, /*skip_existing=*/true);
  d.generated = images - before;
  for (const auto& p : paths) d.good.push_back(p.filename().string());
  for (std::size_t k = 0; k < corrupt; ++k) {
    d.corrupt.push_back(numbered("corrupt", k));
    write_truncated(cache / d.corrupt.back(), k);
    d.missing.push_back(numbered("missing", k));
    std::error_code ignored;
    fs::remove(cache / d.missing.back(), ignored);  // make sure it stays a 404
  }
  return d;
}

std::vector<sluice::http::Request> make_requests(const Dataset& d, const std::string& base) {
  std::vector<std::string> bad;
  for (std::size_t k = 0; k < d.corrupt.size(); ++k) {
    bad.push_back(d.corrupt[k]);
    bad.push_back(d.missing[k]);
  }
  const std::size_t total = d.good.size() + bad.size();
  std::vector<sluice::http::Request> out;
  out.reserve(total);
  std::size_t next_good = 0;
  std::size_t next_bad = 0;
  for (std::size_t pos = 0; pos < total; ++pos) {
    // Spread the bad ones evenly: bad j goes at about (j + 1) * total / (bad + 1).
    const bool bad_here =
        next_bad < bad.size() &&
        (next_good == d.good.size() || pos + 1 >= (next_bad + 1) * total / (bad.size() + 1));
    if (bad_here) {
      out.push_back({.url = base + bad[next_bad++], .tag = ~std::uint64_t{0}});
    } else {
      out.push_back({.url = base + d.good[next_good], .tag = next_good});
      ++next_good;
    }
  }
  return out;
}

}  // namespace image_loader
