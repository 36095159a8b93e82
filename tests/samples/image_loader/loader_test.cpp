// The loader pipeline in-process against the local server, on the host backend: every
// good image reaches the consumer once and intact, the bad ones become failures naming
// their URL, and the decode stage keeps to its cap.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <sluice/http_server.hpp>

#include "dataset.hpp"
#include "loader.hpp"

namespace {

namespace fs = std::filesystem;
using image_loader::LoaderOptions;
using image_loader::LoaderResult;

class ImageLoaderPipeline : public ::testing::Test {
 protected:
  // One cache for the suite: the images are generated once and reused by every test.
  static void SetUpTestSuite() { fs::remove_all(cache()); }
  static void TearDownTestSuite() { fs::remove_all(cache()); }
  static const fs::path& cache() {
    static const fs::path path =
        fs::temp_directory_path() / ("image_loader_pipeline_" + std::to_string(::getpid()));
    return path;
  }

  // One run over `images` good images plus `bad` corrupt and `bad` missing ones.
  static LoaderResult load(std::size_t images, std::size_t bad, LoaderOptions options) {
    const auto dataset = image_loader::prepare_dataset(cache(), images, bad);
    sluice::http_server::LocalServer server({.static_root = dataset.root});
    options.good_images = images;
    return image_loader::run_loader(image_loader::make_requests(dataset, server.url("/static/")),
                                    options);
  }
};

TEST_F(ImageLoaderPipeline, EveryGoodImageArrivesOnceAndIntact) {
  const auto r = load(
      48, 0, {.device = sluice::gpu::Device::cpu, .batch = 5, .size = 32, .decode_concurrency = 2});
  EXPECT_EQ(r.requested, 48u);
  EXPECT_EQ(r.verified, 48u);  // the consumer identified each image and checked its colours
  EXPECT_EQ(r.wrong, 0u) << (r.wrong_reasons.empty() ? "" : r.wrong_reasons.front());
  EXPECT_EQ(r.batches, 10u);  // 9 full batches of 5 and a last one of 3
  EXPECT_TRUE(r.failures.empty());
  EXPECT_TRUE(r.report.balanced());
  EXPECT_EQ(r.report.delivered, 48u);  // counted in source items, whatever batched them
  EXPECT_EQ(r.device, "cpu");
  EXPECT_GT(r.downloaded_bytes, 0u);
  EXPECT_EQ(r.decoded_bytes % 3, 0u);  // RGB
}

TEST_F(ImageLoaderPipeline, BadImagesBecomeFailuresNamingTheirUrlAndTheRunGoesOn) {
  const auto r = load(30, 3, {.device = sluice::gpu::Device::cpu, .batch = 4, .size = 24});
  EXPECT_EQ(r.requested, 36u);
  EXPECT_EQ(r.verified, 30u);
  EXPECT_EQ(r.wrong, 0u);
  EXPECT_EQ(r.report.failed, 6u);
  ASSERT_EQ(r.failures.size(), 6u);
  std::size_t not_found = 0;
  std::size_t damaged = 0;
  for (const auto& f : r.failures) {
    if (f.find("/static/missing_") != std::string::npos) {
      ++not_found;
      EXPECT_NE(f.find("HTTP 404"), std::string::npos) << f;
    } else if (f.find("/static/corrupt_") != std::string::npos) {
      ++damaged;
    } else {
      ADD_FAILURE() << "a failure that names no bad image: " << f;
    }
    EXPECT_EQ(f.rfind("decode: ", 0), 0u) << f;  // the stage that failed it comes first
  }
  EXPECT_EQ(not_found, 3u);
  EXPECT_EQ(damaged, 3u);
  EXPECT_TRUE(r.report.balanced());
}

TEST_F(ImageLoaderPipeline, DecodeKeepsToItsCap) {
  for (const std::size_t cap : {std::size_t{1}, std::size_t{3}}) {
    const auto r = load(
        40, 1,
        {.device = sluice::gpu::Device::cpu, .batch = 8, .size = 32, .decode_concurrency = cap});
    EXPECT_EQ(r.verified, 40u) << "cap " << cap;
    EXPECT_EQ(r.decode_concurrency, cap);
    EXPECT_GE(r.decode_peak, 1u) << "cap " << cap;
    EXPECT_LE(r.decode_peak, cap) << "cap " << cap;
    const auto decode = std::find_if(r.report.stages.begin(), r.report.stages.end(),
                                     [](const auto& s) { return s.name == "decode"; });
    ASSERT_NE(decode, r.report.stages.end());
    EXPECT_EQ(decode->concurrency, cap);
    EXPECT_EQ(decode->in, 42u);  // every download reached it, good or bad
  }
}

TEST_F(ImageLoaderPipeline, CudaWithoutADeviceIsRefusedWithTheReason) {
  if (sluice::gpu::cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    load(4, 0, {.device = sluice::gpu::Device::cuda});
    FAIL() << "a cuda run without a device started";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(sluice::gpu::cuda_unavailable_reason()), std::string::npos)
        << e.what();
  }
}

}  // namespace
