// The loader pipeline: download -> decode -> resize -> batch -> collate -> transfer, with a
// consumer loop on the calling thread (the "training step") that checks every image.
//
//   LoaderResult r = run_loader(requests, {.device = Device::auto_detect, .batch = 16});
//   std::cout << r.report;
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sluice/gpu.hpp>
#include <sluice/http.hpp>
#include <sluice/report.hpp>

namespace image_loader {

struct LoaderOptions {
  sluice::gpu::Device device = sluice::gpu::Device::auto_detect;
  std::size_t batch = 16;
  int size = 64;  ///< output side, pixels
  std::size_t decode_concurrency = 1;
  std::size_t good_images = 0;  ///< test images 0..good_images-1 may arrive
  bool progress = false;        ///< a live line on stderr
};

struct LoaderResult {
  sluice::Report report;
  std::size_t requested = 0;
  std::size_t verified = 0;  ///< images the consumer checked OK
  std::size_t wrong = 0;     ///< images the consumer found wrong
  std::size_t batches = 0;
  std::uint64_t decoded_bytes = 0;     ///< RGB bytes out of the decoder
  std::uint64_t downloaded_bytes = 0;  ///< JPEG bytes downloaded
  std::size_t decode_concurrency = 0;  ///< the decode stage's cap
  std::size_t decode_peak = 0;         ///< the most decode bodies seen running at once
  std::vector<std::string> failures;   ///< "stage: message", one per failed item
  std::vector<std::string> wrong_reasons;
  std::string device;         ///< "cpu" or "cuda"
  std::string device_detail;  ///< e.g. "host" or "cuda:0 NVIDIA H100"
};

/// Runs the pipeline over `requests` (skip policy: failures are counted, the run goes on).
/// Throws when the transfer stage cannot start (e.g. --device cuda without a GPU).
LoaderResult run_loader(const std::vector<sluice::http::Request>& requests,
                        const LoaderOptions& options);

}  // namespace image_loader
