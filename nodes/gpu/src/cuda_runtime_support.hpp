// Small pieces of the CUDA backend shared by its memory resources and its copy engine:
// error text, which errors leave the context unusable, and a guard that makes the stage's
// device current on the calling thread and restores exactly what the caller had.
//
//   ScopedDevice on(device);
//   check(on.status(), "cudaSetDevice");
//   check(cudaMalloc(&p, n), "cudaMalloc");      // on `device`, whatever the caller had
//                                                // the caller's context is current again here
#pragma once

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <string>

namespace sluice::gpu::detail {

/// "an illegal memory access was encountered [cudaErrorIllegalAddress]".
std::string describe_error(cudaError_t err);

/// True for the errors after which the context accepts no more work (sticky errors).
bool is_sticky(cudaError_t err) noexcept;

/// Throws for `err` != cudaSuccess: DeviceFault when the error is sticky, std::runtime_error
/// otherwise, with `what` and the CUDA error text. Clears the thread's last-error slot first,
/// so a handled error is not found again by the caller's next cudaGetLastError.
void check(cudaError_t err, const char* what);

/// Makes `device` current on this thread for the guard's lifetime. The caller's current
/// context (or the absence of one) is saved with the driver's cuCtxGetCurrent and put back
/// with cuCtxSetCurrent, so no device is set, and no context created, that the caller did
/// not have. Without those entry points it falls back to cudaGetDevice/cudaSetDevice.
///
///   ScopedDevice on(1);
///   if (on.status() != cudaSuccess) { /* device 1 is not usable */ }
class ScopedDevice {
 public:
  explicit ScopedDevice(int device) noexcept;
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

  /// The result of making the device current.
  cudaError_t status() const noexcept { return status_; }

 private:
  cudaError_t status_ = cudaSuccess;
  bool saved_context_ = false;  // restore with cuCtxSetCurrent(context_)
  CUcontext context_ = nullptr;
  int saved_device_ = -1;  // else restore with cudaSetDevice(saved_device_) when >= 0
};

}  // namespace sluice::gpu::detail
