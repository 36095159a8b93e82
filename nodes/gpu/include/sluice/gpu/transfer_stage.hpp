// TransferStage: moves HostBatches to the device with the engine's async contract,
// `void(HostBatch, sluice::Completion<DeviceBatch>)`, so no worker thread ever waits on
// the GPU.
//
// How it runs. A call only appends the batch to the stage's queue (a short lock, never a
// wait) and returns. The stage's own completion thread takes batches in submission order:
// it leases a staging buffer and a device buffer, copies the batch into staging (pinned
// memory on CUDA) unless the producer wrote it there already, and starts the copy on the
// backend (cudaMemcpyAsync on the stage's stream; a memcpy on the host backend). While one
// copy is on the copy engine it stages the next batch, so the staging copy overlaps the
// transfer. When the copy ends, the staging buffer goes back to its pool and the completion
// receives a DeviceBatch that owns the device buffer.
//
// Bounded memory without blocking. Both pools are bounded (TransferOptions). When a pool is
// exhausted — typically because the consumer still holds every device batch — the transfer
// waits its turn (keeping a buffer it already got, so a later one cannot overtake it) and
// starts when a buffer comes back; nothing blocks. The queue itself is bounded by the
// caller (the pipeline's in-flight limit).
//
// At most `concurrency` copies (default 1) are started and unfinished at any time: a copy
// engine does one transfer at a time, so more only queue on the GPU (which hides the gap
// between one copy's end and the next one's start).
//
// Errors. A copy that fails completes its transfer with the backend's error text. When the
// backend reports a DeviceFault (on CUDA: a sticky context error, e.g. an illegal address
// in any kernel), every transfer not yet delivered fails at once with that text, and so
// does every later submission: wait_idle() and the destructor return instead of waiting
// for copies that will never end.
//
// Buffer reuse. A DeviceBatch's buffer is reused by a later copy as soon as it is back in
// the pool. A consumer whose kernels read the batch asynchronously hands it back with
// DeviceBatch::release_after(stream) (see device_batch.hpp), not by dropping it.
//
//   sluice::gpu::TransferStage transfer({.device = sluice::gpu::parse_device(flag)});
//   sluice::AsyncOptions async{.max_in_flight = 4, .on_cancel = [transfer] { transfer.cancel(); }};
//   auto batches = sluice::from("ids", ids)
//                      .map("load", load_batch, {.concurrency = 4})  // -> HostBatch
//                      .async_map("transfer", transfer, async)
//                      .consume();
//   for (sluice::gpu::DeviceBatch& batch : batches) train_step(batch);
//
//   // outside a pipeline:
//   transfer(sluice::gpu::HostBatch(bytes), sluice::make_completion<sluice::gpu::DeviceBatch>(
//       [](sluice::Outcome<sluice::gpu::DeviceBatch> o) { if (o.ok()) use(*o.value); }));
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/completion.hpp>
#include <sluice/gpu/buffer_pool.hpp>
#include <sluice/gpu/copy_engine.hpp>
#include <sluice/gpu/device.hpp>
#include <sluice/gpu/device_batch.hpp>
#include <sluice/gpu/host_batch.hpp>

