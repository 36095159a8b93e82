// Tiny kernels for the CUDA tests, built with nvcc when CMake finds it (SLUICE_TEST_KERNELS):
// a kernel that writes to an illegal address (a user's bug that leaves the context with a
// sticky error) and a slow reader that checksums a buffer after spinning for a while (a
// consumer's kernel still reading a batch).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace gpu_test {

/// Queues a one-thread kernel on `stream` that stores to an unmapped address.
cudaError_t launch_illegal_write(cudaStream_t stream);

/// Queues a one-thread kernel on `stream` that spins for about `spin_ms` milliseconds and
/// then writes the FNV-1a checksum of `bytes` bytes at `data` (device memory) to `*out`
/// (memory the device can write: pinned or managed).
cudaError_t launch_slow_checksum(const void* data, std::size_t bytes, unsigned spin_ms,
                                 std::uint64_t* out, cudaStream_t stream);

}  // namespace gpu_test
