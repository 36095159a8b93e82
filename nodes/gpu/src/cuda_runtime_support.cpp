#include "cuda_runtime_support.hpp"

#include <stdexcept>

#include <sluice/gpu/copy_engine.hpp>

namespace sluice::gpu::detail {
namespace {

using CtxGetCurrent = CUresult(CUDAAPI*)(CUcontext*);
using CtxSetCurrent = CUresult(CUDAAPI*)(CUcontext);

// The two driver calls the guard needs, looked up through the runtime so that the library
// does not link libcuda (a machine without a driver must still load it).
struct ContextCalls {
  CtxGetCurrent get = nullptr;
  CtxSetCurrent set = nullptr;
};

const ContextCalls& context_calls() noexcept {
  static const ContextCalls calls = [] {
    ContextCalls c;
    void* get = nullptr;
    void* set = nullptr;
    cudaDriverEntryPointQueryResult found_get{};
    cudaDriverEntryPointQueryResult found_set{};
    if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &get, 12000, cudaEnableDefault,
                                         &found_get) == cudaSuccess &&
        cudaGetDriverEntryPointByVersion("cuCtxSetCurrent", &set, 12000, cudaEnableDefault,
                                         &found_set) == cudaSuccess &&
        found_get == cudaDriverEntryPointSuccess && found_set == cudaDriverEntryPointSuccess) {
      c.get = reinterpret_cast<CtxGetCurrent>(get);
      c.set = reinterpret_cast<CtxSetCurrent>(set);
    }
    (void)cudaGetLastError();
    return c;
  }();
  return calls;
}

}  // namespace

std::string describe_error(cudaError_t err) {
  return std::string(cudaGetErrorString(err)) + " [" + cudaGetErrorName(err) + "]";
}

bool is_sticky(cudaError_t err) noexcept {
  switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
    case cudaErrorContextIsDestroyed:
    case cudaErrorExternalDevice:
    case cudaErrorUnknown:
      return true;
    default:
      return false;
  }
}

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();
  const std::string message = std::string("sluice::gpu: ") + what + ": " + describe_error(err);
  if (is_sticky(err)) throw DeviceFault(message);
  throw std::runtime_error(message);
}

ScopedDevice::ScopedDevice(int device) noexcept {
  const ContextCalls& calls = context_calls();
  if (calls.get != nullptr && calls.get(&context_) == CUDA_SUCCESS) {
    saved_context_ = true;
  } else if (cudaGetDevice(&saved_device_) != cudaSuccess) {
    (void)cudaGetLastError();
    saved_device_ = -1;
  }
  // Already current (the stage's own threads, a caller on the same device): nothing to do.
  // With no context current, cudaGetDevice reports a default without making one current,
  // so that case always goes through cudaSetDevice and is undone afterwards.
  int current = -1;
  const bool same = saved_context_ ? context_ != nullptr &&
                                         cudaGetDevice(&current) == cudaSuccess && current == device
                                   : saved_device_ == device;
  if (same) {
    saved_context_ = false;
    saved_device_ = -1;
    return;
  }
  status_ = cudaSetDevice(device);
  if (status_ != cudaSuccess) (void)cudaGetLastError();
}

ScopedDevice::~ScopedDevice() {
  if (saved_context_) {
    (void)context_calls().set(context_);
  } else if (saved_device_ >= 0 && cudaSetDevice(saved_device_) != cudaSuccess) {
    (void)cudaGetLastError();
  }
}

}  // namespace sluice::gpu::detail
