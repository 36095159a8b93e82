// What sluice::join_by_key (graph.hpp) is told and tells: how many unmatched items may
// wait, what becomes of those that never find a partner, and what a hook sees of them.
//
//   auto joined = sluice::join_by_key(
//       "order+payment", [](const Order& o) { return o.id; },
//       [](const Payment& p) { return p.order_id; },
//       [](Order o, Payment p) { return Paid{o, p}; }, orders, payments,
//       {.max_waiting = 1000, .unmatched = sluice::UnmatchedOutcome::failed});
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sluice {

/// What becomes of an item that found no partner (evicted, or left at the end of input).
enum class UnmatchedOutcome : std::uint8_t {
  filtered,  ///< counted filtered, as if a filter had dropped it
  failed,    ///< fails with a NoPartnerError; the run's error policy applies
};

/// Which input of a keyed join an item came in on: the first flow given (a) or the second.
enum class JoinSide : std::uint8_t { a, b };

struct KeyedJoinOptions {
  /// Unmatched items that may wait on each side. When one more arrives, the oldest
  /// waiting on that side is evicted (it ends unmatched). At least 1.
  std::size_t max_waiting = 64;
  UnmatchedOutcome unmatched = UnmatchedOutcome::filtered;
};

/// What a keyed join's unmatched-item hook learns besides the value.
struct Unmatched {
  JoinSide side = JoinSide::a;
  std::uint64_t item_index = 0;  ///< the item's index in its source
  bool at_end_of_input = false;  ///< false: evicted because max_waiting items were waiting
};

/// The failure of an unmatched item when KeyedJoinOptions::unmatched is `failed`.
///
///   try { p.run(); } catch (const sluice::PipelineError& e) {
///     // e.failure().message names the join, the side and the item
///   }
class NoPartnerError : public std::runtime_error {
 public:
  NoPartnerError(const std::string& join, const Unmatched& u, std::size_t max_waiting)
      : std::runtime_error(
            "join_by_key '" + join + "': item " + std::to_string(u.item_index) + " of side " +
            (u.side == JoinSide::a ? "a" : "b") + " found no partner (" +
            (u.at_end_of_input
                 ? std::string("end of input")
                 : "evicted: " + std::to_string(max_waiting) + " newer items were waiting") +
            ")"),
        unmatched_(u) {}
  const Unmatched& unmatched() const noexcept { return unmatched_; }

 private:
  Unmatched unmatched_;
};

}  // namespace sluice
