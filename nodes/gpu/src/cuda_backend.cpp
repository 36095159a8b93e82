// The CUDA backend: pinned staging memory, cudaMalloc device memory, and copies enqueued
// with cudaMemcpyAsync on one dedicated stream.
//
// Runtime API only (no kernels), compiled as plain C++ against cudart_static. On a machine
// without a GPU or driver, cudaGetDeviceCount fails and probe_cuda() reports no device.
//
// How a copy is reported: an event recorded after it, waited for by an EventWaiter, which
// passes on the event's status. A copy that fails on the device — or any sticky error of
// the context, e.g. a user's kernel touching an illegal address — reaches the stage as a
// DeviceFault with the CUDA error text, so the stage can fail its work and shut down
// instead of waiting for a report that never comes.
//
// Devices: every call that needs one runs under a ScopedDevice for the stage's device, so
// a caller's thread keeps the device (or the absence of one) it had, and nothing creates a
// context on another device.
#include <sluice/gpu/buffer_pool.hpp>

#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "cuda_backend.hpp"
#include "cuda_event_waiter.hpp"
#include "cuda_runtime_support.hpp"

namespace sluice::gpu::detail {
namespace {

// Host memory the DMA engine can read directly; portable so any context can use it,
// allocated with the stage's device current so no other device gets a context for it.
class PinnedMemory final : public MemoryResource {
 public:
  explicit PinnedMemory(int device) : device_(device) {}

  void* allocate(std::size_t bytes) override {
    const ScopedDevice on(device_);
    check(on.status(), "cudaSetDevice");
    void* p = nullptr;
    check(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc");
    return p;
  }
  void deallocate(void* p, std::size_t /*bytes*/) noexcept override {
    const ScopedDevice on(device_);
    // Fails only at process teardown (cudart already unloaded) or after a sticky error.
    if (cudaFreeHost(p) != cudaSuccess) (void)cudaGetLastError();
  }
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const override {
    if (bytes) std::memcpy(host_dst, src, bytes);  // host memory: no CUDA call needed
  }
  Device location() const noexcept override { return Device::cpu; }
  std::string_view name() const noexcept override { return "cuda-pinned"; }
  int cuda_device() const noexcept override { return device_; }

 private:
  int device_;
};

class DeviceMemory final : public MemoryResource {
 public:
  explicit DeviceMemory(int device) : device_(device), releases_(device) {}

