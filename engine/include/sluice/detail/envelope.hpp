// Envelope<T>: how an item travels between flow-graph nodes.
//
// tbb::flow copies messages (into queues, tasks, sequencers), so the value rides in a
// Payload that makes those copies cheap: small trivially copyable values are stored
// inline, anything else in a shared box that the consuming stage moves out of. In a
// chain every envelope is consumed exactly once, so moving out is safe and move-only
// values (device buffers, unique handles) can travel too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice::detail {

template <class T>
inline constexpr bool kInlinePayload = std::is_trivially_copyable_v<T> && sizeof(T) <= 32;

template <class T, bool Inline = kInlinePayload<T>>
class Payload;

template <class T>
class Payload<T, true> {
 public:
  bool has_value() const noexcept { return v_.has_value(); }
  template <class... A>
  void emplace(A&&... a) {
    v_.emplace(std::forward<A>(a)...);
  }
  T take() const noexcept { return *v_; }
  const T& get() const noexcept { return *v_; }
  void reset() noexcept { v_.reset(); }

 private:
  std::optional<T> v_;
};

template <class T>
class Payload<T, false> {
 public:
  bool has_value() const noexcept { return static_cast<bool>(p_); }
  template <class... A>
  void emplace(A&&... a) {
    p_ = std::make_shared<T>(std::forward<A>(a)...);
  }
  // The box is shared only with stale copies tbb made in transit, never read again, so
  // the stage that consumes the envelope may move the value out.
  T take() const { return std::move(*p_); }
  const T& get() const noexcept { return *p_; }
  void reset() noexcept { p_.reset(); }

 private:
  std::shared_ptr<T> p_;
};

/// What became of an item (or of one copy of it, after a tee). Bits, so that the
/// outcomes of a tee's copies can be gathered into one word.
enum class Fate : std::uint8_t { none = 0, filtered = 1, delivered = 2, failed = 4 };

struct Split;
inline void retain(Split* s) noexcept;
inline void release(Split* s) noexcept;

/// A counted reference to a Split (split.hpp), intrusive so that an envelope carries
/// one pointer, not a shared_ptr's two: tbb copies envelopes at every hop.
class SplitRef {
 public:
  SplitRef() noexcept = default;
  SplitRef(std::nullptr_t) noexcept {}
  /// Takes a reference to `s` (a new Split starts with none).
  explicit SplitRef(Split* s) noexcept : p_(s) {
    if (p_ != nullptr) retain(p_);
  }
  SplitRef(const SplitRef& o) noexcept : SplitRef(o.p_) {}
  SplitRef(SplitRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  SplitRef& operator=(const SplitRef& o) noexcept {
    SplitRef(o).swap(*this);
    return *this;
  }
  SplitRef& operator=(SplitRef&& o) noexcept {
    SplitRef(std::move(o)).swap(*this);
    return *this;
  }
  ~SplitRef() {
    if (p_ != nullptr) release(p_);
  }
  void reset() noexcept { SplitRef().swap(*this); }
  void swap(SplitRef& o) noexcept { std::swap(p_, o.p_); }
  Split* get() const noexcept { return p_; }
  Split& operator*() const noexcept { return *p_; }
  Split* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  Split* p_ = nullptr;
};

/// The shares of one item among the copies a tee made of it (or of the items a batch
/// gathered, when some of them were such copies): split.hpp.
struct Split {
  Split(std::uint32_t copies, std::uint32_t own_weight, std::uint16_t origin_,
        std::vector<SplitRef> parents_)
      : alive(copies), weight(own_weight), origin(origin_), parents(std::move(parents_)) {}

  /// A new split, held by the returned reference.
  static SplitRef make(std::uint32_t copies, std::uint32_t own_weight, std::uint16_t origin,
                       std::vector<SplitRef> parents = {}) {
    return SplitRef(new Split(copies, own_weight, origin, std::move(parents)));
  }

  std::atomic<std::uint32_t> alive;
  std::atomic<std::uint8_t> outcomes{0};
  /// Slots this split holds itself: those of items that were not copies already.
  const std::uint32_t weight;
  const std::uint16_t origin;
  /// Splits one copy of which this split stands for: each ends once when this one does.
  const std::vector<SplitRef> parents;
  /// References to this split (SplitRef): it is deleted with the last.
  std::atomic<std::uint32_t> refs{0};
};

inline void retain(Split* s) noexcept {
  s->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void release(Split* s) noexcept {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}

/// An item in flight. `value` is empty for a placeholder: an item that a stage filtered
/// out or that failed travels on as a placeholder so that ordered stages downstream see
/// no gap, and so that the limiter slot it holds is given back where the item ends.
///
/// A copy made by a tee holds no slot itself: `split` does, for all the copies of the
/// item together, and gives them back when the last copy ends (docs/architecture.md,
/// "Weight and accounting").
struct EnvelopeMeta {
  std::uint64_t seq = 0;      // dense within an ordering domain (renumbered by batch, flat_map)
  std::uint64_t index = 0;    // the source item this came from, for error messages
  std::int64_t born_ns = 0;   // when the source produced it (steady clock), for latency
  std::uint32_t weight = 0;   // source items this envelope stands for (limiter slots held)
  std::uint16_t origin = 0;   // the source whose limiter the slots belong to
  Fate outcome = Fate::none;  // a placeholder: why it is one
  SplitRef split;             // set on the copies a tee made
};

template <class T>
struct Envelope : EnvelopeMeta {
  Payload<T> value;

  /// An envelope carrying the same identity as `from`, with no value yet.
  static Envelope successor_of(const EnvelopeMeta& from) {
    Envelope e;
    static_cast<EnvelopeMeta&>(e) = from;
    return e;
  }
};

/// The sequencer_node body: ordered stages reorder on the dense sequence number.
struct SeqOf {
  template <class T>
  std::size_t operator()(const Envelope<T>& e) const noexcept {
    return static_cast<std::size_t>(e.seq);
  }
};

}  // namespace sluice::detail
