// ExchangeTransport: the byte-level half of sluice::mpi::Exchange (exchange.hpp), one
// communication thread per exchange, using non-blocking MPI calls only.
//
// Sending: submit(to, bytes, accepted) queues an encoded item for rank `to`. Items for one
// rank are packed into batches; a batch leaves when it reaches batch_bytes, or as soon as
// no more items are waiting (a batch is made of what is ready, never held back for more).
// `accepted(nullptr)` runs on the communication thread once the item fits in the rank's credit:
// at most credit_bytes per peer are on their way or unread there, so a slow receiver
// slows its senders (their async stage fills up) instead of growing buffers.
//
// Receiving: next() hands out the items this rank owns, from every rank (itself
// included, without MPI), and returns false once every rank has said it finished
// sending and every item it sent has been handed out. Reading an item gives its bytes
// back to the sender as credit.
//
// Termination counts messages: each rank ends its sending with an END message to every
// peer carrying the number of batches it sent there, so a receiver knows when it has
// them all whatever order tags arrive in. The thread stops when this rank has finished
// sending, has received everything, every send has completed, and every byte it sent has
// been credited back (so no message is left unmatched when the communicator goes).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "sluice/mpi/codec.hpp"
#include "sluice/mpi/world.hpp"

namespace sluice::mpi {

struct ExchangeOptions {
  /// A batch to one rank leaves when it holds this many bytes (or when nothing else waits).
  std::size_t batch_bytes = 64 * 1024;
  /// Bytes per peer on their way or unread at the peer, at most (one item larger than
  /// this still travels, alone).
  std::size_t credit_bytes = 4 * 1024 * 1024;
  /// The sending stage's async limit: items handed to the exchange and not yet accepted.
  std::size_t max_in_flight = 4096;
};

/// What an exchange did on this rank.
struct ExchangeStats {
  std::uint64_t items_sent = 0;      // to other ranks
  std::uint64_t items_kept = 0;      // owned by this rank (never left it)
  std::uint64_t items_received = 0;  // from other ranks
  std::uint64_t batches_sent = 0;
  std::uint64_t bytes_sent = 0;
  /// The most bytes this rank held for any one peer at once: waiting in a batch, on their
  /// way, or unread at the peer (bounded by credit_bytes, or one item when larger).
  std::uint64_t peak_peer_bytes = 0;
  /// Items that waited for credit before they were accepted.
  std::uint64_t credit_waits = 0;
};

class ExchangeTransport {
 public:
  /// Collective: every rank constructs its exchanges in the same order.
  ExchangeTransport(const World& world, ExchangeOptions options);
  ~ExchangeTransport();
  ExchangeTransport(const ExchangeTransport&) = delete;
  ExchangeTransport& operator=(const ExchangeTransport&) = delete;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  const ExchangeOptions& options() const noexcept { return options_; }

  /// Called once per item: with nullptr when the item is on its way, or with the reason it
  /// never will be (a cancel, a failed MPI call).
  using Accepted = std::function<void(std::exception_ptr)>;

  void submit(int to, Bytes item, Accepted accepted);
  /// This rank sends nothing more: its last batches leave, then END to every peer.
  void finish_sending();
  /// The next item this rank owns, or false when there will be no more (or on cancel).
  bool next(Bytes& item);
  /// Stops waiting: next() returns false, and items not yet accepted end with an error.
  /// Other ranks are not told; they end when this rank's END reaches them.
  void cancel();
  /// Stops as cancel() does, because this rank's run failed with `reason`, and tells every
  /// other rank in its END: there, next() throws and items waiting to be sent fail, with
  /// an error naming this rank and `reason`, so their runs stop too (fail-fast).
  void abort(const std::string& reason);
  ExchangeStats stats() const;

 private:
  struct Waiting {
    Bytes item;
    Accepted accepted;
  };
  struct Peer {
    std::deque<Waiting> waiting;  // over credit
    Bytes batch;                  // items accepted, not yet sent: [u64 size][bytes]...
    std::uint64_t held = 0;       // bytes accepted and not yet credited back
    std::uint64_t batches_sent = 0;
    std::uint64_t batches_received = 0;
    std::int64_t batches_expected = -1;  // from its END; -1 until it comes
    std::uint64_t to_credit = 0;         // bytes of its items read here, not yet credited
  };
  struct Incoming {
    int from;
    Bytes item;
  };

  void loop();
  bool accept_waiting(int to, std::vector<Accepted>& accepted);
  std::vector<Accepted> drop_waiting();
  std::vector<Accepted> stop_locked();
  bool send_batches(bool idle);
  bool send_ends();
  bool receive();
  bool return_credit();
  bool complete_sends();
  void deliver_batch(int from, std::span<const std::byte> batch);
  Bytes spare_batch();
  void credit(int peer, std::uint64_t bytes);
  bool received_everything() const;
  bool done() const;

  int rank_;
  int size_;
  ExchangeOptions options_;
  MPI_Comm comm_ = MPI_COMM_NULL;

  mutable std::mutex mutex_;
  std::condition_variable wake_thread_;
  std::condition_variable wake_reader_;
  std::vector<Peer> peers_;
  std::deque<Incoming> inbox_;
  bool finishing_ = false;
  bool ends_sent_ = false;
  bool cancelled_ = false;
  std::string failure_;       // this rank's, sent with END to every peer
  std::string peer_failure_;  // a peer's, from its END: next() and submit() throw it
  bool work_ = false;         // something for the thread since it last looked
  ExchangeStats stats_;

  // Touched by the communication thread only.
  struct Send {
    MPI_Request request;
    Bytes bytes;
  };
  std::deque<Send> sends_;
  // Batch buffers whose sends completed, and one buffer messages are received into:
  // reused, because a fresh buffer of a batch's size comes from mmap and costs a page
  // fault per 4 KiB on first touch (measured: most of the sender's time with 64 KiB items).
  std::vector<Bytes> spare_;
  Bytes received_;
  std::vector<Accepted> refused_;  // items a peer's failure stopped, refused outside the lock

  std::thread thread_;
};

}  // namespace sluice::mpi
