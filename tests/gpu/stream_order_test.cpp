// Stream-ordered hand-back on the host backend: a batch released with release_after(stream)
// stays out of the pool until that stream's work is done, so the next copy cannot overwrite
// it while a "kernel" still reads it. The stream here is a test stand-in whose work ends
// when the test says so; gpu_cuda_test does the same with a real stream and kernel.
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::PooledBuffer;
using sluice::gpu::TransferStage;

// A stream whose queued work is one "kernel": it reads the buffers it was given when the
// test finishes it, then runs what was queued after it (the hand-backs).
class FakeStream {
 public:
  void read_later(const DeviceBatch& batch) {
    std::lock_guard lock(mutex_);
    reads_.push_back({batch.data(), batch.size()});
  }
  void enqueue(std::function<void()> after) {
    std::lock_guard lock(mutex_);
    after_.push_back(std::move(after));
  }
  /// The kernel runs now: checksums of what it reads, then the work queued after it.
  std::vector<std::uint64_t> finish() {
    std::vector<std::uint64_t> sums;
    std::vector<std::function<void()>> after;
    {
      std::lock_guard lock(mutex_);
      for (auto [p, n] : reads_)
        sums.push_back(gpu_test::checksum(static_cast<std::uint8_t*>(p), n));
      after.swap(after_);
    }
    for (auto& f : after) f();
    return sums;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<void*, std::size_t>> reads_;
  std::vector<std::function<void()>> after_;
};

// Host memory whose release_after waits for a FakeStream, as the CUDA backend waits for an
// event recorded on the consumer's stream.
class StreamOrderedMemory final : public sluice::gpu::MemoryResource {
 public:
  void* allocate(std::size_t bytes) override { return host_->allocate(bytes); }
  void deallocate(void* p, std::size_t bytes) noexcept override { host_->deallocate(p, bytes); }
  void copy_to_host(void* dst, const void* src, std::size_t bytes) const override {
    host_->copy_to_host(dst, src, bytes);
  }
  sluice::gpu::Device location() const noexcept override { return sluice::gpu::Device::cpu; }
  std::string_view name() const noexcept override { return "stream-ordered test memory"; }
  void release_after(PooledBuffer buffer, void* stream) const noexcept override {
    auto held = std::make_shared<PooledBuffer>(std::move(buffer));
    static_cast<FakeStream*>(stream)->enqueue([held] { held->release(); });
  }

 private:
  std::shared_ptr<sluice::gpu::MemoryResource> host_ = sluice::gpu::host_memory();
};

TEST(gpu_stream_order, AReleasedBatchComesBackOnlyAfterTheStreamsWork) {
  auto engine =
      std::make_shared<gpu_test::ThreadedCopyEngine>(std::make_shared<StreamOrderedMemory>());
  TransferStage stage({.device_buffers = 1, .engine = engine});
  constexpr std::size_t bytes = 64 << 10;

  gpu_test::Outcomes first(1);
  stage(HostBatch(gpu_test::pattern(1, bytes)), first.completion(0, false, true));
  ASSERT_TRUE(first.wait_for(1));
  std::unique_ptr<DeviceBatch> a = first.take(0);
  ASSERT_TRUE(a) << first.error(0);

  FakeStream stream;
  stream.read_later(*a);  // the consumer's kernel, still to run on `stream`
  a->release_after(&stream);
  EXPECT_TRUE(a->empty());
  EXPECT_EQ(stage.stats().device.in_use, 1u) << "back in the pool before the kernel ran";

  // The next transfer needs that buffer: it may only be copied after the kernel's read.
  gpu_test::Outcomes second(1);
  stage(HostBatch(gpu_test::pattern(2, bytes)), second.completion(0));
  const std::vector<std::uint64_t> read = stream.finish();
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0], gpu_test::checksum(gpu_test::pattern(1, bytes)))
      << "the kernel read bytes of a later batch";
  ASSERT_TRUE(second.wait_for(1));
  EXPECT_EQ(second.checksum_of(0), gpu_test::checksum(gpu_test::pattern(2, bytes)));
  stage.wait_idle();
  const auto s = stage.stats();
  EXPECT_EQ(s.device.allocations, 1u);
  EXPECT_EQ(s.device.reuses, 1u);
}

TEST(gpu_stream_order, OnTheHostBackendReleaseAfterReturnsTheBufferAtOnce) {
  TransferStage stage({.device = sluice::gpu::Device::cpu, .device_buffers = 1});
  gpu_test::Outcomes done(1);
  stage(HostBatch(gpu_test::pattern(3, 1000)), done.completion(0, false, true));
  ASSERT_TRUE(done.wait_for(1));
  std::unique_ptr<DeviceBatch> a = done.take(0);
  ASSERT_TRUE(a) << done.error(0);
  EXPECT_EQ(a->cuda_device(), -1);
  a->release_after(nullptr);
  EXPECT_TRUE(a->empty());
  EXPECT_EQ(stage.stats().device.in_use, 0u);
}

}  // namespace
