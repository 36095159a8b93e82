// image_loader: the SPDL scenario as a graph. Two image sets, each on a local server of
// its own, are drawn with weights (sluice::sample); each download goes two ways (a tee):
// decode -> resize -> batch -> transfer (GPU, or the host backend) -> a consumer loop on
// the main thread that checks the pixels it receives, with the images that do not decode
// routed to a quarantine sink; and a CRC-32 per image into a checksum manifest.
//
//   image_loader                          # 256 images in two sets, 2 corrupt + 2 missing
//   image_loader --mix 0.7,0.3 --manifest sums.txt
//   image_loader --images 1000 --batch 32 --size 224 --device cuda --json
//   image_loader --dot | dot -Tsvg > image_loader.svg    # the graph, not run
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include <sluice/gpu.hpp>
#include <sluice/http_server.hpp>

#include "dataset.hpp"
#include "loader.hpp"
#include "mix.hpp"
#include "summary.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{
      "image_loader: two image sets, mixed -> download -> decode -> resize -> batch -> transfer "
      "-> train step, with a quarantine for images that do not decode and a checksum manifest"};
  std::string device = "auto";
  std::size_t images = 256;
  std::size_t batch = 16;
  int size = 64;
  std::size_t decode_concurrency = std::max(1u, std::thread::hardware_concurrency());
  std::size_t corrupt = 2;
  std::string cache = (fs::temp_directory_path() / "sluice-image-loader").string();
  bool json = false;
  app.add_option("--device", device, "where batches go: auto, cpu (host backend) or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--images", images, "good test images to load (half in each set)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->capture_default_str();
  app.add_option("--batch", batch, "images per batch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))
      ->capture_default_str();
  app.add_option("--size", size, "side of the output images, pixels")
      ->check(CLI::Range(16, 1024))
      ->capture_default_str();
  app.add_option("--decode-concurrency", decode_concurrency, "decode/resize bodies at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  app.add_option("--corrupt", corrupt,
                 "also request this many truncated JPEGs and this many missing URLs")
      ->check(CLI::Range(std::size_t{0}, std::size_t{10000}))
      ->capture_default_str();
  app.add_option("--cache", cache, "folder for the generated JPEGs (kept between runs)")
      ->capture_default_str();
  std::string mix = "0.5,0.5";
  app.add_option("--mix", mix, "weights with which images are drawn from set a and set b")
      ->check(CLI::Validator(
          [](const std::string& text) {
            try {
              image_loader::parse_mix(text);
              return std::string();
            } catch (const std::invalid_argument& e) {
              return std::string(e.what());
            }
          },
          "A,B", "two positive weights"))
      ->capture_default_str();
  std::uint64_t seed = 0;
  app.add_option("--seed", seed, "seed of the mix's draws (the same seed, the same order)")
      ->capture_default_str();
  std::string manifest;
  app.add_option("--manifest", manifest,
                 "write one line per downloaded image to FILE: URL, bytes, CRC-32 (hex)")
      ->type_name("FILE");
  app.add_flag("--json", json, "print one JSON summary object on stdout");
  bool dot = false;
  app.add_flag("--dot", dot, "print the graph (Graphviz) and exit without running");
  CLI11_PARSE(app, argc, argv);

  const image_loader::LoaderOptions options{.device = sluice::gpu::parse_device(device),
                                            .batch = batch,
                                            .size = size,
                                            .decode_concurrency = decode_concurrency,
                                            .good_images = images,
                                            .progress = ::isatty(STDERR_FILENO) != 0,
                                            .mix = image_loader::parse_mix(mix),
                                            .seed = seed,
                                            .manifest = manifest};
  try {
    if (dot) {
      std::cout << image_loader::loader_dot(options);
      return 0;
    }
    const image_loader::Dataset dataset = image_loader::prepare_dataset(cache, images, corrupt);
    if (dataset.generated > 0 && !json) {
      std::cerr << "generated " << dataset.generated << " test images in " << cache << "\n";
    }
    sluice::http_server::LocalServer server_a({.static_root = dataset.root});
    sluice::http_server::LocalServer server_b({.static_root = dataset.root});
    const auto sets =
        image_loader::make_image_sets(dataset, server_a.url("/static/"), server_b.url("/static/"));
    const image_loader::LoaderResult result = image_loader::run_loader(sets, options);
    if (json) {
      std::cout << image_loader::to_json(result).dump(2) << "\n";
    } else {
      image_loader::print_text(std::cout, result);
    }
    return result.wrong == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "image_loader: error: " << e.what() << "\n";
    return 1;
  }
}
