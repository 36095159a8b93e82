#include <sluice/gpu/device_batch.hpp>

#include <stdexcept>
#include <string>

namespace sluice::gpu {

DeviceBatch::DeviceBatch(PooledBuffer buffer, std::size_t size, std::vector<std::int64_t> shape)
    : buffer_(std::move(buffer)),
      cuda_device_(buffer_.memory() ? buffer_.memory()->cuda_device() : -1),
      size_(size),
      shape_(std::move(shape)) {
  if (size > buffer_.capacity()) {
    throw std::invalid_argument("sluice::gpu::DeviceBatch: " + std::to_string(size) +
                                " bytes do not fit a buffer of " +
                                std::to_string(buffer_.capacity()));
  }
}

Device DeviceBatch::location() const noexcept {
  const MemoryResource* memory = buffer_.memory();
  return memory ? memory->location() : Device::cpu;
}

void DeviceBatch::release_after(void* stream) noexcept {
  if (buffer_.empty()) return;
  const MemoryResource* memory = buffer_.memory();
  if (memory == nullptr) {
    buffer_.release();
    return;
  }
  memory->release_after(std::move(buffer_), stream);
}

std::vector<std::uint8_t> DeviceBatch::to_host() const {
  std::vector<std::uint8_t> out(size());
  if (!out.empty()) buffer_.memory()->copy_to_host(out.data(), buffer_.data(), out.size());
  return out;
}

}  // namespace sluice::gpu
