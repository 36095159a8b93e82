// The stage interface: how a stage that the built-in ones cannot express (a window
// reduce, a stateful dedupe, a stage fed by a thread of its own) is written against the
// engine without reaching into it. Node families (nodes/window, ...) use only this.
//
// A stage is a class. For every item the engine calls on_item with the value and the
// item's ticket: the item's share of the run (its in-flight slot, its place in the
// accounting). The stage ends every ticket it is given exactly once, through its port:
//
//   port.emit(std::move(ticket), out)   // one output for the item
//   port.filter(std::move(ticket))      // dropped on purpose (counted as filtered)
//   port.fail(std::move(ticket), error) // failed (the run's or the stage's policy applies)
//   group.add(std::move(ticket))        // folded into a group (see ItemGroup)
//   port.emit(std::move(group), out)    // one output for every item of the group
//
// A ticket may be kept and ended later, from any thread (a timer, an I/O thread): the
// port can be used from anywhere for the whole run, and the run waits for every ticket
// to end. A ticket dropped without an outcome counts as failed, with an error that says
// so; an item is never lost silently. An exception out of on_item fails its ticket.
//
//   // Passes on the first item of each key, filters the repeats.
//   struct FirstOfKey {
//     using output_type = Event;
//     std::unordered_set<std::string> seen;  // on_item runs one call at a time
//     void on_item(Event e, sluice::ItemTicket&& t, sluice::StagePort<Event>& port) {
//       if (seen.insert(e.key).second) port.emit(std::move(t), std::move(e));
//       else port.filter(std::move(t));
//     }
//   };
//   events.then(sluice::custom_stage("first-of-key", [] { return FirstOfKey{}; }))
//         .sink("print", print);
//
// Optional members, called when present:
//   void on_start(StagePort<Out>&)        the run starts: keep the port, start threads
//   bool on_end_of_input(StagePort<Out>&) the input has ended and the graph is idle:
//                                         emit what is held back; true if it emitted
//                                         (it is called again until it returns false)
//   void on_cancel()                      the run is cancelled (from the cancelling thread)
//   void on_stop()                        the run is over: stop threads (before the
//                                         stage is destroyed)
//
// A new stage object is made for every run, by the factory given to custom_stage; a
// factory that is a template on the input type (`[]<class T>() { ... }`) makes stages
// for whatever type flows in.
//
// Outputs are numbered in the order they are emitted and, with `ordered_output` (the
// default), leave the stage in that order; ordered stages downstream follow it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/detail/custom_stage_port.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/options.hpp"

namespace sluice {

/// One item's share of the run, held by a custom stage from on_item until it ends the
/// item (see the top of this header). Move-only.
///
///   void on_item(Row r, sluice::ItemTicket&& t, sluice::StagePort<Row>& port) {
///     if (r.valid()) port.emit(std::move(t), std::move(r)); else port.filter(std::move(t));
///   }
class ItemTicket {
 public:
  ItemTicket() = default;
  ItemTicket(ItemTicket&&) noexcept = default;
  ItemTicket& operator=(ItemTicket&& other) noexcept {
    if (this != &other) {
      drop();
      meta_ = std::move(other.meta_);
      core_ = std::move(other.core_);
    }
    return *this;
  }
  ~ItemTicket() { drop(); }

  /// True until the ticket is ended (or moved from).
  bool live() const noexcept { return core_ != nullptr; }
  /// The source item's number (for messages).
  std::uint64_t index() const noexcept { return meta_.index; }

 private:
  friend class ItemGroup;
  template <class>
  friend class StagePort;

  ItemTicket(detail::EnvelopeMeta meta, std::shared_ptr<detail::PortCore> core) noexcept
      : meta_(std::move(meta)), core_(std::move(core)) {}
  void drop() noexcept {
    if (core_) std::exchange(core_, nullptr)->dropped(meta_);
  }

  detail::EnvelopeMeta meta_{};
  std::shared_ptr<detail::PortCore> core_;
};

/// Items folded into one output: a window's members, a group built by key. Adding a
/// ticket gives its in-flight slot back at once, so a group holds no slot and memory
/// grows with open groups, not with items; the items count as delivered when the group
/// is emitted (or as failed if it fails). Move-only.
///
///   ItemGroup& g = open[key];
///   g.add(std::move(ticket));
///   if (g.size() == 10) port.emit(std::move(g), summary);
class ItemGroup {
 public:
  ItemGroup() = default;
  ItemGroup(ItemGroup&& other) noexcept { *this = std::move(other); }
  ItemGroup& operator=(ItemGroup&& other) noexcept {
    if (this != &other) {
      drop();
      core_ = std::move(other.core_);
      items_ = std::exchange(other.items_, 0);
      tickets_ = std::exchange(other.tickets_, 0);
      first_index_ = other.first_index_;
      first_born_ns_ = other.first_born_ns_;
    }
    return *this;
  }
  ~ItemGroup() { drop(); }

