// Stream-ordered hand-back on a GPU: a batch released with release_after(stream) while
// the consumer's stream still reads it is not overwritten by the next copy. Without nvcc
// the reader is a host function holding the stream followed by a copy out of the batch;
// with nvcc (SLUICE_TEST_KERNELS) it is a kernel that spins, then checksums the batch.
#include <cuda_runtime_api.h>

#include <condition_variable>
#include <cstring>
#include <mutex>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"
#ifdef SLUICE_TEST_KERNELS
#include "test_kernels.hpp"
#endif

namespace {

using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

constexpr std::size_t kBytes = 1 << 20;

class gpu_cuda_stream_order : public ::testing::Test {
 protected:
  void SetUp() override {
    SLUICE_NEED_CUDA_DEVICES(1);
    ASSERT_EQ(cudaStreamCreateWithFlags(&consumer_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    if (consumer_ != nullptr) {
      EXPECT_EQ(cudaStreamSynchronize(consumer_), cudaSuccess);
      EXPECT_EQ(cudaStreamDestroy(consumer_), cudaSuccess);
    }
  }

  // One delivered batch of pattern(1), kept by the test, on a stage with one device buffer.
  std::unique_ptr<DeviceBatch> first_batch(TransferStage& stage) {
    gpu_test::Outcomes out(1);
    stage(HostBatch(gpu_test::pattern(1, kBytes)), out.completion(0, false, true));
    EXPECT_TRUE(out.wait_for(1));
    auto batch = out.take(0);
    EXPECT_TRUE(batch) << out.error(0);
    return batch;
  }

  cudaStream_t consumer_ = nullptr;
};

// Holds a stream in a host function until opened.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  static void CUDART_CB wait(void* self) {
    auto* g = static_cast<Gate*>(self);
    std::unique_lock lock(g->mutex);
    g->cv.wait(lock, [&] { return g->open; });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
};

TEST_F(gpu_cuda_stream_order, ABatchReleasedAfterTheStreamIsReusedOnlyOnceItsWorkIsDone) {
  TransferStage stage({.device = sluice::gpu::Device::cuda, .device_buffers = 1});
  auto a = first_batch(stage);
  ASSERT_TRUE(a);
  void* seen = nullptr;  // pinned, so the copy out is truly queued behind the gate
  ASSERT_EQ(cudaMallocHost(&seen, kBytes), cudaSuccess);
  Gate gate;
  ASSERT_EQ(cudaLaunchHostFunc(consumer_, &Gate::wait, &gate), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(seen, a->data(), kBytes, cudaMemcpyDeviceToHost, consumer_),
            cudaSuccess);
  a->release_after(consumer_);
  EXPECT_TRUE(a->empty());
  EXPECT_EQ(stage.stats().device.in_use, 1u) << "back in the pool while the stream still reads it";

  gpu_test::Outcomes second(1);
  stage(HostBatch(gpu_test::pattern(2, kBytes)), second.completion(0));
  gate.release();
  ASSERT_EQ(cudaStreamSynchronize(consumer_), cudaSuccess);
  EXPECT_EQ(gpu_test::checksum(static_cast<std::uint8_t*>(seen), kBytes),
            gpu_test::checksum(gpu_test::pattern(1, kBytes)))
      << "the consumer's stream read bytes of a later batch";
  ASSERT_TRUE(second.wait_for(1));
  EXPECT_TRUE(second.ok(0)) << second.error(0);
  EXPECT_EQ(second.checksum_of(0), gpu_test::checksum(gpu_test::pattern(2, kBytes)));
  EXPECT_EQ(cudaFreeHost(seen), cudaSuccess);
}

#ifdef SLUICE_TEST_KERNELS
TEST_F(gpu_cuda_stream_order, AKernelStillReadingADroppedBatchIsNotOverwritten) {
  TransferStage stage({.device = sluice::gpu::Device::cuda, .device_buffers = 1});
  auto a = first_batch(stage);
  ASSERT_TRUE(a);
  std::uint64_t* sum = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&sum), sizeof *sum), cudaSuccess);
  // 200 ms of spinning before it reads: the next copy (1 MiB) would land long before.
  ASSERT_EQ(gpu_test::launch_slow_checksum(a->data(), kBytes, 200, sum, consumer_), cudaSuccess);
  a->release_after(consumer_);
  gpu_test::Outcomes second(1);
  stage(HostBatch(gpu_test::pattern(2, kBytes)), second.completion(0));
  ASSERT_TRUE(second.wait_for(1));
  EXPECT_TRUE(second.ok(0)) << second.error(0);
  ASSERT_EQ(cudaStreamSynchronize(consumer_), cudaSuccess);
  EXPECT_EQ(*sum, gpu_test::checksum(gpu_test::pattern(1, kBytes)))
      << "the kernel read bytes of a later batch";
  EXPECT_EQ(cudaFreeHost(sum), cudaSuccess);
}
#endif

}  // namespace
