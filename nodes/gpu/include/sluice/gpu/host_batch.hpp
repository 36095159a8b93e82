// HostBatch: the bytes a transfer stage copies to the device, with an optional shape that
// travels along to the DeviceBatch (e.g. {batch, height, width, channels}).
//
// A batch either holds an ordinary vector (the stage copies it into pinned staging memory
// first) or is already staged: built on a buffer the stage lent (TransferStage::try_stage),
// so the producer writes straight into pinned memory and the stage skips that copy.
//
//   sluice::gpu::HostBatch batch(std::move(pixels), {n, 224, 224, 3});
//
//   if (auto staged = stage.try_stage(bytes, {n, 224, 224, 3})) {   // zero-copy path
//     fill(staged->data(), bytes);
//     batch = std::move(*staged);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <sluice/gpu/buffer_pool.hpp>

namespace sluice::gpu {

/// Bytes for one transfer plus their shape; copies share the bytes.
///
///   HostBatch batch(std::vector<std::uint8_t>(n * 224 * 224 * 3), {n, 224, 224, 3});
///   std::memcpy(batch.data(), pixels, batch.size());
class HostBatch {
 public:
  HostBatch() = default;

  /// A batch owning ordinary (pageable) memory.
  explicit HostBatch(std::vector<std::uint8_t> bytes, std::vector<std::int64_t> shape = {});

  /// A batch on a pooled (staging) buffer; `size` bytes of it are the payload.
  /// Throws std::invalid_argument when `size` exceeds the buffer's capacity.
  HostBatch(PooledBuffer buffer, std::size_t size, std::vector<std::int64_t> shape = {});

  // Copies share the bytes, like a shared_ptr: passing a batch through flow-graph nodes
  // (which copy messages) never copies a payload, and a staged buffer returns to its pool
  // when the last copy is gone. Fill a batch before handing it on, not after.
  HostBatch(const HostBatch&) = default;
  HostBatch& operator=(const HostBatch&) = default;
  /// A moved-from batch is empty.
  HostBatch(HostBatch&& other) noexcept;
  HostBatch& operator=(HostBatch&& other) noexcept;
  ~HostBatch() = default;

  std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<std::uint8_t> bytes() const noexcept { return {data_, size_}; }

  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  void set_shape(std::vector<std::int64_t> shape) { shape_ = std::move(shape); }

  /// The pooled buffer under a staged batch; nullptr for one on ordinary memory.
  const PooledBuffer* staged_buffer() const noexcept { return staged_; }

 private:
  std::shared_ptr<void> owner_;  // the vector or the PooledBuffer holding the bytes
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  const PooledBuffer* staged_ = nullptr;
  std::vector<std::int64_t> shape_;
};

}  // namespace sluice::gpu
