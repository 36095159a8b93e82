// BufferPool: bounded, reusing, never blocking, and safe when buffers outlive the pool.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu/buffer_pool.hpp>

namespace {

using sluice::gpu::BufferPool;
using sluice::gpu::PooledBuffer;

// Host memory that counts what is outstanding and can be told to fail.
class CountingMemory final : public sluice::gpu::MemoryResource {
 public:
  void* allocate(std::size_t bytes) override {
    if (fail) throw std::runtime_error("out of test memory");
    ++outstanding;
    return sluice::gpu::host_memory()->allocate(bytes);
  }
  void deallocate(void* p, std::size_t bytes) noexcept override {
    --outstanding;
    sluice::gpu::host_memory()->deallocate(p, bytes);
  }
  void copy_to_host(void* dst, const void* src, std::size_t bytes) const override {
    sluice::gpu::host_memory()->copy_to_host(dst, src, bytes);
  }
  sluice::gpu::Device location() const noexcept override { return sluice::gpu::Device::cpu; }
  std::string_view name() const noexcept override { return "counting"; }

  std::atomic<int> outstanding{0};
  bool fail = false;
};

TEST(gpu_buffer_pool, SizeClassesRoundUpByAtMostAnEighth) {
  EXPECT_EQ(BufferPool::size_class(0), 4096u);
  EXPECT_EQ(BufferPool::size_class(1), 4096u);
  EXPECT_EQ(BufferPool::size_class(4096), 4096u);
  for (std::size_t n :
       {4097ul, 65535ul, 100000ul, 1ul << 20, (1ul << 20) + 1, 3000000ul, (256ul << 20) - 7}) {
    const std::size_t c = BufferPool::size_class(n);
    EXPECT_GE(c, n);
    EXPECT_LE(c - n, n / 8 + 4096) << n;
    EXPECT_EQ(BufferPool::size_class(c), c) << "a size class is its own class";
  }
}

TEST(gpu_buffer_pool, ReturnsNothingWhenExhaustedAndReusesWhatComesBack) {
  BufferPool pool(sluice::gpu::host_memory(), 2);
  auto a = pool.try_acquire(1000);
  auto b = pool.try_acquire(1000);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->data(), b->data());
  EXPECT_FALSE(pool.try_acquire(10)) << "a full pool must not block or grow";
  EXPECT_EQ(pool.stats().misses, 1u);

  void* reused = a->data();
  a->release();
  auto c = pool.try_acquire(1000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data(), reused);

  const auto s = pool.stats();
  EXPECT_EQ(s.capacity, 2u);
  EXPECT_EQ(s.in_use, 2u);
  EXPECT_EQ(s.high_water, 2u);
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.reuses, 1u);
}

TEST(gpu_buffer_pool, PicksTheSmallestIdleBufferThatFits) {
  BufferPool pool(sluice::gpu::host_memory(), 3);
  auto small = pool.try_acquire(4096);
  auto medium = pool.try_acquire(64 << 10);
  auto large = pool.try_acquire(1 << 20);
  void* medium_ptr = medium->data();
  small->release();
  medium->release();
  large->release();
  auto got = pool.try_acquire(10000);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data(), medium_ptr);
  EXPECT_GE(got->capacity(), 10000u);
}

TEST(gpu_buffer_pool, ReplacesAnIdleBufferTooSmallInsteadOfGrowingPastCapacity) {
  auto memory = std::make_shared<CountingMemory>();
  BufferPool pool(memory, 2);
  pool.try_acquire(4096)->release();
  pool.try_acquire(4096);  // the same buffer again (released at once)
  auto keep = pool.try_acquire(4096);
  auto other = pool.try_acquire(4096);
  ASSERT_TRUE(keep && other);
  other->release();
  auto big = pool.try_acquire(1 << 20);  // idle one too small, pool full: replace it
  ASSERT_TRUE(big);
  EXPECT_GE(big->capacity(), 1u << 20);
  const auto s = pool.stats();
  EXPECT_EQ(s.in_use + s.idle, 2u);
  EXPECT_EQ(memory->outstanding.load(), 2);
  EXPECT_EQ(s.allocations, 3u);
}

