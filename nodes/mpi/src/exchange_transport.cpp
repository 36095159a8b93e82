#include "sluice/mpi/exchange_transport.hpp"

#include <sluice/completion.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::mpi {
namespace {

constexpr int kDataTag = 1;
constexpr int kCreditTag = 2;
constexpr int kEndTag = 3;
// One item's frame in a batch: its size, then its bytes.
constexpr std::size_t kFrame = sizeof(std::uint64_t);
// MPI counts are int: a batch (and so an item) must stay below this.
constexpr std::size_t kMaxItem = std::size_t{1} << 30;

}  // namespace

ExchangeTransport::ExchangeTransport(const World& world, ExchangeOptions options)
    : rank_(world.rank()), size_(world.size()), options_(options) {
  if (world.thread_level() < MPI_THREAD_SERIALIZED) {
    throw std::runtime_error(
        "sluice::mpi::Exchange: the MPI library gives thread level " +
        std::to_string(world.thread_level()) +
        "; an exchange needs MPI_THREAD_SERIALIZED or more (it talks on a thread of its own)");
  }
  if (options_.batch_bytes == 0 || options_.credit_bytes == 0 || options_.max_in_flight == 0) {
    throw std::invalid_argument(
        "sluice::mpi::Exchange: batch_bytes, credit_bytes and max_in_flight must be at least 1");
  }
  options_.batch_bytes = std::min(options_.batch_bytes, kMaxItem);
  // A communicator of its own: its probes for any tag never take another exchange's (or a
  // gather's) messages.
  check(MPI_Comm_dup(world.comm(), &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  peers_.resize(static_cast<std::size_t>(size_));
  thread_ = std::thread([this] { loop(); });
}

ExchangeTransport::~ExchangeTransport() {
  // Whatever is unread is dropped (its bytes go back as credit) and whatever waits ends
  // with an error; the thread still sends END and waits for its peers' last messages, so
  // the communicator goes with nothing left unmatched.
  cancel();
  if (thread_.joinable()) thread_.join();
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void ExchangeTransport::submit(int to, Bytes item, Accepted accepted) {
  if (to < 0 || to >= size_) {
    throw std::invalid_argument("sluice::mpi::Exchange: rank " + std::to_string(to) +
                                " is not one of " + std::to_string(size_) + " ranks");
  }
  if (item.size() + kFrame > kMaxItem) {
    throw std::length_error("sluice::mpi::Exchange: an item of " + std::to_string(item.size()) +
                            " bytes is over the 1 GiB an exchange carries");
  }
  {
    std::lock_guard lock(mutex_);
    if (!peer_failure_.empty()) throw std::runtime_error(peer_failure_);
    if (cancelled_) {
      throw std::runtime_error(
          "sluice::mpi::Exchange: the exchange was stopped; the item was not sent");
    }
    if (finishing_) {
      throw std::logic_error("sluice::mpi::Exchange: an item was sent after finish_sending()");
    }
    peers_[static_cast<std::size_t>(to)].waiting.push_back({std::move(item), std::move(accepted)});
    work_ = true;
  }
  wake_thread_.notify_one();
}

void ExchangeTransport::finish_sending() {
  {
    std::lock_guard lock(mutex_);
    finishing_ = true;
    work_ = true;
  }
  wake_thread_.notify_one();
  wake_reader_.notify_all();
}

std::vector<ExchangeTransport::Accepted> ExchangeTransport::drop_waiting() {
  std::vector<Accepted> dropped;
  for (auto& p : peers_) {
    for (auto& w : p.waiting) dropped.push_back(std::move(w.accepted));
    p.waiting.clear();
  }
  return dropped;
}

namespace {
void refuse(std::vector<ExchangeTransport::Accepted>& callbacks, const std::string& why) {
  if (callbacks.empty()) return;
  auto error = std::make_exception_ptr(std::runtime_error(why));
  for (auto& a : callbacks) a(error);
}
}  // namespace

// Under the lock: stop reading and accepting. Returns the callbacks of the items that
// will never be sent, to be refused outside the lock.
std::vector<ExchangeTransport::Accepted> ExchangeTransport::stop_locked() {
  cancelled_ = true;
  finishing_ = true;
  auto dropped = drop_waiting();
  for (auto& in : inbox_) {
    const std::uint64_t n = in.item.size() + kFrame;
    if (in.from == rank_) {
      peers_[static_cast<std::size_t>(rank_)].held -= n;
    } else {
      peers_[static_cast<std::size_t>(in.from)].to_credit += n;
    }
  }
  inbox_.clear();
  work_ = true;
  return dropped;
}

void ExchangeTransport::cancel() {
  std::vector<Accepted> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped = stop_locked();
  }
  wake_thread_.notify_one();
  wake_reader_.notify_all();
  refuse(dropped, "sluice::mpi::Exchange: cancelled before the item could be sent");
}

void ExchangeTransport::abort(const std::string& reason) {
  std::vector<Accepted> dropped;
  {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) failure_ = reason.empty() ? std::string("a run failed") : reason;
    dropped = stop_locked();
  }
  wake_thread_.notify_one();
  wake_reader_.notify_all();
  refuse(dropped, "sluice::mpi::Exchange: this rank's run failed before the item could be sent");
}

bool ExchangeTransport::next(Bytes& item) {
  std::unique_lock lock(mutex_);
  wake_reader_.wait(lock, [&] { return cancelled_ || !inbox_.empty() || received_everything(); });
  if (!peer_failure_.empty()) throw std::runtime_error(peer_failure_);
  if (cancelled_ || inbox_.empty()) return false;
  Incoming in = std::move(inbox_.front());
  inbox_.pop_front();
  const std::uint64_t n = in.item.size() + kFrame;
  Peer& from = peers_[static_cast<std::size_t>(in.from)];
  if (in.from == rank_) {
    from.held -= n;  // read here: the credit is back at once
  } else {
    from.to_credit += n;
  }
  item = std::move(in.item);
  work_ = true;
  lock.unlock();
  wake_thread_.notify_one();
  return true;
}

ExchangeStats ExchangeTransport::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool ExchangeTransport::received_everything() const {
  for (int p = 0; p < size_; ++p) {
    const Peer& peer = peers_[static_cast<std::size_t>(p)];
    if (p == rank_) {
      if (!finishing_ || !peer.waiting.empty() || !peer.batch.empty()) return false;
    } else if (peer.batches_expected < 0 ||
               peer.batches_received != static_cast<std::uint64_t>(peer.batches_expected)) {
      return false;
    }
  }
  return true;
}

bool ExchangeTransport::done() const {
  if (!finishing_ || !ends_sent_ || !sends_.empty() || !received_everything() || !inbox_.empty()) {
    return false;
  }
  return std::all_of(peers_.begin(), peers_.end(), [](const Peer& p) {
    return p.held == 0 && p.to_credit == 0 && p.waiting.empty() && p.batch.empty();
  });
}

void ExchangeTransport::credit(int peer, std::uint64_t bytes) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  p.held -= std::min(p.held, bytes);
}

