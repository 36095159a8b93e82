// The transfer stage inside a sluice pipeline, as the image loader uses it: an async_map
// stage feeding a sink, and a consumer loop on the main thread that holds batches.
#include <atomic>
#include <ranges>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>
#include <sluice/sluice.hpp>

#include "test_support.hpp"

namespace {

using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

std::size_t size_of(int i) {
  return 1000 + static_cast<std::size_t>(i % 7) * 40000;
}

HostBatch make_batch(int i) {
  return HostBatch(gpu_test::pattern(i, size_of(i)), {i});
}

bool intact(const DeviceBatch& b) {
  const int i = static_cast<int>(b.shape().at(0));
  return b.size() == size_of(i) && b.to_host() == gpu_test::pattern(i, size_of(i));
}

TEST(gpu_pipeline, RunsAsAnAsyncMapStage) {
  TransferStage transfer({.device = sluice::gpu::Device::cpu, .device_buffers = 3});
  std::atomic<int> good{0};
  const sluice::Report r = sluice::from("ids", std::views::iota(0, 300))
                               .map("make", make_batch, {.concurrency = 2})
                               .async_map("transfer", transfer, {.max_in_flight = 4})
                               .sink("check", [&](DeviceBatch b) { good += intact(b); })
                               .run({.threads = 4});
  EXPECT_EQ(r.delivered, 300u);
  EXPECT_EQ(good.load(), 300);
  EXPECT_TRUE(r.balanced());
  transfer.wait_idle();
  const auto s = transfer.stats();
  EXPECT_EQ(s.max_in_flight, 1u);
  EXPECT_LE(s.device.high_water, 3u);
  EXPECT_EQ(s.device.in_use, 0u);
}

TEST(gpu_pipeline, AConsumerLoopHoldsBatchesAndMayStopEarly) {
  TransferStage transfer({.device = sluice::gpu::Device::cpu, .device_buffers = 4});
  {
    auto batches =
        sluice::from("ids", std::views::iota(0, 1000))
            .map("make", make_batch, {.concurrency = 2})
            .async_map("transfer", transfer,
                       {.max_in_flight = 2, .on_cancel = [transfer] { transfer.cancel(); }})
            .consume({.threads = 4});
    std::vector<DeviceBatch> window;  // a consumer keeping its last two batches
    int taken = 0;
    for (DeviceBatch& b : batches) {
      EXPECT_TRUE(intact(b));
      window.push_back(std::move(b));
      if (window.size() > 2) window.erase(window.begin());
      if (++taken == 100) break;  // stops the run: the rest is cancelled
    }
    const sluice::Report r = batches.finish();
    EXPECT_TRUE(r.balanced());
    EXPECT_GE(r.delivered, 100u);
  }
  transfer.wait_idle();
  const auto s = transfer.stats();
  EXPECT_EQ(s.device.in_use, 0u) << "every batch the consumer held came back";
  EXPECT_LE(s.device.high_water, 4u);
  EXPECT_EQ(s.pending, 0u);
}

}  // namespace
