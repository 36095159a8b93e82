// MemoryResource: where a buffer pool gets its memory from and how its bytes are read back.
//
// The host backend uses aligned host memory for both staging and "device" buffers; the
// CUDA backend uses pinned host memory (cudaHostAlloc) for staging and cudaMalloc memory
// for device buffers, on the stage's CUDA device whatever device the calling thread has
// current. A pool never calls the resource while holding its lock for long: allocation
// happens only when the pool grows.
//
//   auto memory = sluice::gpu::host_memory();
//   void* p = memory->allocate(1 << 20);
//   memory->deallocate(p, 1 << 20);
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <sluice/gpu/device.hpp>

namespace sluice::gpu {

class PooledBuffer;

/// A source of raw buffers. Implementations must be thread-safe.
///
///   BufferPool pool(engine->device_memory(), 4);   // device memory, pooled
///   bool on_gpu = pool.memory()->location() == Device::cuda;
class MemoryResource {
 public:
  virtual ~MemoryResource() = default;

  /// Returns at least `bytes` bytes; throws (std::bad_alloc or std::runtime_error) on failure.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* p, std::size_t bytes) noexcept = 0;

  /// Blocking copy of `bytes` bytes at `src` (memory of this resource) into host memory.
  virtual void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const = 0;

  /// Where the bytes live: Device::cpu (host, pinned or not) or Device::cuda.
  virtual Device location() const noexcept = 0;

  /// A short name for reports: "host", "cuda-pinned", "cuda-device".
  virtual std::string_view name() const noexcept = 0;

  /// The CUDA device the memory is on (device memory) or was allocated for (pinned staging
  /// memory); -1 for plain host memory.
  virtual int cuda_device() const noexcept { return -1; }

  /// Returns `buffer` (memory of this resource) to its pool once the work queued so far on
  /// `stream` — a cudaStream_t, nullptr for the legacy default stream — has finished, without
  /// blocking the caller. Host memory has no stream to wait for: it goes back at once.
  virtual void release_after(PooledBuffer buffer, void* stream) const noexcept;
};

/// Host memory aligned to 4 KiB (page aligned, so copies take the fast path).
/// Shared by every host-backend pool in the process.
std::shared_ptr<MemoryResource> host_memory();

}  // namespace sluice::gpu
