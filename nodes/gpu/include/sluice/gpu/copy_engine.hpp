// CopyEngine: the backend under a TransferStage — where staging and device memory come
// from and how one host-to-device copy is started and reported.
//
// `make_copy_engine` picks the backend for a Device. The host backend copies into separate
// host memory synchronously, on the stage's completion thread; the CUDA backend enqueues
// cudaMemcpyAsync on its own stream and reports through cudaLaunchHostFunc. A custom engine
// (tests, other accelerators) can be passed in TransferOptions::engine.
//
//   auto engine = sluice::gpu::make_copy_engine(sluice::gpu::Device::auto_detect);
//   std::cout << engine->describe() << "\n";          // "cuda:0 NVIDIA H100" or "host"
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <sluice/gpu/device.hpp>
#include <sluice/gpu/memory_resource.hpp>

namespace sluice::gpu {

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
  /// exactly once when the copy has finished, on any thread (inline is allowed). `done`
  /// only records the result; it never blocks. Called from one thread at a time (the
  /// stage's completion thread). Throwing instead of calling `done` means the copy was
  /// not started.
  virtual void start_copy(void* device_dst, const void* staging_src, std::size_t bytes,
                          Done done) = 0;
};

/// Receives one-line notices (the host-backend fallback); nullptr/empty means stderr.
using NoticeSink = std::function<void(std::string_view)>;

/// The host backend: aligned host memory for both pools, copies done inline.
std::shared_ptr<CopyEngine> make_host_copy_engine();

/// The backend for `device`:
/// - Device::cpu: the host backend.
/// - Device::cuda: the CUDA backend on `cuda_device` (default 0); throws std::runtime_error
///   saying why when the build has no CUDA or no device is usable.
/// - Device::auto_detect: CUDA when usable, else the host backend; the first fallback in the
///   process is announced through `notice` (stderr when empty), later ones are silent.
std::shared_ptr<CopyEngine> make_copy_engine(Device device, const NoticeSink& notice = {},
                                             int cuda_device = 0);

}  // namespace sluice::gpu