bool ExchangeTransport::accept_waiting(int to, std::vector<Accepted>& accepted) {
  Peer& p = peers_[static_cast<std::size_t>(to)];
  bool progress = false;
  if (!p.waiting.empty() && p.batch.capacity() == 0) p.batch = spare_batch();
  while (!p.waiting.empty()) {
    Waiting& w = p.waiting.front();
    const std::uint64_t n = w.item.size() + kFrame;
    if (p.held != 0 && p.held + n > options_.credit_bytes) {
      ++stats_.credit_waits;
      break;
    }
    p.held += n;
    stats_.peak_peer_bytes = std::max(stats_.peak_peer_bytes, p.held);
    const std::uint64_t size = w.item.size();
    const auto* s = reinterpret_cast<const std::byte*>(&size);
    p.batch.insert(p.batch.end(), s, s + kFrame);
    p.batch.insert(p.batch.end(), w.item.begin(), w.item.end());
    if (to == rank_) {
      ++stats_.items_kept;
    } else {
      ++stats_.items_sent;
    }
    accepted.push_back(std::move(w.accepted));
    p.waiting.pop_front();
    progress = true;
    if (p.batch.size() >= options_.batch_bytes) send_batches(false);
  }
  return progress;
}

bool ExchangeTransport::send_batches(bool partial) {
  bool progress = false;
  for (int to = 0; to < size_; ++to) {
    Peer& p = peers_[static_cast<std::size_t>(to)];
    if (p.batch.empty() || (!partial && p.batch.size() < options_.batch_bytes)) continue;
    Bytes batch = std::exchange(p.batch, spare_batch());
    progress = true;
    if (to == rank_) {
      deliver_batch(rank_, batch);
      batch.clear();
      spare_.push_back(std::move(batch));
      continue;
    }
    ++p.batches_sent;
    ++stats_.batches_sent;
    stats_.bytes_sent += batch.size();
    sends_.push_back({MPI_REQUEST_NULL, std::move(batch)});
    Send& s = sends_.back();
    check(MPI_Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), MPI_BYTE, to, kDataTag, comm_,
                    &s.request),
          "MPI_Isend (exchange batch)");
  }
  return progress;
}

