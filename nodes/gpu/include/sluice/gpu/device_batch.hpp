// DeviceBatch: what a transfer stage hands downstream — a batch resident on the device
// (or in host memory on the host backend), owning its buffer. Move-only; the memory goes
// back to the stage's device pool when the batch is released or destroyed, on any thread.
//
//   for (sluice::gpu::DeviceBatch& batch : consumer) {
//     launch_training_step(batch.data(), batch.size(), batch.shape());   // device pointer
//   }                                     // each batch returns its buffer here
//
//   std::vector<std::uint8_t> back = batch.to_host();   // blocking read-back, for checks
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <sluice/gpu/buffer_pool.hpp>
#include <sluice/gpu/device.hpp>

namespace sluice::gpu {

/// A transferred batch that owns its device buffer. Move-only.
///
///   DeviceBatch batch = std::move(*outcome.value);
///   if (batch.location() == Device::cuda) run_kernel(batch.data(), batch.size());
class DeviceBatch {
 public:
  DeviceBatch() = default;

  /// Wraps `size` bytes of a pooled buffer. Throws std::invalid_argument when `size`
  /// exceeds the buffer's capacity.
  DeviceBatch(PooledBuffer buffer, std::size_t size, std::vector<std::int64_t> shape = {});

  DeviceBatch(DeviceBatch&&) noexcept = default;
  DeviceBatch& operator=(DeviceBatch&&) noexcept = default;
  DeviceBatch(const DeviceBatch&) = delete;
  DeviceBatch& operator=(const DeviceBatch&) = delete;

  /// The bytes: a CUDA device pointer when location() is Device::cuda, a host pointer
  /// when it is Device::cpu.
  void* data() const noexcept { return buffer_.data(); }
  std::size_t size() const noexcept { return buffer_.empty() ? 0 : size_; }
  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  Device location() const noexcept;
  bool empty() const noexcept { return buffer_.empty(); }

  /// Copies the bytes back into host memory (blocking; cudaMemcpy on the CUDA backend).
  /// For checks on the consumer side and in tests, not for the hot path.
  std::vector<std::uint8_t> to_host() const;

  /// Returns the memory to its pool now.
  void release() noexcept { buffer_.release(); }

 private:
  PooledBuffer buffer_;
  std::size_t size_ = 0;
  std::vector<std::int64_t> shape_;
};

}  // namespace sluice::gpu
