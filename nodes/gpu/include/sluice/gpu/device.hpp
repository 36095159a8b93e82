// Device: which backend a GPU transfer stage runs on, as a user picks it with
// `--device auto|cpu|cuda`.
//
//   auto device = sluice::gpu::parse_device(argv_value);   // "auto", "cpu" or "cuda"
//   sluice::gpu::TransferStage stage({.device = device});
//   std::cout << "transfers run on " << to_string(stage.device()) << "\n";
#pragma once

#include <string>
#include <string_view>

namespace sluice::gpu {

/// Where batches go. `auto_detect` picks CUDA when a device is usable at run time and
/// the host backend otherwise (saying so once per process); `cuda` with no usable device
/// is an error; `cpu` always uses the host backend.
///
///   TransferStage stage({.device = Device::cpu});   // tests, machines without a GPU
enum class Device { auto_detect, cpu, cuda };

/// Parses "auto", "cpu" or "cuda". Throws std::invalid_argument naming the accepted values.
///
///   Device d = parse_device("cuda");
Device parse_device(std::string_view text);

/// "auto", "cpu" or "cuda": the spelling parse_device accepts.
std::string_view to_string(Device device) noexcept;

/// True when this build contains the CUDA backend (SLUICE_CUDA=ON and the toolkit found).
///
///   if (!sluice::gpu::cuda_compiled()) std::puts("host backend only");
bool cuda_compiled() noexcept;

/// Number of CUDA devices usable at run time; 0 without a device, without a driver, or in
/// a build without CUDA. Probed once per process.
///
///   if (sluice::gpu::cuda_device_count() == 0) GTEST_SKIP() << cuda_unavailable_reason();
int cuda_device_count() noexcept;

/// Why cuda_device_count() is 0 (empty when a device is usable), for messages.
std::string cuda_unavailable_reason();

}  // namespace sluice::gpu
