#include "cuda_event_waiter.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#ifdef __linux__
#include <pthread.h>
#endif

#include "cuda_runtime_support.hpp"

namespace sluice::gpu::detail {

// Shared by the waiter and its thread, so the thread may outlive the waiter (detached
// when the waiter was destroyed from one of its own callbacks).
struct EventWaiter::State {
  explicit State(int d) : device(d) {}

  const int device;
  std::mutex mutex;
  std::condition_variable cv;
  std::list<Item> items;  // recorded events, oldest first
  std::vector<cudaEvent_t> free_events;
  bool stopping = false;
  std::thread thread;
};

EventWaiter::EventWaiter(int device) : state_(std::make_shared<State>(device)) {
  state_->thread = std::thread([state = state_] { run(state); });
}

EventWaiter::~EventWaiter() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  if (state_->thread.get_id() == std::this_thread::get_id()) {
    state_->thread.detach();
  } else {
    state_->thread.join();
  }
}

EventWaiter::Entry EventWaiter::prepare(Callback callback) {
  Entry entry;
  entry.node_.emplace_back();
  entry.node_.front().callback = std::move(callback);
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->free_events.empty()) {
      entry.node_.front().event = state_->free_events.back();
      state_->free_events.pop_back();
      return entry;
    }
  }
  // Timing off: cheaper to record. Waiting follows the device's schedule flags, like the
  // cudaStreamSynchronize a bare copy loop would use.
  check(cudaEventCreateWithFlags(&entry.node_.front().event, cudaEventDisableTiming),
        "cudaEventCreateWithFlags");
  return entry;
}

void EventWaiter::add(Entry entry) noexcept {
  {
    std::lock_guard lock(state_->mutex);
    state_->items.splice(state_->items.end(), entry.node_);
  }
  state_->cv.notify_all();
}

void EventWaiter::discard(Entry entry) noexcept {
  std::lock_guard lock(state_->mutex);
  // The vector only grows to the number of events ever created; if it cannot, drop the
  // event rather than throw.
  try {
    state_->free_events.push_back(entry.node_.front().event);
  } catch (...) {
    (void)cudaEventDestroy(entry.node_.front().event);
  }
}

void EventWaiter::run(const std::shared_ptr<State>& state) {
#ifdef __linux__
  pthread_setname_np(pthread_self(), "sluice-cuda-evt");
#endif
  bool device_set = false;
  std::unique_lock lock(state->mutex);
  for (;;) {
    state->cv.wait(lock, [&] { return state->stopping || !state->items.empty(); });
    if (state->items.empty()) break;
    const cudaEvent_t event = state->items.front().event;
    lock.unlock();
    if (!device_set) {
      // Our own thread: set once, never restored.
      (void)cudaSetDevice(state->device);
      device_set = true;
    }
    const cudaError_t status = cudaEventSynchronize(event);
    if (status != cudaSuccess) (void)cudaGetLastError();
    lock.lock();
    std::list<Item> done;
    done.splice(done.end(), state->items, state->items.begin());
    lock.unlock();
    try {
      done.front().callback(status);
    } catch (...) {
      // A callback has nobody to report to; the thread must go on for the other events.
    }
    done.front().callback = nullptr;  // may drop the waiter's owner: see ~EventWaiter
    lock.lock();
    if (status == cudaSuccess) {
      try {
        state->free_events.push_back(event);
      } catch (...) {
        (void)cudaEventDestroy(event);
      }
    } else {
      (void)cudaEventDestroy(event);
      (void)cudaGetLastError();
    }
  }
  for (cudaEvent_t event : state->free_events) (void)cudaEventDestroy(event);
  state->free_events.clear();
  (void)cudaGetLastError();
}

}  // namespace sluice::gpu::detail
