// The calling thread's slot in the current run: an index into each stage's per-thread
// counters, so that the hot path writes lines no other thread touches.
//
// A thread takes a slot the first time it works for a run (RunContext::slot_index) and
// keeps it for that run; the check is one thread-local load and compare, inline, since
// every stage body makes it.
#pragma once

#include <cstdint>

namespace sluice::detail {

struct ThreadSlot {
  std::uint64_t run = 0;  // the id of the run the slot belongs to (0: none)
  int slot = -1;          // -1: no slot left for this thread
};

inline thread_local ThreadSlot this_thread_slot;

/// The calling thread's slot in run `run` when it has taken one, else what `claim()`
/// gives (RunContext::slot_index, which takes one).
template <class Claim>
int slot_in_run(std::uint64_t run, Claim&& claim) noexcept {
  const ThreadSlot& t = this_thread_slot;
  return t.run == run ? t.slot : claim();
}

}  // namespace sluice::detail
