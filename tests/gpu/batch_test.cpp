// HostBatch and DeviceBatch: ownership of their bytes.
#include <cstring>
#include <stdexcept>

#include <gtest/gtest.h>

#include <sluice/gpu/device_batch.hpp>
#include <sluice/gpu/host_batch.hpp>

namespace {

using sluice::gpu::BufferPool;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;

TEST(gpu_host_batch, HoldsAVectorAndItsShape) {
  std::vector<std::uint8_t> bytes{1, 2, 3};
  const std::uint8_t* where = bytes.data();
  HostBatch b(std::move(bytes), {1, 3});
  EXPECT_EQ(b.data(), where) << "the vector is taken over, not copied";
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.bytes()[2], 3);
  EXPECT_EQ(b.shape(), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(b.staged_buffer(), nullptr);
}

TEST(gpu_host_batch, CopiesShareTheBytesAndAMoveEmpties) {
  HostBatch b(std::vector<std::uint8_t>(1000, 1));
  HostBatch copy = b;
  EXPECT_EQ(copy.data(), b.data());
  HostBatch moved = std::move(b);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.data(), nullptr);
  b = HostBatch();  // a moved-from batch can be reassigned
  copy = HostBatch();
  EXPECT_EQ(moved.bytes()[999], 1) << "the last holder keeps the bytes";
}

TEST(gpu_host_batch, CopiesOfAStagedBatchShareTheBufferUntilTheLastGoes) {
  BufferPool pool(sluice::gpu::host_memory(), 1);
  {
    HostBatch staged(std::move(*pool.try_acquire(10)), 10);
    std::memset(staged.data(), 5, 10);
    HostBatch copy = staged;
    EXPECT_EQ(copy.data(), staged.data());
    staged = HostBatch();
    EXPECT_EQ(pool.stats().in_use, 1u);
    EXPECT_EQ(copy.bytes()[9], 5);
  }
  EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(gpu_host_batch, RejectsASizeLargerThanItsBuffer) {
  BufferPool pool(sluice::gpu::host_memory(), 1);
  auto buffer = pool.try_acquire(10);
  const std::size_t too_big = buffer->capacity() + 1;
  EXPECT_THROW(HostBatch(std::move(*buffer), too_big), std::invalid_argument);
  EXPECT_EQ(pool.stats().in_use, 0u) << "the buffer goes back when the batch is refused";
}

TEST(gpu_device_batch, ReadsBackAndReturnsItsBuffer) {
  BufferPool pool(sluice::gpu::host_memory(), 1);
  auto buffer = pool.try_acquire(4);
  std::memcpy(buffer->data(), "abcd", 4);
  DeviceBatch batch(std::move(*buffer), 4, {2, 2});
  EXPECT_EQ(batch.location(), sluice::gpu::Device::cpu);
  EXPECT_EQ(batch.to_host(), (std::vector<std::uint8_t>{'a', 'b', 'c', 'd'}));
  EXPECT_EQ(batch.shape(), (std::vector<std::int64_t>{2, 2}));
  DeviceBatch moved = std::move(batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(moved.size(), 4u);
  moved.release();
  EXPECT_EQ(pool.stats().in_use, 0u);
  EXPECT_TRUE(moved.to_host().empty());
}

}  // namespace
