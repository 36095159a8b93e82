// The CUDA backend end to end; skipped where no CUDA device is usable (CI, this build
// machine). On a GPU machine: ctest --test-dir BUILD -R gpu_cuda --output-on-failure
#include <latch>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::Outcome;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

class gpu_cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (sluice::gpu::cuda_device_count() == 0) {
      GTEST_SKIP() << "no usable CUDA device: " << sluice::gpu::cuda_unavailable_reason();
    }
  }
};

TEST_F(gpu_cuda, BytesArriveIntactInDeviceMemory) {
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  EXPECT_EQ(stage.device(), sluice::gpu::Device::cuda);
  constexpr std::size_t n = 64;
  std::mutex mutex;
  std::vector<std::uint64_t> got(n);
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = (i * 7919 * 4099) % (8 << 20) + i;
    stage(HostBatch(gpu_test::pattern(i, size)),
          sluice::make_completion<DeviceBatch>([&, i](Outcome<DeviceBatch> o) {
            ASSERT_TRUE(o.ok());
            EXPECT_EQ(o.value->location(), sluice::gpu::Device::cuda);
            std::lock_guard lock(mutex);
            got[i] = gpu_test::checksum(o.value->to_host());
            done.count_down();
          }));
  }
  done.wait();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = (i * 7919 * 4099) % (8 << 20) + i;
    EXPECT_EQ(got[i], gpu_test::checksum(gpu_test::pattern(i, size))) << i;
  }
  stage.wait_idle();
  const auto s = stage.stats();
  EXPECT_EQ(s.max_in_flight, 1u);
  EXPECT_LE(s.device.high_water, 4u);
  EXPECT_EQ(s.device.in_use, 0u);
}

TEST_F(gpu_cuda, ProducerStagedBatchesArePinnedAndArrive) {
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  auto staged = stage.try_stage(1 << 20);
  ASSERT_TRUE(staged);
  EXPECT_EQ(staged->staged_buffer()->memory()->name(), "cuda-pinned");
  const auto bytes = gpu_test::pattern(3, 1 << 20);
  std::copy(bytes.begin(), bytes.end(), staged->data());
  std::latch done(1);
  bool intact = false;
  stage(std::move(*staged), sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          intact = o.ok() && o.value->to_host() == bytes;
          done.count_down();
        }));
  done.wait();
  EXPECT_TRUE(intact);
}

TEST_F(gpu_cuda, CancelMidTransferReleasesEverything) {
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  constexpr std::size_t n = 16;
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(std::vector<std::uint8_t>(32 << 20, 1)),
          sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch>) { done.count_down(); }));
  }
  stage.cancel();
  done.wait();
  const auto s = stage.stats();
  EXPECT_EQ(s.delivered + s.cancelled, n);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
}

}  // namespace
