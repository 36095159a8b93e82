// BufferPool: a bounded, non-blocking pool of reusable buffers, and PooledBuffer, the
// move-only handle that returns its memory to the pool when it is released or destroyed.
//
// A pool holds at most `capacity` buffers (leased plus idle). `try_acquire` never blocks:
// when every buffer is leased it returns nullopt, and the caller queues its work and tries
// again when the release listener says a buffer came back. That is how the transfer stage
// bounds memory without ever parking a worker thread.
//
//   sluice::gpu::BufferPool pool(sluice::gpu::host_memory(), /*capacity=*/2);
//   if (auto buffer = pool.try_acquire(4096)) {
//     std::memset(buffer->data(), 0, 4096);
//   }                                        // back in the pool here
//   assert(pool.stats().in_use == 0 && pool.stats().high_water == 1);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <sluice/gpu/memory_resource.hpp>

namespace sluice::gpu {

namespace detail {
class PoolState;
}

/// What a pool did so far, and what it holds now.
///
///   PoolStats s = pool.stats();
///   std::printf("%zu/%zu in use, peak %zu, %llu reuses\n", s.in_use, s.capacity,
///               s.high_water, static_cast<unsigned long long>(s.reuses));
struct PoolStats {
  std::size_t capacity = 0;       ///< most buffers the pool ever holds (leased + idle)
  std::size_t in_use = 0;         ///< buffers leased out now
  std::size_t idle = 0;           ///< buffers allocated and waiting for reuse
  std::size_t high_water = 0;     ///< most buffers leased out at once
  std::size_t bytes_held = 0;     ///< bytes allocated now (leased + idle)
  std::uint64_t allocations = 0;  ///< buffers allocated from the memory resource
  std::uint64_t reuses = 0;       ///< leases served by an idle buffer
  std::uint64_t misses = 0;       ///< try_acquire calls that found the pool exhausted
};

/// A buffer leased from a BufferPool. Move-only; returns to its pool on release() or
/// destruction, from any thread, even after every BufferPool handle is gone.
///
///   PooledBuffer b = *pool.try_acquire(n);
///   std::memcpy(b.data(), src, n);
///   b.release();                       // or let it go out of scope
class PooledBuffer {
 public:
  PooledBuffer() = default;
  PooledBuffer(PooledBuffer&& other) noexcept;
  PooledBuffer& operator=(PooledBuffer&& other) noexcept;
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;
  ~PooledBuffer();

  /// The memory (device memory for a device pool); nullptr when empty.
  void* data() const noexcept { return data_; }
  /// Usable bytes: at least what was asked for (pools round sizes up so buffers fit reuse).
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return data_ == nullptr; }
  explicit operator bool() const noexcept { return data_ != nullptr; }

  /// The resource the memory came from (to read it back, or to know where it lives).
  const MemoryResource* memory() const noexcept;

  /// Returns the memory to the pool now; the handle becomes empty.
  void release() noexcept;

 private:
  friend class BufferPool;
  PooledBuffer(std::shared_ptr<detail::PoolState> pool, void* data, std::size_t capacity) noexcept
      : pool_(std::move(pool)), data_(data), capacity_(capacity) {}

  std::shared_ptr<detail::PoolState> pool_;
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/// The pool. Copies of a BufferPool share one pool. Thread-safe.
///
///   BufferPool pool(host_memory(), 2);
///   pool.set_release_listener([&] { wake_waiting_work(); });
///   std::optional<PooledBuffer> b = pool.try_acquire(1 << 20);   // nullopt: queue, retry
class BufferPool {
 public:
  /// `capacity` (at least 1) bounds the number of buffers, leased and idle together.
  BufferPool(std::shared_ptr<MemoryResource> memory, std::size_t capacity);

  /// A buffer of at least `bytes` bytes, or nullopt when all `capacity` buffers are leased.
  /// Reuses the smallest idle buffer that fits; otherwise allocates (replacing an idle
  /// buffer that is too small when the pool is full). Never blocks on other leases;
  /// throws only when the memory resource fails.
  std::optional<PooledBuffer> try_acquire(std::size_t bytes);

  /// Called (outside the pool's lock, on the releasing thread) each time a buffer comes
  /// back. One listener per pool; an empty function removes it. Keep it short.
  void set_release_listener(std::function<void()> listener);

  /// Frees the idle buffers now (leased ones stay, and are kept for reuse when they return).
  void trim() noexcept;

  /// True when `buffer` was leased from this pool.
  bool owns(const PooledBuffer& buffer) const noexcept;

  PoolStats stats() const;
  std::size_t capacity() const noexcept;
  const std::shared_ptr<MemoryResource>& memory() const noexcept;

  /// The size a request for `bytes` is rounded up to: steps of 1/8 of a power of two (at
  /// least 4 KiB), so batches of similar sizes share buffers and waste stays under 12.5%.
  static std::size_t size_class(std::size_t bytes) noexcept;

 private:
  std::shared_ptr<detail::PoolState> state_;
};

}  // namespace sluice::gpu
