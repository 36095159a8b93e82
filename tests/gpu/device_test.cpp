// Backend selection: --device auto|cpu|cuda, including a device that is counted but
// cannot be set up (through the selection's seam, so it runs without a GPU).
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "copy_engine_select.hpp"
#include "test_support.hpp"

namespace {

using sluice::gpu::Device;

TEST(gpu_device, ParsesWhatItPrints) {
  for (Device d : {Device::auto_detect, Device::cpu, Device::cuda}) {
    EXPECT_EQ(sluice::gpu::parse_device(sluice::gpu::to_string(d)), d);
  }
  try {
    sluice::gpu::parse_device("gpu");
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "unknown device 'gpu': expected auto, cpu or cuda");
  }
}

TEST(gpu_device, BuildReportsWhetherItHasTheCudaBackend) {
  EXPECT_EQ(sluice::gpu::cuda_compiled(), SLUICE_GPU_EXPECT_CUDA != 0);
  if (!sluice::gpu::cuda_compiled()) {
    EXPECT_EQ(sluice::gpu::cuda_device_count(), 0);
    EXPECT_NE(sluice::gpu::cuda_unavailable_reason().find("no CUDA backend"), std::string::npos);
  }
  if (sluice::gpu::cuda_device_count() == 0) {
    EXPECT_FALSE(sluice::gpu::cuda_unavailable_reason().empty());
  } else {
    EXPECT_TRUE(sluice::gpu::cuda_unavailable_reason().empty());
  }
}

TEST(gpu_device, CpuIsTheHostBackendAndSaysNothing) {
  std::vector<std::string> notices;
  sluice::gpu::TransferStage stage(
      {.device = Device::cpu, .on_notice = [&](std::string_view s) { notices.emplace_back(s); }});
  EXPECT_EQ(stage.device(), Device::cpu);
  EXPECT_EQ(stage.describe(), "host");
  EXPECT_TRUE(notices.empty());
}

TEST(gpu_device, CudaWithoutADeviceIsAClearError) {
  if (sluice::gpu::cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    sluice::gpu::TransferStage stage({.device = Device::cuda});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--device cuda requested but no CUDA device is usable"), std::string::npos)
        << what;
    EXPECT_NE(what.find(sluice::gpu::cuda_unavailable_reason()), std::string::npos) << what;
  }
}

TEST(gpu_device, AutoWithoutADeviceFallsBackAndSaysSoOnce) {
  if (sluice::gpu::cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  // The notice is once per process, and no other test in this binary asks for auto; under
  // --gtest_repeat only the first round can see it.
  static bool first_round = true;
  std::vector<std::string> notices;
  auto sink = [&](std::string_view s) { notices.emplace_back(s); };
  sluice::gpu::TransferStage first({.device = Device::auto_detect, .on_notice = sink});
  sluice::gpu::TransferStage second({.device = Device::auto_detect, .on_notice = sink});
  EXPECT_EQ(first.device(), Device::cpu);
  EXPECT_EQ(second.device(), Device::cpu);
  ASSERT_EQ(notices.size(), first_round ? 1u : 0u);
  first_round = false;
  if (notices.empty()) return;
  EXPECT_NE(notices[0].find("host backend"), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find(sluice::gpu::cuda_unavailable_reason()), std::string::npos);
}

TEST(gpu_device, AutoWithADevicePicksCuda) {
  if (sluice::gpu::cuda_device_count() == 0) GTEST_SKIP() << sluice::gpu::cuda_unavailable_reason();
  sluice::gpu::TransferStage stage({.device = Device::auto_detect});
  EXPECT_EQ(stage.device(), Device::cuda);
  EXPECT_EQ(stage.describe().rfind("cuda:0", 0), 0u) << stage.describe();
}

TEST(gpu_device, AutoFallsBackWhenACountedDeviceCannotBeSetUp) {
  // What exclusive-process or prohibited mode looks like: counted, then refused.
  const sluice::gpu::detail::CudaProbe probe{1, ""};
  int asked = -2;
  auto refuse = [&](int device) -> std::shared_ptr<sluice::gpu::CopyEngine> {
    asked = device;
    throw std::runtime_error(
        "sluice::gpu: cudaSetDevice(0): CUDA-capable device(s) is/are busy or unavailable "
        "[cudaErrorDevicesUnavailable]");
  };
  std::atomic<bool> announced{false};
  std::vector<std::string> notices;
  auto sink = [&](std::string_view s) { notices.emplace_back(s); };
  auto engine = sluice::gpu::detail::select_copy_engine(Device::auto_detect, sink, -1, probe,
                                                        refuse, announced);
  EXPECT_EQ(engine->device(), Device::cpu);
  EXPECT_EQ(asked, -1) << "the caller's current device is what auto tries";
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("cudaErrorDevicesUnavailable"), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find("host backend"), std::string::npos) << notices[0];

  // Said once: a second stage falls back silently.
  engine = sluice::gpu::detail::select_copy_engine(Device::auto_detect, sink, -1, probe, refuse,
                                                   announced);
  EXPECT_EQ(engine->device(), Device::cpu);
  EXPECT_EQ(notices.size(), 1u);

  // Asked for explicitly, the same failure is an error, not a fallback.
  EXPECT_THROW(
      sluice::gpu::detail::select_copy_engine(Device::cuda, sink, 0, probe, refuse, announced),
      std::runtime_error);
}

TEST(gpu_device, RequireGpuMeansADeviceIsUsable) {
  // The one check that holds in every build: under SLUICE_REQUIRE_GPU=1 (scripts/
  // gpu_check.sh), a build without CUDA or a machine without a device fails here.
  if (!gpu_test::gpu_required()) GTEST_SKIP() << "SLUICE_REQUIRE_GPU is not 1";
  EXPECT_TRUE(sluice::gpu::cuda_compiled()) << "this build has no CUDA backend";
  EXPECT_GT(sluice::gpu::cuda_device_count(), 0) << sluice::gpu::cuda_unavailable_reason();
}

}  // namespace