Bytes ExchangeTransport::spare_batch() {
  if (spare_.empty()) {
    Bytes fresh;
    fresh.reserve(options_.batch_bytes + kFrame);
    return fresh;
  }
  Bytes b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

bool ExchangeTransport::send_ends() {
  if (ends_sent_ || !finishing_) return false;
  for (const Peer& p : peers_) {
    if (!p.waiting.empty() || !p.batch.empty()) return false;
  }
  for (int to = 0; to < size_; ++to) {
    if (to == rank_) continue;
    // END carries the batches sent there (MPI keeps order only per tag) and this rank's
    // failure, if its run failed: the peer's runs stop with it.
    const auto count = static_cast<std::int64_t>(peers_[static_cast<std::size_t>(to)].batches_sent);
    sends_.push_back({MPI_REQUEST_NULL, encode(std::make_pair(count, failure_))});
    Send& s = sends_.back();
    check(MPI_Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), MPI_BYTE, to, kEndTag, comm_,
                    &s.request),
          "MPI_Isend (exchange end)");
  }
  ends_sent_ = true;
  return true;
}

void ExchangeTransport::deliver_batch(int from, std::span<const std::byte> batch) {
  ByteReader r(batch);
  while (r.remaining() != 0) {
    const auto size = r.get<std::uint64_t>();
    Bytes item(static_cast<std::size_t>(std::min<std::uint64_t>(size, r.remaining())));
    r.get_bytes(item.data(), size);
    if (cancelled_) {
      // Nobody will read it: its bytes go straight back as credit.
      if (from == rank_) {
        credit(rank_, size + kFrame);
      } else {
        peers_[static_cast<std::size_t>(from)].to_credit += size + kFrame;
      }
      continue;
    }
    if (from != rank_) ++stats_.items_received;
    inbox_.push_back({from, std::move(item)});
  }
}

bool ExchangeTransport::receive() {
  bool progress = false;
  for (int k = 0; k < 64; ++k) {
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status), "MPI_Iprobe");
    if (flag == 0) break;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    received_.resize(static_cast<std::size_t>(count));
    check(MPI_Recv(received_.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_,
                   MPI_STATUS_IGNORE),
          "MPI_Recv (exchange)");
    const std::span<const std::byte> bytes(received_);
    Peer& from = peers_[static_cast<std::size_t>(status.MPI_SOURCE)];
    if (status.MPI_TAG == kDataTag) {
      ++from.batches_received;
      deliver_batch(status.MPI_SOURCE, bytes);
    } else if (status.MPI_TAG == kCreditTag) {
      credit(status.MPI_SOURCE, decode<std::uint64_t>(bytes));
    } else if (status.MPI_TAG == kEndTag) {
      auto [count, failure] = decode<std::pair<std::int64_t, std::string>>(bytes);
      from.batches_expected = count;
      if (!failure.empty() && peer_failure_.empty()) {
        peer_failure_ = "sluice::mpi::Exchange: rank " + std::to_string(status.MPI_SOURCE) +
                        " failed: " + failure;
        auto dropped = stop_locked();
        refused_.insert(refused_.end(), std::make_move_iterator(dropped.begin()),
                        std::make_move_iterator(dropped.end()));
        wake_reader_.notify_all();
      }
    }
    progress = true;
  }
  return progress;
}

