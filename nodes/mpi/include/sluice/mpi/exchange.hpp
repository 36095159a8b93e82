// Exchange<T>: every item goes to the rank that owns its key, so that a keyed reduce over
// all ranks sees each key's items in one place.
//
//   sluice::mpi::Exchange<Event> exchange(world, sluice::mpi::by_key<Event>(
//       [](const Event& e) { return e.user; }, world));
//   auto sending = sluice::from("events", sluice::mpi::Shard(n, world).indices())
//                      .map("parse", parse)
//                      .apply(exchange.to_owners());                  // async: never blocks
//   auto receiving = sluice::generate("owned", exchange.from_ranks())  // this rank's keys
//                        .then(sluice::window::tumbling<Sum>(...))
//                        .sink("print", print);
//   auto [sent, received] = exchange.run(sending, receiving);         // both, until all end
//
// Sending is an async stage (the same contract as the HTTP stage): an item completes when
// it is on its way within its owner's credit, so a slow owner fills the stage and holds
// the source back, and no worker ever waits on the network. The receiving side is a
// generator: it yields items from every rank (this one's own without MPI) and ends once
// every rank has finished sending and all of it has arrived, also on a rank that owns
// nothing. Items travel in batches on the exchange's own thread (exchange_transport.hpp).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <sluice/completion.hpp>
#include <sluice/flow.hpp>
#include <sluice/pipeline.hpp>

#include "sluice/mpi/codec.hpp"
#include "sluice/mpi/exchange_transport.hpp"
#include "sluice/mpi/world.hpp"

namespace sluice::mpi {

/// An owner function from a key function: the key's std::hash, modulo the ranks (the
/// ranks run one binary, so they agree on every hash).
template <class T, class KeyFn>
std::function<int(const T&)> by_key(KeyFn key, const World& world) {
  return [key = std::move(key), ranks = static_cast<std::size_t>(world.size())](const T& item) {
    const auto& k = key(item);
    return static_cast<int>(std::hash<std::remove_cvref_t<decltype(k)>>{}(k) % ranks);
  };
}

template <class T>
class Exchange {
 public:
  /// `owner(item)` names the rank the item goes to (0 <= owner < world.size()).
  /// Collective: every rank makes its exchanges in the same order.
  Exchange(const World& world, std::function<int(const T&)> owner, ExchangeOptions options = {})
      : owner_(std::move(owner)), transport_(std::make_shared<ExchangeTransport>(world, options)) {}

  /// The sending end, for Flow<T>::apply: an async stage handing each item to its owner,
  /// completing with the owner's rank, then a sink counting what left.
  auto to_owners(std::string name = "to_owners") const {
    return [name, op = send_op(), limit = transport_->options().max_in_flight](Flow<T> flow) {
      return flow.template async_map<int>(name, op, {.max_in_flight = limit})
          .sink(name + ".sent", [](int) {});
    };
  }

  /// The async operation alone, op(item, Completion<int>), for graphs that do more with
  /// the owner's rank.
  auto send_op() const {
    return [owner = owner_, transport = transport_](T item, Completion<int> done) {
      const int to = owner(item);
      transport->submit(to, encode(item), [done, to](std::exception_ptr error) mutable {
        if (error) {
          done.fail(error);
        } else {
          done.succeed(to);
        }
      });
    };
  }

  /// The receiving end, for sluice::generate: the items this rank owns, from every rank.
  auto from_ranks() const {
    return [transport = transport_]() -> std::optional<T> {
      Bytes bytes;
      if (!transport->next(bytes)) return std::nullopt;
      return decode<T>(bytes);
    };
  }

  /// This rank sends nothing more (run() says so when the sending pipeline returns).
  void finish_sending() { transport_->finish_sending(); }
  /// The receiving end stops; this rank's END still goes, so other ranks still end.
  void cancel() { transport_->cancel(); }
  /// Stops this rank's exchange because of `reason` and every other rank's with it (run()
  /// does this when a run fails).
  void abort(const std::string& reason) { transport_->abort(reason); }
  ExchangeStats stats() const { return transport_->stats(); }

  /// Runs the receiving pipeline on a thread of its own and the sending one here, then
  /// finishes sending; returns both reports once both have ended. If a run throws,
  /// sending is finished anyway (so every rank still ends) and the error is rethrown
  /// once both runs have ended (the receiving run's first: a failed receiver cancels
  /// the exchange, which then fails the items still waiting to be sent).
  std::pair<Report, Report> run(const Pipeline& sending, const Pipeline& receiving,
                                const RunOptions& options = {}) {
    std::optional<Report> received;
    std::exception_ptr receive_error;
    // A run that fails stops the exchange and tells every other rank (in its END), whose
    // runs then stop with an error naming this rank and this one's error (fail-fast).
    auto stop_all = [this](const std::exception_ptr& error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        transport_->abort(e.what());
      } catch (...) {
        transport_->abort("a run failed with an exception that is not a std::exception");
      }
    };
    std::thread receiver([&] {
      try {
        received = receiving.run(options);
      } catch (...) {
        receive_error = std::current_exception();
        stop_all(receive_error);
      }
    });
    std::optional<Report> sent;
    std::exception_ptr send_error;
    try {
      sent = sending.run(options);
    } catch (...) {
      send_error = std::current_exception();
      stop_all(send_error);
    }
    finish_sending();
    receiver.join();
    // A receiving run that failed cancels the exchange, which fails the items still
    // waiting to be sent: its error is the cause, so it is the one reported.
    if (receive_error) std::rethrow_exception(receive_error);
    if (send_error) std::rethrow_exception(send_error);
    return {std::move(*sent), std::move(*received)};
  }

 private:
  std::function<int(const T&)> owner_;
  std::shared_ptr<ExchangeTransport> transport_;
};

}  // namespace sluice::mpi