TEST(gpu_buffer_pool, StaysBoundedUnderConcurrentUse) {
  auto memory = std::make_shared<CountingMemory>();
  BufferPool pool(memory, 3);
  std::atomic<int> acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (auto b = pool.try_acquire(4096 * (1 + (i + t) % 5))) {
          static_cast<char*>(b->data())[0] = 1;
          ++acquired;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto s = pool.stats();
  EXPECT_LE(s.high_water, 3u);
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_LE(s.idle, 3u);
  EXPECT_LE(memory->outstanding.load(), 3);
  EXPECT_EQ(s.allocations + s.reuses, static_cast<std::uint64_t>(acquired.load()));
  EXPECT_GT(s.reuses, 0u);
}

TEST(gpu_buffer_pool, CallsTheReleaseListenerOnTheReleasingThread) {
  BufferPool pool(sluice::gpu::host_memory(), 1);
  std::atomic<int> calls{0};
  std::thread::id caller;
  pool.set_release_listener([&] {
    caller = std::this_thread::get_id();
    ++calls;
  });
  auto b = pool.try_acquire(100);
  std::thread t([buffer = std::move(*b)]() mutable { buffer.release(); });
  const auto releaser = t.get_id();
  t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(caller, releaser);
  pool.set_release_listener({});
  pool.try_acquire(100);
  EXPECT_EQ(calls.load(), 1);
}

TEST(gpu_buffer_pool, BuffersOutliveThePoolHandle) {
  auto memory = std::make_shared<CountingMemory>();
  std::optional<PooledBuffer> survivor;
  {
    BufferPool pool(memory, 2);
    survivor = pool.try_acquire(5000);
    pool.try_acquire(5000);  // idle when the pool handle goes
  }
  EXPECT_EQ(memory->outstanding.load(), 2);
  static_cast<char*>(survivor->data())[4999] = 7;
  survivor.reset();
  EXPECT_EQ(memory->outstanding.load(), 0) << "the last buffer back frees the pool's memory";
}

TEST(gpu_buffer_pool, MoveTransfersOwnership) {
  BufferPool pool(sluice::gpu::host_memory(), 2);
  PooledBuffer a = std::move(*pool.try_acquire(100));
  void* p = a.data();
  PooledBuffer b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.data(), p);
  EXPECT_TRUE(pool.owns(b));
  EXPECT_FALSE(pool.owns(a));
  PooledBuffer c = std::move(*pool.try_acquire(100));
  c = std::move(b);  // c's old buffer goes back
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(pool.stats().in_use, 1u);
  EXPECT_EQ(c.memory()->name(), "host");
}

TEST(gpu_buffer_pool, TrimFreesIdleBuffers) {
  auto memory = std::make_shared<CountingMemory>();
  BufferPool pool(memory, 2);
  auto held = pool.try_acquire(100);
  pool.try_acquire(100);
  pool.trim();
  EXPECT_EQ(memory->outstanding.load(), 1);
  EXPECT_EQ(pool.stats().bytes_held, held->capacity());
}

TEST(gpu_buffer_pool, AllocationFailureLeavesThePoolConsistent) {
  auto memory = std::make_shared<CountingMemory>();
  BufferPool pool(memory, 1);
  memory->fail = true;
  EXPECT_THROW(pool.try_acquire(100), std::runtime_error);
  memory->fail = false;
  auto b = pool.try_acquire(100);
  ASSERT_TRUE(b) << "the failed allocation must not keep its slot";
  EXPECT_EQ(pool.stats().in_use, 1u);
}

TEST(gpu_buffer_pool, RejectsAZeroCapacity) {
  EXPECT_THROW(BufferPool(sluice::gpu::host_memory(), 0), std::invalid_argument);
  EXPECT_THROW(BufferPool(nullptr, 1), std::invalid_argument);
}

}  // namespace
