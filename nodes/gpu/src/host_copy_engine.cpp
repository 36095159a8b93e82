// The host backend: a copy into separate host memory, done inline on the calling thread
// (the stage's completion thread), reported through the same Done path as CUDA's.
#include <sluice/gpu/copy_engine.hpp>

#include <cstring>

namespace sluice::gpu {
namespace {

class HostCopyEngine final : public CopyEngine {
 public:
  Device device() const noexcept override { return Device::cpu; }
  std::string describe() const override { return "host"; }
  std::shared_ptr<MemoryResource> staging_memory() const override { return host_memory(); }
  std::shared_ptr<MemoryResource> device_memory() const override { return host_memory(); }

  void start_copy(void* device_dst, const void* staging_src, std::size_t bytes,
                  Done done) override {
    if (bytes) std::memcpy(device_dst, staging_src, bytes);
    done(nullptr);
  }
};

}  // namespace

std::shared_ptr<CopyEngine> make_host_copy_engine() {
  return std::make_shared<HostCopyEngine>();
}

}  // namespace sluice::gpu
