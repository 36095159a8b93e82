// The CUDA backend end to end. Skipped where no CUDA device is usable (CI, machines
// without a GPU); under SLUICE_REQUIRE_GPU=1 (scripts/gpu_check.sh) a skip is a failure.
// On a GPU machine: ctest --test-dir BUILD -R gpu_cuda --output-on-failure
#include <cuda_runtime_api.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

class gpu_cuda : public ::testing::Test {
 protected:
  void SetUp() override { SLUICE_NEED_CUDA_DEVICES(1); }
};

cudaPointerAttributes attributes_of(const void* p) {
  cudaPointerAttributes a{};
  EXPECT_EQ(cudaPointerGetAttributes(&a, p), cudaSuccess);
  return a;
}

std::size_t size_of(std::size_t i) {
  return (i * 7919 * 4099) % (8 << 20) + i;
}

TEST_F(gpu_cuda, BytesArriveIntactInDeviceMemory) {
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  EXPECT_EQ(stage.device(), sluice::gpu::Device::cuda);
  constexpr std::size_t n = 64;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(gpu_test::pattern(i, size_of(i))), out.completion(i, true, i % 8 == 0));
  }
  ASSERT_TRUE(out.wait_for(n));
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(out.ok(i)) << i << ": " << out.error(i);
    EXPECT_EQ(out.checksum_of(i), gpu_test::checksum(gpu_test::pattern(i, size_of(i)))) << i;
  }
  int current = -1;
  ASSERT_EQ(cudaGetDevice(&current), cudaSuccess);
  for (std::size_t i = 0; i < n; i += 8) {
    auto batch = out.take(i);
    ASSERT_TRUE(batch) << i;
    EXPECT_EQ(batch->location(), sluice::gpu::Device::cuda);
    EXPECT_EQ(batch->cuda_device(), current) << "the default is the caller's current device";
    const cudaPointerAttributes a = attributes_of(batch->data());
    EXPECT_EQ(a.type, cudaMemoryTypeDevice) << i;
    EXPECT_EQ(a.device, current) << i;
  }
  stage.wait_idle();
  const auto s = stage.stats();
  EXPECT_EQ(s.delivered, n);
  EXPECT_EQ(s.bytes, [] {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) total += size_of(i);
    return total;
  }());
  EXPECT_EQ(s.max_in_flight, 1u);
  EXPECT_LE(s.device.high_water, 4u);
  EXPECT_EQ(s.device.in_use, 0u);
}

TEST_F(gpu_cuda, StagingMemoryIsPinnedAndProducerStagedBatchesArrive) {
  TransferStage stage({.device = sluice::gpu::Device::cuda});
  auto staged = stage.try_stage(1 << 20);
  ASSERT_TRUE(staged);
  EXPECT_EQ(staged->staged_buffer()->memory()->name(), "cuda-pinned");
  EXPECT_EQ(attributes_of(staged->data()).type, cudaMemoryTypeHost) << "not page-locked";
  const auto bytes = gpu_test::pattern(3, 1 << 20);
  std::copy(bytes.begin(), bytes.end(), staged->data());
  gpu_test::Outcomes out(1);
  stage(std::move(*staged), out.completion(0));
  ASSERT_TRUE(out.wait_for(1));
  EXPECT_TRUE(out.ok(0)) << out.error(0);
  EXPECT_EQ(out.checksum_of(0), gpu_test::checksum(bytes));
  EXPECT_EQ(stage.stats().staged_by_producer, 1u);
}

// Forwards copies to a real engine from its own thread, holding them until opened: a copy
// is deterministically in flight (started by the stage, not yet on the device).
class GatedEngine final : public sluice::gpu::CopyEngine {
 public:
  explicit GatedEngine(std::shared_ptr<CopyEngine> inner)
      : inner_(std::move(inner)), thread_([this] { loop(); }) {}
  ~GatedEngine() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = open_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  sluice::gpu::Device device() const noexcept override { return inner_->device(); }
  std::string describe() const override { return inner_->describe(); }
  std::shared_ptr<sluice::gpu::MemoryResource> staging_memory() const override {
    return inner_->staging_memory();
  }
  std::shared_ptr<sluice::gpu::MemoryResource> device_memory() const override {
    return inner_->device_memory();
  }
  void start_copy(void* dst, const void* src, std::size_t bytes, Done done) override {
    std::lock_guard lock(mutex_);
    jobs_.push_back([=, this, done = std::move(done)] {
      try {
        inner_->start_copy(dst, src, bytes, done);
      } catch (...) {
        done(std::current_exception());
      }
    });
    ++started_;
    cv_.notify_all();
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait_started(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return started_ >= n; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return (stopping_ && jobs_.empty()) || (open_ && !jobs_.empty()); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::shared_ptr<CopyEngine> inner_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::size_t started_ = 0;
  bool open_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

TEST_F(gpu_cuda, CancelWithACopyHeldBackReleasesEverything) {
  auto engine =
      std::make_shared<GatedEngine>(sluice::gpu::make_copy_engine(sluice::gpu::Device::cuda));
  TransferStage stage({.engine = engine});
  constexpr std::size_t n = 16;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(std::vector<std::uint8_t>(8 << 20, 1)), out.completion(i, false));
  }
  engine->wait_started(1);
  stage.cancel();
  engine->open();
  ASSERT_TRUE(out.wait_for(n));
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out.error(i), "sluice::gpu: transfer cancelled") << i;
    EXPECT_EQ(out.calls(i), 1) << i;
  }
  const auto s = stage.stats();
  EXPECT_EQ(s.cancelled, n);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
}

}  // namespace
