// The loader graph in-process against two local servers, on the host backend: every
// good image reaches the consumer once and intact, the corrupt ones are quarantined and
// the missing ones fail, each naming its URL, every download is checksummed, and the
// decode stage keeps to its cap.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
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

  // One run over `images` good images plus `bad` corrupt and `bad` missing ones, the two
  // sets each on a server of its own.
  static LoaderResult load(std::size_t images, std::size_t bad, LoaderOptions options) {
    const auto dataset = image_loader::prepare_dataset(cache(), images, bad);
    sluice::http_server::LocalServer a({.static_root = dataset.root});
    sluice::http_server::LocalServer b({.static_root = dataset.root});
    options.good_images = images;
    return image_loader::run_loader(
        image_loader::make_image_sets(dataset, a.url("/static/"), b.url("/static/")), options);
  }

  static const sluice::StageReport& stage(const LoaderResult& r, const std::string& name) {
    const auto it = std::find_if(r.report.stages.begin(), r.report.stages.end(),
                                 [&](const auto& s) { return s.name == name; });
    if (it == r.report.stages.end()) throw std::runtime_error("no stage " + name);
    return *it;
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
  EXPECT_EQ(r.requested_a, 24u);       // the two sets share the images
  EXPECT_EQ(r.requested_b, 24u);
  EXPECT_NE(r.base_a, r.base_b);
  EXPECT_EQ(r.checksummed, 48u);  // the other branch of the tee saw every download
  EXPECT_TRUE(r.quarantined.empty());
}

TEST_F(ImageLoaderPipeline, CorruptImagesAreQuarantinedMissingOnesFailAndTheRunGoesOn) {
  const auto r = load(30, 3, {.device = sluice::gpu::Device::cpu, .batch = 4, .size = 24});
  EXPECT_EQ(r.requested, 36u);
  EXPECT_EQ(r.verified, 30u);
  EXPECT_EQ(r.wrong, 0u);
  ASSERT_EQ(r.quarantined.size(), 3u);
  for (const auto& q : r.quarantined) {
    EXPECT_NE(q.find("/static/corrupt_"), std::string::npos) << q;
    EXPECT_NE(q.find(".jpg: "), std::string::npos) << q;  // the URL, then why
  }
  EXPECT_EQ(stage(r, "quarantine").in, 3u);
  EXPECT_EQ(r.report.failed, 3u);
  ASSERT_EQ(r.failures.size(), 3u);
  for (const auto& f : r.failures) {
    EXPECT_NE(f.find("/static/missing_"), std::string::npos) << f;
    EXPECT_NE(f.find("HTTP 404"), std::string::npos) << f;
    EXPECT_EQ(f.rfind("decode: ", 0), 0u) << f;  // the stage that failed it comes first
  }
  EXPECT_EQ(r.checksummed, 33u);  // the 30 good and 3 corrupt ones downloaded
  EXPECT_EQ(stage(r, "downloaded?").filtered, 3u);
  EXPECT_TRUE(r.report.balanced());
}

TEST_F(ImageLoaderPipeline, TheDotGraphShowsEveryBranch) {
  const std::string dot = image_loader::loader_dot({});
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  for (const char* piece : {"images", "download", "fan-out", "decode", "decodes?", "quarantine",
                            "checksum", "manifest", "transfer"}) {
    EXPECT_NE(dot.find(piece), std::string::npos) << piece << "\n" << dot;
  }
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
    const auto& decode = stage(r, "decode");
    EXPECT_EQ(decode.concurrency, cap);
    EXPECT_EQ(decode.in, 42u);  // every download reached it, good or bad
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
