// Split: the shares of one item among the copies a tee made of it (or of the items a
// batch gathered, when some of them were such copies).
//
// A copy holds no limiter slot of its own. The split holds the item's slots and gives
// them back when its last copy ends, so a slow branch holds the source back as a slow
// stage does in a chain. Each copy ends with an outcome; the item's outcome is the
// strongest of its copies' (failed, then delivered, then filtered), counted once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/detail/envelope.hpp"

namespace sluice::detail {

/// Set on a split whose item a join settled early (Split::outcomes), so that a copy
/// failing later in another branch is not counted a second time.
inline constexpr std::uint8_t kSettled = 8;

/// The outcome of an item whose copies ended with `bits` (Fate values or'ed).
inline Fate strongest(std::uint8_t bits) noexcept {
  if ((bits & static_cast<std::uint8_t>(Fate::failed)) != 0) return Fate::failed;
  if ((bits & static_cast<std::uint8_t>(Fate::delivered)) != 0) return Fate::delivered;
  if ((bits & static_cast<std::uint8_t>(Fate::filtered)) != 0) return Fate::filtered;
  return Fate::none;
}

/// Gathers the slots of several envelopes into one (a batch): plain weight while they
/// are plain items of one source, a Split over them otherwise.
class SlotGather {
 public:
  void add(const EnvelopeMeta& e) {
    if (count_++ == 0) origin_ = e.origin;
    if (!e.split && e.origin == origin_) {
      weight_ += e.weight;
    } else if (e.split) {
      parents_.push_back(e.split);
    } else if (e.weight != 0) {
      parents_.push_back(Split::make(1, e.weight, e.origin));
    }
    stands_for_ += e.weight;
  }
  /// Moves the gathered slots into `out` and starts over.
  void apply(EnvelopeMeta& out) {
    out.origin = origin_;
    out.weight = stands_for_;
    if (!parents_.empty()) {
      out.split = Split::make(1, weight_, origin_, std::move(parents_));
    } else {
      out.split.reset();
    }
    reset();
  }
  /// Source items the gathered envelopes stand for.
  std::uint32_t stands_for() const noexcept { return stands_for_; }
  bool empty() const noexcept { return count_ == 0; }
  void reset() {
    count_ = 0;
    weight_ = 0;
    stands_for_ = 0;
    parents_ = {};
  }

 private:
  std::size_t count_ = 0;
  std::uint16_t origin_ = 0;
  std::uint32_t weight_ = 0;
  std::uint32_t stands_for_ = 0;
  std::vector<SplitRef> parents_;
};

}  // namespace sluice::detail