namespace sluice::gpu {

/// The failure a transfer completes with when it was cancelled (TransferStage::cancel, the
/// run's cancellation, or the stage going away) before it was delivered.
///
///   try { std::rethrow_exception(outcome.error); }
///   catch (const sluice::gpu::TransferCancelled&) { /* not an error of the data */ }
class TransferCancelled : public std::runtime_error {
 public:
  TransferCancelled() : std::runtime_error("sluice::gpu: transfer cancelled") {}
};

/// How a TransferStage is set up.
///
///   TransferOptions o;
///   o.device = Device::cuda;
///   o.device_buffers = 8;          // batches the consumer may hold + the one in flight
struct TransferOptions {
  /// Backend choice (ignored when `engine` is set).
  Device device = Device::auto_detect;
  /// CUDA device index for Device::cuda / auto_detect; -1 (the default) takes the device
  /// current on the constructing thread (cudaGetDevice), as a CUDA program would expect.
  int cuda_device = -1;
  /// Copies started and unfinished at once; 1 matches a GPU's single copy engine.
  std::size_t concurrency = 1;
  /// Staging (pinned) buffers the stage copies ordinary batches into; 2 lets the next
  /// batch be staged while one copy runs.
  std::size_t staging_buffers = 2;
  /// Staging buffers lent to producers by try_stage. A separate pool, so batches a
  /// producer staged and queued can never starve the stage of its own staging buffers.
  std::size_t producer_staging_buffers = 2;
  /// Device buffers: those held downstream plus those in flight. When all are held,
  /// transfers wait (without blocking anyone) until one is released.
  std::size_t device_buffers = 4;
  /// Where the one-time "no CUDA device, using the host backend" notice goes; stderr when
  /// empty.
  NoticeSink on_notice{};
  /// A ready-made backend (tests, custom devices); overrides `device`.
  std::shared_ptr<CopyEngine> engine{};
};

/// What a stage has done, and what it holds now.
///
///   TransferStats s = stage.stats();
///   std::printf("%llu batches, peak %zu copies at once, device pool peak %zu/%zu\n",
///               static_cast<unsigned long long>(s.delivered), s.max_in_flight,
///               s.device.high_water, s.device.capacity);
struct TransferStats {
  std::uint64_t submitted = 0;
  std::uint64_t delivered = 0;           ///< completed with a DeviceBatch
  std::uint64_t failed = 0;              ///< completed with an error other than cancellation
  std::uint64_t cancelled = 0;           ///< completed with TransferCancelled
  std::uint64_t bytes = 0;               ///< bytes delivered
  std::uint64_t staged_by_producer = 0;  ///< batches that arrived already in staging memory
  std::size_t pending = 0;               ///< submitted and not completed yet
  std::size_t in_flight = 0;             ///< copies started and not finished now
  std::size_t max_in_flight = 0;         ///< most copies started and unfinished at once
  PoolStats staging;
  PoolStats producer_staging;
  PoolStats device;
};

/// The stage. A cheap handle: copies share one stage (one queue, one thread, one pool
/// pair), so it can be passed by value to a pipeline. The stage lives until the last copy
/// is gone; destroying it cancels what is still queued and waits for the copy in flight.
///
///   sluice::gpu::TransferStage transfer({.device = Device::auto_detect, .device_buffers = 8});
///   transfer(std::move(host_batch), done);   // returns at once; `done` completes later
///   transfer.wait_idle();                    // at shutdown, on the main thread
class TransferStage {
 public:
  /// What the stage produces: lets Flow::async_map infer its output type.
  using output_type = DeviceBatch;

  /// Picks the backend (make_copy_engine) and starts the completion thread. Throws when
  /// Device::cuda is requested and no device is usable.
  explicit TransferStage(TransferOptions options = {});

  /// Starts (or queues) the transfer of `batch`; `done` completes exactly once, on the
  /// stage's completion thread. Never blocks beyond a short lock.
  void operator()(HostBatch batch, Completion<DeviceBatch> done) const;

  /// A batch of `bytes` bytes on a staging buffer lent by the stage (pinned on CUDA), for a
  /// producer to fill in place — the stage then skips its own staging copy. nullopt when
  /// every producer staging buffer is taken: fall back to an ordinary HostBatch then.
  /// Never blocks; throws only when the memory resource fails.
  std::optional<HostBatch> try_stage(std::size_t bytes, std::vector<std::int64_t> shape = {}) const;

  /// Completes every queued transfer as cancelled and releases its buffers; a copy already
  /// on the device completes as cancelled when it ends (its buffers are back in the pools
  /// before its completion runs). Transfers submitted after the call run normally.
  void cancel() const;

  /// Blocks until every submitted transfer has completed. For shutdown and tests — never
  /// from a worker thread or from a completion callback.
  void wait_idle() const;

  TransferStats stats() const;
  /// The backend in use: Device::cpu or Device::cuda.
  Device device() const noexcept;
  /// The backend in words, e.g. "cuda:0 NVIDIA H100" or "host".
  std::string describe() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice::gpu
