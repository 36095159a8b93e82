// The CUDA backend: pinned staging memory, cudaMalloc device memory, and copies enqueued
// with cudaMemcpyAsync on one dedicated stream, reported through cudaLaunchHostFunc.
//
// Runtime API only (no kernels), compiled as plain C++ against cudart_static. On a machine
// without a GPU or driver, cudaGetDeviceCount fails and probe_cuda() reports no device.
//
// Errors: a failed enqueue is reported at once (start_copy throws). A copy that fails on the
// device leaves the context in a sticky error state, after which host functions may never
// run; the stage would then wait for that copy forever, as would any CUDA program. Not
// handled beyond that: such an error also breaks the consumer's own kernels.
#include "cuda_backend.hpp"

#include <cuda_runtime_api.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>

namespace sluice::gpu::detail {
namespace {

std::string describe_error(cudaError_t err) {
  return std::string(cudaGetErrorString(err)) + " [" + cudaGetErrorName(err) + "]";
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("sluice::gpu: ") + what + ": " + describe_error(err));
  }
}

// Host memory the DMA engine can read directly; portable so any context can use it.
class PinnedMemory final : public MemoryResource {
 public:
  void* allocate(std::size_t bytes) override {
    void* p = nullptr;
    check(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc");
    return p;
  }
  void deallocate(void* p, std::size_t /*bytes*/) noexcept override {
    // Errors here only happen at process teardown (cudart already unloaded): ignore.
    (void)cudaFreeHost(p);
  }
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const override {
    check(cudaMemcpy(host_dst, src, bytes, cudaMemcpyHostToHost), "cudaMemcpy");
  }
  Device location() const noexcept override { return Device::cpu; }
  std::string_view name() const noexcept override { return "cuda-pinned"; }
};

class DeviceMemory final : public MemoryResource {
 public:
  explicit DeviceMemory(int device) : device_(device) {}

  void* allocate(std::size_t bytes) override {
    check(cudaSetDevice(device_), "cudaSetDevice");
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void deallocate(void* p, std::size_t /*bytes*/) noexcept override {
    (void)cudaSetDevice(device_);
    (void)cudaFree(p);
  }
  void copy_to_host(void* host_dst, const void* src, std::size_t bytes) const override {
    check(cudaSetDevice(device_), "cudaSetDevice");
    check(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }
  Device location() const noexcept override { return Device::cuda; }
  std::string_view name() const noexcept override { return "cuda-device"; }

 private:
  int device_;
};

class CudaCopyEngine final : public CopyEngine {
 public:
  explicit CudaCopyEngine(int device)
      : device_(device),
        pinned_(std::make_shared<PinnedMemory>()),
        memory_(std::make_shared<DeviceMemory>(device)) {
    check(cudaSetDevice(device_), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
    name_ = "cuda:" + std::to_string(device_) + " " + prop.name;
    // Non-blocking: the stage's copies never serialise with the legacy default stream,
    // which user code elsewhere in the process may be using.
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }

  ~CudaCopyEngine() override {
    (void)cudaSetDevice(device_);
    (void)cudaStreamSynchronize(stream_);
    (void)cudaStreamDestroy(stream_);
  }

  Device device() const noexcept override { return Device::cuda; }
  std::string describe() const override { return name_; }
  std::shared_ptr<MemoryResource> staging_memory() const override { return pinned_; }
  std::shared_ptr<MemoryResource> device_memory() const override { return memory_; }

  void start_copy(void* device_dst, const void* staging_src, std::size_t bytes,
                  Done done) override {
    check(cudaSetDevice(device_), "cudaSetDevice");
    check(cudaMemcpyAsync(device_dst, staging_src, bytes, cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync");
    auto* pending = new Done(std::move(done));
    if (cudaError_t err = cudaLaunchHostFunc(stream_, &on_copied, pending); err != cudaSuccess) {
      delete pending;
      // The copy is enqueued but nobody will be told when it ends: wait for it here, so
      // the buffers can be released safely, and report the failure.
      (void)cudaStreamSynchronize(stream_);
      check(err, "cudaLaunchHostFunc");
    }
  }

 private:
  // Runs on a CUDA runtime thread once the copy has finished. It must not call CUDA, so it
  // only hands the result to the stage (which wakes its own completion thread).
  static void CUDART_CB on_copied(void* data) {
    std::unique_ptr<Done> done(static_cast<Done*>(data));
    (*done)(nullptr);
  }

  int device_;
  std::shared_ptr<PinnedMemory> pinned_;
  std::shared_ptr<DeviceMemory> memory_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
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
  return std::make_shared<CudaCopyEngine>(device);
}

}  // namespace sluice::gpu::detail
