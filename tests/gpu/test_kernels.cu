#include "test_kernels.hpp"

namespace gpu_test {
namespace {

__global__ void illegal_write(int* base) {
  // Far past any allocation: the store faults with cudaErrorIllegalAddress.
  base[(1ull << 40) / sizeof(int)] = 1;
}

__global__ void slow_checksum(const unsigned char* data, std::size_t bytes,
                              unsigned long long spin_ns, unsigned long long* out) {
  unsigned long long start = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  for (;;) {
    unsigned long long now = 0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    if (now - start >= spin_ns) break;
  }
  unsigned long long h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  *out = h;
}

}  // namespace

cudaError_t launch_illegal_write(cudaStream_t stream) {
  int* base = nullptr;
  if (cudaError_t err = cudaMalloc(&base, sizeof(int)); err != cudaSuccess) return err;
  illegal_write<<<1, 1, 0, stream>>>(base);
  return cudaGetLastError();  // the launch itself; the fault shows when the stream syncs
}

cudaError_t launch_slow_checksum(const void* data, std::size_t bytes, unsigned spin_ms,
                                 std::uint64_t* out, cudaStream_t stream) {
  slow_checksum<<<1, 1, 0, stream>>>(static_cast<const unsigned char*>(data), bytes,
                                     static_cast<unsigned long long>(spin_ms) * 1000000ull,
                                     reinterpret_cast<unsigned long long*>(out));
  return cudaGetLastError();
}

}  // namespace gpu_test
