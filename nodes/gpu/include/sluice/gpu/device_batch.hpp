// DeviceBatch: what a transfer stage hands downstream — a batch resident on the device
// (or in host memory on the host backend), owning its buffer. Move-only; the memory goes
// back to the stage's device pool when the batch is released or destroyed, on any thread,
// and the stage's next copy may overwrite it from then on.
//
// What a consumer must do. Kernels run asynchronously: when `launch_training_step`
// returns, the kernel may still be reading the batch, and the stage's copies run on their
// own stream, not ordered after yours. So hand a batch a kernel reads back with
// `release_after(stream)` (the stream the kernel was launched on): the buffer returns to
// the pool only once everything queued on that stream so far has finished, and the caller
// does not wait. Dropping the batch (or release()) is right only when no queued work reads
// it any more (after a cudaStreamSynchronize, or when only host code read it).
//
//   for (sluice::gpu::DeviceBatch& batch : consumer) {
//     launch_training_step(batch.data(), batch.size(), batch.shape(), stream);
//     batch.release_after(stream);        // reused only after the kernel is done with it
//   }
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
  /// The CUDA device the bytes are on; -1 on the host backend (and for an empty batch).
  int cuda_device() const noexcept { return buffer_.empty() ? -1 : cuda_device_; }
  bool empty() const noexcept { return buffer_.empty(); }

  /// Copies the bytes back into host memory (blocking; cudaMemcpy on the CUDA backend).
  /// For checks on the consumer side and in tests, not for the hot path.
  std::vector<std::uint8_t> to_host() const;

  /// Returns the memory to its pool now: only when no queued GPU work reads it any more.
  void release() noexcept { buffer_.release(); }

  /// Returns the memory to its pool once the work queued so far on `stream` (the
  /// consumer's cudaStream_t; nullptr is the legacy default stream) has finished. Never
  /// blocks; the batch is empty afterwards. On the host backend the memory returns at once.
  ///
  ///   my_kernel<<<grid, block, 0, stream>>>(static_cast<float*>(batch.data()), n);
  ///   batch.release_after(stream);
  void release_after(void* stream) noexcept;

 private:
  PooledBuffer buffer_;
  int cuda_device_ = -1;
  std::size_t size_ = 0;
  std::vector<std::int64_t> shape_;
};

}  // namespace sluice::gpu