  /// Folds `ticket` in; it is ended.
  void add(ItemTicket&& ticket) noexcept {
    if (!ticket.core_) return;
    if (tickets_++ == 0) {
      first_index_ = ticket.meta_.index;
      first_born_ns_ = ticket.meta_.born_ns;
    }
    items_ += ticket.core_->fold(ticket.meta_);
    if (!core_) core_ = ticket.core_;
    ticket.core_.reset();
  }
  /// Tickets added.
  std::uint64_t size() const noexcept { return tickets_; }
  bool empty() const noexcept { return tickets_ == 0; }
  /// The first item's number (for messages).
  std::uint64_t first_index() const noexcept { return first_index_; }

 private:
  template <class>
  friend class StagePort;

  /// The items whose outcome now goes with an output (or a failure); the group is left
  /// empty, so its destructor has nothing to drop.
  std::uint64_t hand_over() noexcept {
    core_.reset();
    tickets_ = 0;
    return std::exchange(items_, 0);
  }
  void drop() noexcept {
    if (core_ && items_ != 0) core_->dropped_group(first_index_, items_);
    hand_over();
  }

  std::shared_ptr<detail::PortCore> core_;
  std::uint64_t items_ = 0;    // source items whose outcome waits for the group's
  std::uint64_t tickets_ = 0;  // tickets added
  std::uint64_t first_index_ = 0;
  std::int64_t first_born_ns_ = 0;
};

/// Where a custom stage ends its tickets and emits its outputs. Usable from any thread
/// for the whole run; the engine owns it.
template <class Out>
class StagePort {
 public:
  /// One output for the item: `ticket`'s slot goes on with it.
  void emit(ItemTicket&& ticket, Out value) {
    if (!ticket.core_) return;
    auto core = std::move(ticket.core_);
    core->emit(sink_, std::move(ticket.meta_), std::move(value), 0);
  }
  /// One output for every item of `group` (they count as delivered as it leaves the
  /// stage). An empty group emits an output that stands for no item.
  void emit(ItemGroup&& group, Out value) {
    detail::EnvelopeMeta meta;
    meta.index = group.first_index_;
    meta.born_ns = group.tickets_ != 0 ? group.first_born_ns_ : detail::now_ns();
    core_->emit(sink_, std::move(meta), std::move(value), group.hand_over());
  }
  /// Drops the item on purpose; it counts as filtered.
  void filter(ItemTicket&& ticket) noexcept {
    if (ticket.core_) std::exchange(ticket.core_, nullptr)->filter(ticket.meta_);
  }
  /// Fails the item; the stage's (or the run's) error policy applies, which may cancel
  /// the run.
  void fail(ItemTicket&& ticket, std::exception_ptr error) noexcept {
    if (ticket.core_) std::exchange(ticket.core_, nullptr)->fail(ticket.meta_, std::move(error));
  }
  /// Fails every item of `group`, counted once each.
  void fail(ItemGroup&& group, std::exception_ptr error) noexcept {
    const std::uint64_t items = group.hand_over();
    core_->fail_group(group.first_index_, items, std::move(error));
  }

  /// True once the run is cancelled: outputs emitted now are dropped.
  bool cancelled() const noexcept { return core_->cancelled(); }
  /// When the run started (to align time windows on).
  std::chrono::steady_clock::time_point run_started() const noexcept {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(core_->started_ns()));
  }

  StagePort(const StagePort&) = delete;
  StagePort& operator=(const StagePort&) = delete;

 private:
  friend struct detail::TicketAccess;  // the engine's side (custom_stage_node.hpp)

  StagePort(std::shared_ptr<detail::PortCore> core, detail::OutputSink<Out> sink)
      : core_(std::move(core)), sink_(std::move(sink)) {}
  ItemTicket ticket(detail::EnvelopeMeta meta) { return ItemTicket(std::move(meta), core_); }

  std::shared_ptr<detail::PortCore> core_;
  detail::OutputSink<Out> sink_;
};

struct CustomStageOptions {
  /// on_item calls at once: 1 (serial, the default: the stage's state needs no lock),
  /// N, or sluice::unlimited.
  std::size_t concurrency = 1;
  /// Items reach on_item in input order (a reorder buffer in front).
  bool ordered = false;
  /// Outputs leave in the order they were emitted (a reorder buffer after).
  bool ordered_output = true;
  /// Overrides the run's policy for failures in this stage.
  std::optional<ErrorPolicy> on_error{};
  /// What the Report's `kind` column and to_dot() call it.
  std::string kind = "custom";
  /// Appended to its node in to_dot(), e.g. "tumbling 10s, timer thread".
  std::string describe{};
};

}  // namespace sluice

#include "sluice/detail/custom_stage_node.hpp"

namespace sluice {

/// A stage written against the stage interface, for Flow::then. `factory()` (or
/// `factory.template operator()<T>()` for T flowing in) makes a fresh stage per run.
///
///   flow.then(sluice::custom_stage("dedupe", [] { return FirstOfKey{}; }))
template <class Factory>
detail::CustomStage<Factory> custom_stage(std::string name, Factory factory,
                                          CustomStageOptions options = {}) {
  return {std::move(name), std::move(factory), std::move(options)};
}

}  // namespace sluice
