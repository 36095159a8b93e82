// A sticky context error on a GPU: a user's kernel writes to an illegal address while the
// stage has copies queued. Every transfer completes (delivered before the fault, failed
// with the CUDA error text after it), later submissions fail at once, and wait_idle() and
// the destructor return. Built only with nvcc (SLUICE_TEST_KERNELS); each test runs in its
// own process (ctest), since the context cannot recover.
#include <cuda_runtime_api.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_kernels.hpp"
#include "test_support.hpp"

namespace {

using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

TEST(gpu_cuda_fault, AnIllegalAddressInAUserKernelEndsTheRunWithAClearError) {
  SLUICE_NEED_CUDA_DEVICES(1);
  auto stage = std::make_unique<TransferStage>(
      sluice::gpu::TransferOptions{.device = sluice::gpu::Device::cuda, .concurrency = 2});
  constexpr std::size_t n = 32;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    (*stage)(HostBatch(gpu_test::pattern(i, 8 << 20)), out.completion(i, false));
  }
  cudaStream_t user = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&user, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(gpu_test::launch_illegal_write(user), cudaSuccess);
  const cudaError_t fault = cudaStreamSynchronize(user);
  ASSERT_NE(fault, cudaSuccess) << "the kernel did not fault";
  const std::string name = cudaGetErrorName(fault);

  ASSERT_TRUE(out.wait_for(n)) << "transfers hang after the context error";
  std::size_t failed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (out.ok(i)) {
      EXPECT_EQ(failed, 0u) << "transfer " << i << " delivered after an earlier one failed";
      continue;
    }
    ++failed;
    EXPECT_NE(out.error(i).find(name), std::string::npos) << i << ": " << out.error(i);
  }
  EXPECT_GT(failed, 0u) << "every copy ended before the fault: make the batches larger";

  gpu_test::Outcomes later(1);
  (*stage)(HostBatch(gpu_test::pattern(99, 4096)), later.completion(0, false));
  ASSERT_TRUE(later.wait_for(1));
  EXPECT_NE(later.error(0).find(name), std::string::npos) << later.error(0);
  EXPECT_TRUE(gpu_test::returns_within([&] { stage->wait_idle(); }));
  EXPECT_TRUE(gpu_test::returns_within([&] { stage.reset(); })) << "the destructor hung";
}

TEST(gpu_cuda_fault, AnIdleStageFailsWorkSubmittedAfterTheFault) {
  SLUICE_NEED_CUDA_DEVICES(1);
  // The stage exists (its buffers, stream and event thread) before the fault, idle.
  auto stage = std::make_unique<TransferStage>(
      sluice::gpu::TransferOptions{.device = sluice::gpu::Device::cuda});
  gpu_test::Outcomes warm(1);
  (*stage)(HostBatch(gpu_test::pattern(0, 4096)), warm.completion(0));
  ASSERT_TRUE(warm.wait_for(1));
  ASSERT_TRUE(warm.ok(0)) << warm.error(0);
  ASSERT_EQ(gpu_test::launch_illegal_write(nullptr), cudaSuccess);
  ASSERT_NE(cudaDeviceSynchronize(), cudaSuccess);
  constexpr std::size_t n = 8;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i)
    (*stage)(HostBatch(gpu_test::pattern(i, 4096)), out.completion(i));
  ASSERT_TRUE(out.wait_for(n));
  for (std::size_t i = 0; i < n; ++i) EXPECT_FALSE(out.ok(i)) << i;
  EXPECT_TRUE(gpu_test::returns_within([&] { stage.reset(); })) << "the destructor hung";
}

}  // namespace
