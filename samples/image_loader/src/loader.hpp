// The loader graph: two image sets sampled with weights -> download -> a tee to
//   decode -> (images that do not decode: quarantine) -> resize -> batch -> collate ->
//   transfer -> a consumer loop on the calling thread (the "training step") that checks
//   every image, and to
//   checksum -> the manifest (one line per downloaded image: URL, bytes, CRC-32).
//
//   LoaderResult r = run_loader(sets, {.device = Device::auto_detect, .mix = {0.7, 0.3}});
//   std::cout << r.report;
//   std::cout << loader_dot({});   // the graph, for Graphviz
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sluice/gpu.hpp>
#include <sluice/report.hpp>

#include "dataset.hpp"

namespace image_loader {

struct LoaderOptions {
  sluice::gpu::Device device = sluice::gpu::Device::auto_detect;
  std::size_t batch = 16;
  int size = 64;  ///< output side, pixels
  std::size_t decode_concurrency = 1;
  std::size_t good_images = 0;          ///< test images 0..good_images-1 may arrive
  bool progress = false;                ///< a live line on stderr
  std::array<double, 2> mix{0.5, 0.5};  ///< weights of set a and set b (sluice::sample)
  std::uint64_t seed = 0;               ///< the draw sequence of the mix
  std::string manifest{};               ///< file the checksum lines go to; empty: none
};

struct LoaderResult {
  sluice::Report report;
  std::size_t requested = 0;
  std::size_t verified = 0;  ///< images the consumer checked OK
  std::size_t wrong = 0;     ///< images the consumer found wrong
  std::size_t batches = 0;
  std::uint64_t decoded_bytes = 0;       ///< RGB bytes out of the decoder
  std::uint64_t downloaded_bytes = 0;    ///< JPEG bytes downloaded
  std::size_t decode_concurrency = 0;    ///< the decode stage's cap
  std::size_t decode_peak = 0;           ///< the most decode bodies seen running at once
  std::size_t requested_a = 0;           ///< requests of set a
  std::size_t requested_b = 0;           ///< requests of set b
  std::string base_a;                    ///< where set a is served from
  std::string base_b;                    ///< where set b is served from
  std::array<double, 2> mix{};           ///< the weights the sets were drawn with
  std::size_t checksummed = 0;           ///< downloaded images (lines of the manifest)
  std::string manifest;                  ///< the manifest file, empty when none was written
  std::vector<std::string> failures;     ///< "stage: message", one per failed item
  std::vector<std::string> quarantined;  ///< "URL: why", one per image that did not decode
  std::vector<std::string> wrong_reasons;
  std::string device;         ///< "cpu" or "cuda"
  std::string device_detail;  ///< e.g. "host" or "cuda:0 NVIDIA H100"
};

/// Runs the graph over both sets (dead-letter policy: failures are counted, the run goes
/// on). Throws when the transfer stage cannot start (e.g. --device cuda without a GPU) or
/// the manifest cannot be written.
LoaderResult run_loader(const ImageSets& sets, const LoaderOptions& options);

/// The graph run_loader runs, as Graphviz text; nothing is run or downloaded.
std::string loader_dot(const LoaderOptions& options);

}  // namespace image_loader
