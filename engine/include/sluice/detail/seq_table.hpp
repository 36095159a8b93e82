// SeqTable<Entry>: entries keyed by sequence number, shared by the threads of a run.
//
// The join keeps one entry per item whose copies have not all arrived. One mutex over
// one hash map made every arrival contend (and sleep in the kernel) on a 2-thread run:
// copies of neighbouring items arrive at once on different threads. The table is
// split in lock stripes by sequence number, each a short vector guarded by a spin
// lock: neighbours land in different stripes, a critical section is a few loads, and
// a stripe reuses its storage, so a steady run allocates nothing here.
//
// The stripe count grows with max_in_flight (the most entries alive at once), so a
// stripe holds a handful of entries and a linear scan finds one.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <oneapi/tbb/spin_mutex.h>

namespace sluice::detail {

template <class Entry>
class SeqTable {
 public:
  /// `expected`: the most entries alive at once.
  explicit SeqTable(std::size_t expected)
      : mask_(std::bit_ceil(std::clamp<std::size_t>(expected / 2, 16, 4096)) - 1),
        stripes_(std::make_unique<Stripe[]>(mask_ + 1)) {}

  /// Runs `fn(entry)` under the stripe's lock on the entry for `seq` (made empty if
  /// absent); the entry is removed when `fn` returns true. Returns what `fn` returned.
  template <class Fn>
  bool update(std::uint64_t seq, Fn&& fn) {
    Stripe& s = stripes_[seq & mask_];
    tbb::spin_mutex::scoped_lock lock(s.mutex);
    auto& slots = s.slots;
    std::size_t i = 0;
    while (i < slots.size() && slots[i].seq != seq) ++i;
    if (i == slots.size()) slots.push_back(Slot{seq, std::optional<Entry>(std::in_place)});
    if (!fn(*slots[i].entry)) return false;
    // Removal moves the last entry into the hole by construction, not assignment, so an
    // Entry of move-only, non-assignable values works too.
    slots[i].entry.reset();
    if (i + 1 != slots.size()) {
      slots[i].seq = slots.back().seq;
      slots[i].entry.emplace(std::move(*slots.back().entry));
    }
    slots.pop_back();
    return true;
  }

 private:
  struct Slot {
    std::uint64_t seq;
    std::optional<Entry> entry;
  };
  struct alignas(64) Stripe {
    tbb::spin_mutex mutex;
    std::vector<Slot> slots;
  };

  std::size_t mask_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace sluice::detail
