// EventWaiter: learns that queued GPU work ended — or failed — by waiting on CUDA events, in
// the order they were added, on a thread of its own, and runs a callback for each with the
// event's status. Unlike cudaLaunchHostFunc, whose function is never called once the
// context has a sticky error, every event reports: success, or the error that stopped it.
//
//   EventWaiter waiter(device);
//   EventWaiter::Entry entry = waiter.prepare([](cudaError_t err) { /* record, wake */ });
//   cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream);
//   cudaEventRecord(entry.event(), stream);
//   waiter.add(std::move(entry));                  // the callback runs once the copy ended
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <list>
#include <memory>

namespace sluice::gpu::detail {

class EventWaiter {
 public:
  /// Runs on the waiter's thread with the event's status; must not throw or block long.
  using Callback = std::function<void(cudaError_t)>;

  struct Item {
    cudaEvent_t event = nullptr;
    Callback callback;
  };

  /// An event and its callback, allocated before any work is queued (so an allocation
  /// failure can never leave queued work unwatched). Hand it to add() or discard().
  class Entry {
   public:
    cudaEvent_t event() const noexcept { return node_.front().event; }

   private:
    friend class EventWaiter;
    std::list<Item> node_;  // one element, spliced into the waiter's list without allocating
  };

  /// Events are waited for with `device` current on the waiter's thread.
  explicit EventWaiter(int device);
  /// Waits for the events added so far (each reports, success or error). Called on the
  /// waiter's own thread (a callback dropped the owner), it lets the thread end by itself.
  ~EventWaiter();
  EventWaiter(const EventWaiter&) = delete;
  EventWaiter& operator=(const EventWaiter&) = delete;

  /// Takes an event (reused, or created on the calling thread's current device) for
  /// `callback`. Throws when the event cannot be created or on allocation failure.
  Entry prepare(Callback callback);
  /// Starts watching the entry's event, which the caller has recorded. Never throws.
  void add(Entry entry) noexcept;
  /// Gives back an entry whose event was not recorded; its callback is not called.
  void discard(Entry entry) noexcept;

 private:
  struct State;
  static void run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace sluice::gpu::detail
