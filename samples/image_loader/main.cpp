// image_loader: the SPDL scenario — download (async HTTP) -> decode (turbojpeg) ->
// center-crop-resize -> batch -> transfer (GPU, or the host backend) -> a consumer loop on
// the main thread that checks the pixels it receives.
//
//   image_loader                          # 256 images, 2 corrupt + 2 missing, auto device
//   image_loader --images 1000 --batch 32 --size 224 --device cuda --json
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include <sluice/gpu.hpp>
#include <sluice/http_server.hpp>

#include "dataset.hpp"
#include "loader.hpp"
#include "summary.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App app{"image_loader: download -> decode -> resize -> batch -> transfer -> train step"};
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
  app.add_option("--images", images, "good test images to load")
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
  app.add_flag("--json", json, "print one JSON summary object on stdout");
  CLI11_PARSE(app, argc, argv);

  try {
    const image_loader::Dataset dataset = image_loader::prepare_dataset(cache, images, corrupt);
    if (dataset.generated > 0 && !json) {
      std::cerr << "generated " << dataset.generated << " test images in " << cache << "\n";
    }
    sluice::http_server::LocalServer server({.static_root = dataset.root});
    const auto requests = image_loader::make_requests(dataset, server.url("/static/"));
    const image_loader::LoaderResult result =
        image_loader::run_loader(requests, {.device = sluice::gpu::parse_device(device),
                                            .batch = batch,
                                            .size = size,
                                            .decode_concurrency = decode_concurrency,
                                            .good_images = images,
                                            .progress = ::isatty(STDERR_FILENO) != 0});
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
