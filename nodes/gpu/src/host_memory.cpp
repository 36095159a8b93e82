// The host backend's memory: page-aligned host allocations.
#include <sluice/gpu/memory_resource.hpp>

#include <sluice/gpu/buffer_pool.hpp>

#include <cstring>
#include <new>

namespace sluice::gpu {
namespace {

class HostMemory final : public MemoryResource {
 public:
  static constexpr std::align_val_t alignment{4096};

  void* allocate(std::size_t bytes) override { return ::operator new(bytes, alignment); }
  void deallocate(void* p, std::size_t bytes) noexcept override {
    ::operator delete(p, bytes, alignment);
  }
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const override {
    if (bytes) std::memcpy(host_dst, src, bytes);
  }
  Device location() const noexcept override { return Device::cpu; }
  std::string_view name() const noexcept override { return "host"; }
};

}  // namespace

void MemoryResource::release_after(PooledBuffer buffer, void* /*stream*/) const noexcept {
  buffer.release();
}

std::shared_ptr<MemoryResource> host_memory() {
  static const auto memory = std::make_shared<HostMemory>();
  return memory;
}

}  // namespace sluice::gpu
