#include <sluice/gpu/host_batch.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::gpu {

HostBatch::HostBatch(std::vector<std::uint8_t> bytes, std::vector<std::int64_t> shape)
    : shape_(std::move(shape)) {
  auto owned = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
  data_ = owned->data();
  size_ = owned->size();
  owner_ = std::move(owned);
}

HostBatch::HostBatch(PooledBuffer buffer, std::size_t size, std::vector<std::int64_t> shape)
    : size_(size), shape_(std::move(shape)) {
  if (size > buffer.capacity()) {
    throw std::invalid_argument("sluice::gpu::HostBatch: " + std::to_string(size) +
                                " bytes do not fit a buffer of " +
                                std::to_string(buffer.capacity()));
  }
  auto staged = std::make_shared<PooledBuffer>(std::move(buffer));
  data_ = static_cast<std::uint8_t*>(staged->data());
  staged_ = staged.get();
  owner_ = std::move(staged);
}

HostBatch::HostBatch(HostBatch&& other) noexcept
    : owner_(std::move(other.owner_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      staged_(std::exchange(other.staged_, nullptr)),
      shape_(std::move(other.shape_)) {}

HostBatch& HostBatch::operator=(HostBatch&& other) noexcept {
  if (this != &other) {
    owner_ = std::move(other.owner_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    staged_ = std::exchange(other.staged_, nullptr);
    shape_ = std::move(other.shape_);
  }
  return *this;
}

}  // namespace sluice::gpu