  void* allocate(std::size_t bytes) override {
    const ScopedDevice on(device_);
    check(on.status(), "cudaSetDevice");
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void deallocate(void* p, std::size_t /*bytes*/) noexcept override {
    const ScopedDevice on(device_);
    if (cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
  }
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const override {
    const ScopedDevice on(device_);
    check(on.status(), "cudaSetDevice");
    check(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }
  Device location() const noexcept override { return Device::cuda; }
  std::string_view name() const noexcept override { return "cuda-device"; }
  int cuda_device() const noexcept override { return device_; }

  // An event recorded on the consumer's stream; the buffer goes back when it completes (or
  // fails: after a sticky error no kernel reads anything any more).
  void release_after(PooledBuffer buffer, void* stream) const noexcept override {
    const auto s = static_cast<cudaStream_t>(stream);
    std::shared_ptr<PooledBuffer> held;
    try {
      held = std::make_shared<PooledBuffer>(std::move(buffer));
      const ScopedDevice on(device_);
      check(on.status(), "cudaSetDevice");
      EventWaiter::Entry entry = releases_.prepare([held](cudaError_t) { held->release(); });
      if (cudaEventRecord(entry.event(), s) == cudaSuccess) {
        releases_.add(std::move(entry));
        return;
      }
      (void)cudaGetLastError();
      releases_.discard(std::move(entry));
    } catch (...) {
      // No event: fall through to waiting here, the only safe way left.
    }
    if (cudaStreamSynchronize(s) != cudaSuccess) (void)cudaGetLastError();
    if (held) {
      held->release();
    } else {
      buffer.release();
    }
  }

 private:
  int device_;
  mutable EventWaiter releases_;
};

class CudaCopyEngine final : public CopyEngine {
 public:
  explicit CudaCopyEngine(int device) : device_(device) {
    const ScopedDevice on(device_);
    check(on.status(), ("cudaSetDevice(" + std::to_string(device_) + ")").c_str());
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
    name_ = "cuda:" + std::to_string(device_) + " " + prop.name;
    // Non-blocking: the stage's copies never serialise with the legacy default stream,
    // which user code elsewhere in the process may be using.
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    try {
      pinned_ = std::make_shared<PinnedMemory>(device_);
      memory_ = std::make_shared<DeviceMemory>(device_);
      copies_ = std::make_unique<EventWaiter>(device_);
    } catch (...) {
      (void)cudaStreamDestroy(stream_);
      throw;
    }
  }

  ~CudaCopyEngine() override {
    copies_.reset();  // every started copy has reported (its event completed or failed)
    const ScopedDevice on(device_);
    if (cudaStreamDestroy(stream_) != cudaSuccess) (void)cudaGetLastError();
  }

  CudaCopyEngine(const CudaCopyEngine&) = delete;
  CudaCopyEngine& operator=(const CudaCopyEngine&) = delete;

  Device device() const noexcept override { return Device::cuda; }
  std::string describe() const override { return name_; }
  std::shared_ptr<MemoryResource> staging_memory() const override { return pinned_; }
  std::shared_ptr<MemoryResource> device_memory() const override { return memory_; }

  void start_copy(void* device_dst, const void* staging_src, std::size_t bytes,
                  Done done) override {
    const ScopedDevice on(device_);
    check(on.status(), "cudaSetDevice");
    // Everything that allocates happens before the copy is queued: a bad_alloc after it
    // would let the stage reuse the staging buffer while the DMA still reads it.
    EventWaiter::Entry entry =
        copies_->prepare([done = std::move(done), name = name_](cudaError_t status) {
          if (status == cudaSuccess) {
            done(nullptr);
          } else {
            done(std::make_exception_ptr(DeviceFault("sluice::gpu: copy to " + name +
                                                     " failed: " + describe_error(status))));
          }
        });
    if (cudaError_t err =
            cudaMemcpyAsync(device_dst, staging_src, bytes, cudaMemcpyHostToDevice, stream_);
        err != cudaSuccess) {
      copies_->discard(std::move(entry));
      check(err, "cudaMemcpyAsync");
    }
    if (cudaError_t err = cudaEventRecord(entry.event(), stream_); err != cudaSuccess) {
      copies_->discard(std::move(entry));
      // The copy is queued but cannot be watched: wait for it here, so the buffers can be
      // released safely, and report the failure.
      (void)cudaGetLastError();
      if (cudaError_t sync = cudaStreamSynchronize(stream_); sync != cudaSuccess) {
        check(sync, "cudaStreamSynchronize");
      }
      check(err, "cudaEventRecord");
    }
    copies_->add(std::move(entry));
  }

 private:
  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  std::shared_ptr<PinnedMemory> pinned_;
  std::shared_ptr<DeviceMemory> memory_;
  std::unique_ptr<EventWaiter> copies_;
};

}  // namespace

const CudaProbe& probe_cuda() noexcept {
  static const CudaProbe probe = [] {
    CudaProbe p;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();  // do not leave the failure for the next call to find
      p.reason = "cudaGetDeviceCount: " + describe_error(err);
    } else if (count == 0) {
      p.reason = "cudaGetDeviceCount found no device";
    } else {
      p.devices = count;
    }
    return p;
  }();
  return probe;
}

std::shared_ptr<CopyEngine> make_cuda_copy_engine(int device) {
  if (device < 0) {
    // The caller's current device, as any CUDA code on this thread would use.
    check(cudaGetDevice(&device), "cudaGetDevice");
  }
  const int count = probe_cuda().devices;
  if (device >= count) {
    throw std::runtime_error("sluice::gpu: CUDA device " + std::to_string(device) +
                             " does not exist (" + std::to_string(count) + " found)");
  }
  return std::make_shared<CudaCopyEngine>(device);
}

}  // namespace sluice::gpu::detail
