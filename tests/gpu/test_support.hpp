// Helpers shared by the sluice::gpu tests: deterministic batch contents, a checksum, a
// copy engine that runs copies on its own thread and can hold, fail or lose them (so tests
// control exactly when and how a copy ends, with no sleeps), outcomes gathered with a
// bounded wait, and the CUDA skip that SLUICE_REQUIRE_GPU=1 turns into a failure.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

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

// FNV-1a over 64-bit words (then the tail bytes): a word at a time keeps the megabyte
// batches cheap to check under ThreadSanitizer, which instruments every load.
inline std::uint64_t checksum(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    h = (h ^ word) * 0x100000001b3ull;
  }
  for (; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

inline std::uint64_t checksum(const std::vector<std::uint8_t>& v) {
  return checksum(v.data(), v.size());
}

/// True when SLUICE_REQUIRE_GPU=1: a CUDA test that cannot run fails instead of skipping,
/// so a run on a GPU machine cannot pass green with nothing tested.
inline bool gpu_required() {
  const char* v = std::getenv("SLUICE_REQUIRE_GPU");
  return v != nullptr && std::string(v) == "1";
}

/// In a test body or SetUp: skips (or, under SLUICE_REQUIRE_GPU=1, fails) with the reason
/// — no CUDA in this build, no driver, a driver too old for the toolkit, no device.
#define SLUICE_NEED_CUDA_DEVICES(n)                                                        \
  do {                                                                                     \
    const int sluice_found_ = sluice::gpu::cuda_device_count();                            \
    if (sluice_found_ == 0) {                                                              \
      if (gpu_test::gpu_required())                                                        \
        FAIL() << "SLUICE_REQUIRE_GPU=1 but no usable CUDA device: "                       \
               << sluice::gpu::cuda_unavailable_reason();                                  \
      GTEST_SKIP() << "no usable CUDA device: " << sluice::gpu::cuda_unavailable_reason(); \
    }                                                                                      \
    if (sluice_found_ < (n))                                                               \
      GTEST_SKIP() << "needs " << (n) << " CUDA devices, found " << sluice_found_;         \
  } while (false)

/// Outcomes of numbered transfers, recorded from any thread, waited for with a bound: a
/// failed transfer is recorded like any other (no ASSERT inside a completion, which would
/// skip the count and turn into a timeout).
class Outcomes {
 public:
  explicit Outcomes(std::size_t n) : ok_(n), errors_(n), calls_(n), checksums_(n), kept_(n) {}

  /// A completion for transfer `i`; reads the batch back (to_host) when it arrived, and
  /// keeps it (see take()) when `keep` is set.
  sluice::Completion<sluice::gpu::DeviceBatch> completion(std::size_t i, bool read_back = true,
                                                          bool keep = false) {
    return sluice::make_completion<sluice::gpu::DeviceBatch>(
        [this, i, read_back, keep](sluice::Outcome<sluice::gpu::DeviceBatch> o) {
          std::string error;
          std::uint64_t sum = 0;
          if (o.ok()) {
            try {
              if (read_back) sum = checksum(o.value->to_host());
            } catch (const std::exception& e) {
              error = std::string("read back: ") + e.what();
            }
          } else {
            try {
              std::rethrow_exception(o.error);
            } catch (const std::exception& e) {
              error = e.what();
            } catch (...) {
              error = "unknown error";
            }
          }
          std::lock_guard lock(mutex_);
          if (keep && o.ok())
            kept_[i] = std::make_unique<sluice::gpu::DeviceBatch>(std::move(*o.value));
          ok_[i] = o.ok() && error.empty();
          errors_[i] = error;
          checksums_[i] = sum;
          ++calls_[i];
          ++completed_;
          cv_.notify_all();
        });
  }

  /// Waits until `n` completions arrived; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return completed_ >= n; });
  }

  bool ok(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return ok_[i];
  }
  std::string error(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return errors_[i];
  }
  int calls(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return calls_[i];
  }
  std::uint64_t checksum_of(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return checksums_[i];
  }
  /// The batch a `keep` completion kept (null when it failed).
  std::unique_ptr<sluice::gpu::DeviceBatch> take(std::size_t i) {
    std::lock_guard lock(mutex_);
    return std::move(kept_[i]);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<bool> ok_;
  std::vector<std::string> errors_;
  std::vector<int> calls_;
  std::vector<std::uint64_t> checksums_;
  std::vector<std::unique_ptr<sluice::gpu::DeviceBatch>> kept_;
  std::size_t completed_ = 0;
};

/// Runs `f` on a thread and waits at most `timeout` for it: false when it did not return
/// (the thread is then left behind, and ctest's timeout ends the process).
template <class F>
bool returns_within(F f, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  struct Flag {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto flag = std::make_shared<Flag>();
  std::thread t([flag, f = std::move(f)]() mutable {
    f();
    std::lock_guard lock(flag->mutex);
    flag->done = true;
    flag->cv.notify_all();
  });
  std::unique_lock lock(flag->mutex);
  if (!flag->cv.wait_for(lock, timeout, [&] { return flag->done; })) {
    t.detach();
    return false;
  }
  lock.unlock();
  t.join();
  return true;
}

/// A copy engine with its own "DMA" thread: copies queue there, can be held until the
/// test opens the gate, and report from that thread. It counts copies started and not
/// finished (active) and the most at once. Faults can be injected: a copy that reports a
/// DeviceFault (as CUDA reports a sticky context error), a start that throws one, and
/// copies that never report at all (as a cudaLaunchHostFunc report after a sticky error).
class ThreadedCopyEngine final : public sluice::gpu::CopyEngine {
 public:
  explicit ThreadedCopyEngine(
      std::shared_ptr<sluice::gpu::MemoryResource> device_memory = sluice::gpu::host_memory())
      : device_memory_(std::move(device_memory)), thread_([this] { loop(); }) {}

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
    return device_memory_;
  }

  void start_copy(void* dst, const void* src, std::size_t bytes, Done done) override {
    std::lock_guard lock(mutex_);
    const std::size_t index = calls_++;
    cv_.notify_all();
    if (index == throw_on_call_) throw std::runtime_error("test engine refused copy");
    if (index == throw_fault_on_call_) throw sluice::gpu::DeviceFault("injected fault at start");
    if (index >= lose_from_call_) {
      lost_.push_back(std::move(done));  // never reported, never copied
      return;
    }
    ++active_;
    max_active_ = std::max(max_active_, active_);
    jobs_.push_back(
        Job{dst, src, bytes, std::move(done), index == fail_call_, index == fault_call_});
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
  /// The copy with this index reports a DeviceFault / its start_copy throws one.
  void fault_call(std::size_t index) {
    std::lock_guard lock(mutex_);
    fault_call_ = index;
  }
  void throw_fault_on_call(std::size_t index) {
    std::lock_guard lock(mutex_);
    throw_fault_on_call_ = index;
  }
  /// Copies from this index on are accepted and never reported.
  void lose_from_call(std::size_t index) {
    std::lock_guard lock(mutex_);
    lose_from_call_ = index;
  }
  std::size_t lost() const {
    std::lock_guard lock(mutex_);
    return lost_.size();
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
    bool fault;
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
      job.done(job.fault ? std::make_exception_ptr(
                               sluice::gpu::DeviceFault("injected fault: illegal address"))
               : job.fail ? std::make_exception_ptr(std::runtime_error("test engine copy failed"))
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
  std::size_t fault_call_ = SIZE_MAX;
  std::size_t throw_fault_on_call_ = SIZE_MAX;
  std::size_t lose_from_call_ = SIZE_MAX;
  std::vector<Done> lost_;
  std::shared_ptr<sluice::gpu::MemoryResource> device_memory_;
  std::thread thread_;  // last: started once everything above is initialised
};

}  // namespace gpu_test
