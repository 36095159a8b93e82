// Backend selection: --device auto|cpu|cuda.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

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

}  // namespace
