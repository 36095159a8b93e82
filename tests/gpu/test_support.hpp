// Helpers shared by the sluice::gpu tests: deterministic batch contents, a checksum, and
// a copy engine that runs copies on its own thread and can hold them, so tests control
// exactly when a copy ends (no sleeps) and measure how many run at once.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sluice/gpu.hpp>

namespace gpu_test {

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Bytes that depend on (seed, position), so a misplaced or stale byte shows.
inline std::vector<std::uint8_t> pattern(std::uint64_t seed, std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = mix(seed * 0x100000001b3ull + i);
    std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return bytes;
}

inline std::uint64_t checksum(const std::uint8_t* data, std::size_t size) {  // FNV-1a
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

inline std::uint64_t checksum(const std::vector<std::uint8_t>& v) {
  return checksum(v.data(), v.size());
}

/// A copy engine with its own "DMA" thread: copies queue there, can be held until the
/// test opens the gate, and report from that thread. It counts copies started and not
/// finished (active) and the most at once.
class ThreadedCopyEngine final : public sluice::gpu::CopyEngine {
 public:
  ThreadedCopyEngine() : thread_([this] { loop(); }) {}

  ~ThreadedCopyEngine() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      open_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  sluice::gpu::Device device() const noexcept override { return sluice::gpu::Device::cpu; }
  std::string describe() const override { return "threaded test engine"; }
  std::shared_ptr<sluice::gpu::MemoryResource> staging_memory() const override {
    return sluice::gpu::host_memory();
  }
  std::shared_ptr<sluice::gpu::MemoryResource> device_memory() const override {
    return sluice::gpu::host_memory();
  }

  void start_copy(void* dst, const void* src, std::size_t bytes, Done done) override {
    std::lock_guard lock(mutex_);
    const std::size_t index = calls_++;
    if (index == throw_on_call_) throw std::runtime_error("test engine refused copy");
    ++active_;
    max_active_ = std::max(max_active_, active_);
    jobs_.push_back(Job{dst, src, bytes, std::move(done), index == fail_call_});
    cv_.notify_all();
  }

  /// Copies wait until open() (copies already running finish).
  void hold() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  /// Blocks until `n` copies have been started by the stage.
  void wait_started(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return calls_ >= n; });
  }
  /// The copy with this index reports an error / its start_copy throws.
  void fail_call(std::size_t index) {
    std::lock_guard lock(mutex_);
    fail_call_ = index;
  }
  void throw_on_call(std::size_t index) {
    std::lock_guard lock(mutex_);
    throw_on_call_ = index;
  }

  std::size_t started() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t max_active() const {
    std::lock_guard lock(mutex_);
    return max_active_;
  }
  std::thread::id thread_id() const { return thread_.get_id(); }

 private:
  struct Job {
    void* dst;
    const void* src;
    std::size_t bytes;
    Done done;
    bool fail;
  };

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return (stopping_ && jobs_.empty()) || (open_ && !jobs_.empty()); });
      if (jobs_.empty()) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      if (job.bytes) std::memcpy(job.dst, job.src, job.bytes);
      lock.lock();
      --active_;  // before reporting: the report may start the next copy
      lock.unlock();
      job.done(job.fail ? std::make_exception_ptr(std::runtime_error("test engine copy failed"))
                        : nullptr);
      lock.lock();
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool open_ = true;
  bool stopping_ = false;
  std::size_t calls_ = 0;
  std::size_t active_ = 0;
  std::size_t max_active_ = 0;
  std::size_t fail_call_ = SIZE_MAX;
  std::size_t throw_on_call_ = SIZE_MAX;
  std::thread thread_;  // last: started once everything above is initialised
};

}  // namespace gpu_test