bool ExchangeTransport::return_credit() {
  bool progress = false;
  for (int to = 0; to < size_; ++to) {
    Peer& p = peers_[static_cast<std::size_t>(to)];
    if (to == rank_ || p.to_credit == 0) continue;
    // In quarters of the credit while items are read, and all of it once nothing is left
    // to read, so a sender waiting for its last credit is not kept waiting.
    if (p.to_credit < options_.credit_bytes / 4 && !inbox_.empty()) continue;
    const std::uint64_t n = std::exchange(p.to_credit, 0);
    sends_.push_back({MPI_REQUEST_NULL, encode(n)});
    Send& s = sends_.back();
    check(MPI_Isend(s.bytes.data(), static_cast<int>(s.bytes.size()), MPI_BYTE, to, kCreditTag,
                    comm_, &s.request),
          "MPI_Isend (exchange credit)");
    progress = true;
  }
  return progress;
}

bool ExchangeTransport::complete_sends() {
  bool progress = false;
  for (auto it = sends_.begin(); it != sends_.end();) {
    int flag = 0;
    check(MPI_Test(&it->request, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    if (flag != 0) {
      if (it->bytes.capacity() >= options_.batch_bytes && spare_.size() < 4) {
        it->bytes.clear();
        spare_.push_back(std::move(it->bytes));
      }
      it = sends_.erase(it);
      progress = true;
    } else {
      ++it;
    }
  }
  return progress;
}

namespace {
// A round's accepted items reach their stage in one hand-over, not one per item.
void accept_all(std::vector<ExchangeTransport::Accepted>& accepted) {
  sluice::CompletionBatch batch;
  for (auto& a : accepted) a(nullptr);
}
}  // namespace

void ExchangeTransport::loop() {
  using namespace std::chrono;
  microseconds nap(20);
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ = false;
    std::vector<Accepted> accepted;
    bool progress = false;
    const std::size_t inbox_before = inbox_.size();
    try {
      for (int to = 0; to < size_; ++to) progress |= accept_waiting(to, accepted);
      progress |= send_batches(true);  // what is ready goes now, partial or not
      progress |= send_ends();
      progress |= receive();
      progress |= return_credit();
      progress |= complete_sends();
    } catch (...) {
      // An MPI call failed: nothing more can travel. The reader stops; the error is
      // not lost, but there is no item to carry it (see docs/architecture.md).
      cancelled_ = true;
      finishing_ = true;
      inbox_.clear();
      auto dropped = drop_waiting();
      wake_reader_.notify_all();
      lock.unlock();
      accept_all(accepted);
      refuse(dropped, "sluice::mpi::Exchange: an MPI call failed; the item was not sent");
      return;
    }
    if (inbox_.size() != inbox_before || received_everything()) wake_reader_.notify_all();
    if (done()) {
      wake_reader_.notify_all();
      auto refused = std::move(refused_);
      const std::string why = peer_failure_;
      lock.unlock();
      accept_all(accepted);
      refuse(refused, why);
      return;
    }
    if (!accepted.empty() || !refused_.empty()) {
      // Completions run engine code that may submit again: never under the lock.
      auto refused = std::move(refused_);
      refused_.clear();
      const std::string why = peer_failure_;
      lock.unlock();
      accept_all(accepted);
      refuse(refused, why);
      lock.lock();
    }
    if (progress || work_) {
      nap = microseconds(20);
      continue;
    }
    if (!sends_.empty()) {
      // A large batch travels in fragments, and each needs this side to call into MPI:
      // a nap here would stall the receiver (measured: 64 KiB items at 1% of bare MPI's
      // bandwidth with naps of up to 1 ms). Stay close while sends are in flight.
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
      continue;
    }
    // Nothing moved: messages from other ranks wake nobody, so look again after a nap
    // that grows to 1 ms while the exchange stays quiet.
    wake_thread_.wait_for(lock, nap, [&] { return work_; });
    nap = std::min(nap * 2, microseconds(1000));
  }
}

}  // namespace sluice::mpi
