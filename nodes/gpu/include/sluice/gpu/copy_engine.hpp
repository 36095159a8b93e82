// CopyEngine: the backend under a TransferStage — where staging and device memory come
// from and how one host-to-device copy is started and reported.
//
// `make_copy_engine` picks the backend for a Device. The host backend copies into separate
// host memory synchronously, on the stage's completion thread; the CUDA backend enqueues
// cudaMemcpyAsync on its own stream, records an event after it, and reports the event's
// status (success or the CUDA error) from a thread that waits on those events in order. A
// custom engine (tests, other accelerators) can be passed in TransferOptions::engine.
//
//   auto engine = sluice::gpu::make_copy_engine(sluice::gpu::Device::auto_detect);
//   std::cout << engine->describe() << "\n";          // "cuda:0 NVIDIA H100" or "host"
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sluice/gpu/device.hpp>
#include <sluice/gpu/memory_resource.hpp>

namespace sluice::gpu {

/// The error a copy ends with when the backend can do no more copies — on CUDA, a sticky
/// error of the context (an illegal address in any kernel of the process is enough). A
/// TransferStage that sees it fails every transfer not yet delivered with its text and
/// fails later submissions at once, so nothing waits for copies that will never end.
///
///   catch (const sluice::gpu::DeviceFault& e) { /* the GPU context is lost: restart */ }
class DeviceFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A backend: two memory resources and an asynchronous copy between them.
///
///   engine->start_copy(device_ptr, staging_ptr, bytes,
///                      [](std::exception_ptr error) { /* record, wake someone */ });
class CopyEngine {
 public:
  /// Reports the end of one copy: nullptr on success, the error otherwise.
  using Done = std::function<void(std::exception_ptr)>;

  virtual ~CopyEngine() = default;

  /// Device::cpu for the host backend, Device::cuda for CUDA.
  virtual Device device() const noexcept = 0;
  /// One line for logs: "host", "cuda:0 NVIDIA H100 80GB HBM3".
  virtual std::string describe() const = 0;

  /// Memory the stage stages batches in (pinned on CUDA) and copies them to.
  virtual std::shared_ptr<MemoryResource> staging_memory() const = 0;
  virtual std::shared_ptr<MemoryResource> device_memory() const = 0;

  /// Starts copying `bytes` bytes from staging memory to device memory and calls `done`
  /// exactly once when the copy has finished or failed, on any thread (inline is allowed);
  /// a DeviceFault error means no later copy can succeed. `done` only records the result;
  /// it never blocks. Called from one thread at a time (the stage's completion thread).
  /// Throwing instead of calling `done` means the copy was not started (or has already
  /// ended: its buffers are free); throwing DeviceFault also means no later copy can start.
  virtual void start_copy(void* device_dst, const void* staging_src, std::size_t bytes,
                          Done done) = 0;
};

/// Receives one-line notices (the host-backend fallback); nullptr/empty means stderr.
using NoticeSink = std::function<void(std::string_view)>;

/// The host backend: aligned host memory for both pools, copies done inline.
std::shared_ptr<CopyEngine> make_host_copy_engine();

/// The backend for `device`:
/// - Device::cpu: the host backend.
/// - Device::cuda: the CUDA backend on `cuda_device` (-1: the calling thread's current
///   device, as cudaGetDevice reports it); throws std::runtime_error saying why when the
///   build has no CUDA, no device is usable or the device cannot be set up.
/// - Device::auto_detect: CUDA when a device is counted and can be set up, else the host
///   backend; the first fallback in the process is announced with its reason through
///   `notice` (stderr when empty), later ones are silent.
std::shared_ptr<CopyEngine> make_copy_engine(Device device, const NoticeSink& notice = {},
                                             int cuda_device = -1);

}  // namespace sluice::gpu
