// Device hygiene of the CUDA backend: a caller's current device is the same after building,
// running and destroying a stage, a stage on device 1 creates no context on device 0, and
// the default device is the caller's current one. Skips without CUDA devices (two for the
// last two); SLUICE_REQUIRE_GPU=1 makes a missing device a failure.
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::gpu::HostBatch;
using sluice::gpu::TransferOptions;
using sluice::gpu::TransferStage;

// Driver calls reached through the runtime (the test does not link libcuda).
struct Driver {
  CUresult(CUDAAPI* ctx_get_current)(CUcontext*) = nullptr;
  CUresult(CUDAAPI* device_get)(CUdevice*, int) = nullptr;
  CUresult(CUDAAPI* primary_ctx_state)(CUdevice, unsigned int*, int*) = nullptr;
};

Driver driver() {
  Driver d;
  auto find = [](const char* name, auto& fn) {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion(name, &p, 12000, cudaEnableDefault, &found) ==
            cudaSuccess &&
        found == cudaDriverEntryPointSuccess) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    }
  };
  find("cuCtxGetCurrent", d.ctx_get_current);
  find("cuDeviceGet", d.device_get);
  find("cuDevicePrimaryCtxGetState", d.primary_ctx_state);
  return d;
}

int current_device() {
  int device = -1;
  EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);
  return device;
}

// Builds a stage, moves a few batches, reads them back and drops them, destroys the stage:
// every step a user's thread takes. Returns what went wrong, or "".
std::string use_a_stage(TransferOptions options, int expect_device) {
  auto stage = std::make_unique<TransferStage>(std::move(options));
  constexpr std::size_t n = 6;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    (*stage)(HostBatch(gpu_test::pattern(i, 300000)), out.completion(i, false, true));
  }
  if (!out.wait_for(n)) return "transfers did not complete";
  for (std::size_t i = 0; i < n; ++i) {
    auto batch = out.take(i);
    if (!batch) return "transfer " + std::to_string(i) + " failed: " + out.error(i);
    if (batch->cuda_device() != expect_device)
      return "batch on device " + std::to_string(batch->cuda_device());
    if (batch->to_host() != gpu_test::pattern(i, 300000)) return "bytes differ";
  }  // each batch dropped here, on this thread
  stage.reset();
  return "";
}

TEST(gpu_cuda_hygiene, TheCallersCurrentDeviceIsUnchanged) {
  SLUICE_NEED_CUDA_DEVICES(1);
  const int count = sluice::gpu::cuda_device_count();
  for (int caller = 0; caller < std::min(count, 2); ++caller) {
    const int target = (caller + 1) % count;  // another device when there is one
    ASSERT_EQ(cudaSetDevice(caller), cudaSuccess);
    EXPECT_EQ(use_a_stage({.device = sluice::gpu::Device::cuda, .cuda_device = target}, target),
              "");
    EXPECT_EQ(current_device(), caller) << "stage on device " << target;
  }
}

TEST(gpu_cuda_hygiene, TheDefaultDeviceIsTheCallersCurrentOne) {
  SLUICE_NEED_CUDA_DEVICES(2);
  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  EXPECT_EQ(stage.describe().rfind("cuda:1 ", 0), 0u) << stage.describe();
  EXPECT_EQ(use_a_stage({.device = sluice::gpu::Device::cuda}, 1), "");
  EXPECT_EQ(current_device(), 1);
}

TEST(gpu_cuda_hygiene, AStageOnDevice1CreatesNoContextOnDevice0) {
  SLUICE_NEED_CUDA_DEVICES(2);
  const Driver d = driver();
  ASSERT_TRUE(d.ctx_get_current && d.device_get && d.primary_ctx_state)
      << "driver entry points not found";
  // A fresh thread with no device set, as a process serving GPU 1 without
  // CUDA_VISIBLE_DEVICES would have; this process made no context so far (one per test).
  std::string error;
  CUcontext left = nullptr;
  std::thread user([&] {
    error = use_a_stage({.device = sluice::gpu::Device::cuda, .cuda_device = 1}, 1);
    (void)d.ctx_get_current(&left);
  });
  user.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(left, nullptr) << "the stage left a context current on the caller's thread";
  CUdevice zero{};
  ASSERT_EQ(d.device_get(&zero, 0), CUDA_SUCCESS);
  unsigned int flags = 0;
  int active = -1;
  ASSERT_EQ(d.primary_ctx_state(zero, &flags, &active), CUDA_SUCCESS);
  EXPECT_EQ(active, 0) << "device 0 got a primary context";
}

}  // namespace
