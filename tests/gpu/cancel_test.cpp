// Cancellation: cancel() mid-transfer, a run's cancellation, and the stage going away —
// every completion arrives exactly once and every buffer goes back.
#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::Outcome;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferCancelled;
using sluice::gpu::TransferStage;

bool is_cancelled(const Outcome<DeviceBatch>& o) {
  if (o.ok()) return false;
  try {
    std::rethrow_exception(o.error);
  } catch (const TransferCancelled&) {
    return true;
  } catch (...) {
    return false;
  }
}

struct Tally {
  explicit Tally(std::size_t n) : calls(n), cancelled(n) {}
  std::vector<std::atomic<int>> calls;
  std::vector<std::atomic<bool>> cancelled;
};

auto tally(Tally& t, std::size_t i, std::latch& done) {
  return sluice::make_completion<DeviceBatch>([&t, &done, i](Outcome<DeviceBatch> o) {
    t.cancelled[i] = is_cancelled(o);
    ++t.calls[i];
    done.count_down();
  });
}

TEST(gpu_transfer_cancel, CancelMidTransferReleasesEverythingAndCompletesEachOnce) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  TransferStage stage({.device_buffers = 4, .engine = engine});
  constexpr std::size_t n = 10;
  Tally t(n);
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(gpu_test::pattern(i, 200000)), tally(t, i, done));
  }
  engine->wait_started(1);  // batch 0 is on the "device"; batch 1 is staged behind it
  EXPECT_GT(stage.stats().device.in_use, 0u);
  stage.cancel();
  engine->open();
  done.wait();

  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(t.calls[i].load(), 1) << i;
    EXPECT_TRUE(t.cancelled[i].load()) << i;
  }
  const auto s = stage.stats();
  EXPECT_EQ(s.cancelled, n);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
  EXPECT_EQ(engine->started(), 1u) << "nothing queued was started after the cancel";

  // The stage keeps working for transfers submitted after the cancel.
  std::latch again(1);
  bool ok = false;
  stage(HostBatch(gpu_test::pattern(99, 1000)),
        sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          ok = o.ok() && o.value->to_host() == gpu_test::pattern(99, 1000);
          again.count_down();
        }));
  again.wait();
  EXPECT_TRUE(ok);
}

TEST(gpu_transfer_cancel, CancelWhileWaitingForADeviceBufferReleasesTheWaiters) {
  TransferStage stage({.device = sluice::gpu::Device::cpu, .device_buffers = 1});
  std::optional<DeviceBatch> held;
  std::latch first(1);
  stage(HostBatch(std::vector<std::uint8_t>(100, 1)),
        sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          held.emplace(std::move(*o.value));
          first.count_down();
        }));
  first.wait();
  constexpr std::size_t n = 5;
  Tally t(n);
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i)
    stage(HostBatch(std::vector<std::uint8_t>(100)), tally(t, i, done));
  stage.cancel();
  done.wait();
  for (std::size_t i = 0; i < n; ++i) EXPECT_TRUE(t.cancelled[i].load());
  const auto s = stage.stats();
  EXPECT_EQ(s.device.in_use, 1u) << "only the batch the consumer holds";
  EXPECT_EQ(s.staging.in_use, 0u);
  held.reset();
  EXPECT_EQ(stage.stats().device.in_use, 0u);
}

// A completion whose run was cancelled, as the engine's async stage reports it.
class CancelledRunSlot final : public sluice::detail::CompletionSlot<DeviceBatch> {
 public:
  explicit CancelledRunSlot(std::latch& done) : done_(done) {}
  void deliver(Outcome<DeviceBatch>&& o) noexcept override {
    got_cancelled_ = is_cancelled(o);
    done_.count_down();
  }
  bool cancelled() const noexcept override { return true; }
  bool cancelled_outcome() const { return got_cancelled_; }

 private:
  std::latch& done_;
  std::atomic<bool> got_cancelled_{false};
};

TEST(gpu_transfer_cancel, ACancelledRunSkipsTheCopy) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  TransferStage stage({.engine = engine});
  std::latch done(1);
  auto slot = std::make_shared<CancelledRunSlot>(done);
  stage(HostBatch(std::vector<std::uint8_t>(100)), sluice::Completion<DeviceBatch>(slot));
  done.wait();
  EXPECT_TRUE(slot->cancelled_outcome());
  EXPECT_EQ(engine->started(), 0u);
  EXPECT_EQ(stage.stats().cancelled, 1u);
}

TEST(gpu_transfer_cancel, DestroyingTheStageCancelsQueuedWorkAndWaitsForTheCopy) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  constexpr std::size_t n = 5;
  Tally t(n);
  std::latch done(n);
  auto stage = std::make_unique<TransferStage>(sluice::gpu::TransferOptions{.engine = engine});
  for (std::size_t i = 0; i < n; ++i)
    (*stage)(HostBatch(gpu_test::pattern(i, 5000)), tally(t, i, done));
  engine->wait_started(1);
  std::thread destroyer([&] { stage.reset(); });  // blocks until the copy on the engine ends
  engine->open();  // may come before or after the stop: either way nothing may hang or leak
  destroyer.join();
  done.wait();
  // Delivered ones (copies that ended before the stop) come first, then only cancellations.
  bool seen_cancel = false;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(t.calls[i].load(), 1);
    if (seen_cancel) {
      EXPECT_TRUE(t.cancelled[i].load()) << i;
    }
    seen_cancel = seen_cancel || t.cancelled[i].load();
  }
}

TEST(gpu_transfer_cancel, DeviceBatchesOutliveTheStage) {
  std::unique_ptr<DeviceBatch> kept;  // (not optional: GCC 12 misreads its lifetime)
  {
    TransferStage stage({.device = sluice::gpu::Device::cpu});
    std::latch done(1);
    stage(HostBatch(gpu_test::pattern(7, 70000)),
          sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
            kept = std::make_unique<DeviceBatch>(std::move(*o.value));
            done.count_down();
          }));
    done.wait();
  }
  EXPECT_EQ(kept->to_host(), gpu_test::pattern(7, 70000));
  kept.reset();  // back to a pool whose stage is gone: must not touch the stage
}

TEST(gpu_transfer_cancel, TheLastHandleMayBeDroppedFromACompletion) {
  struct Holder {
    std::mutex mutex;
    std::optional<TransferStage> stage;
  };
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  auto holder = std::make_shared<Holder>();
  holder->stage.emplace(sluice::gpu::TransferOptions{.engine = engine});
  std::latch done(1);
  TransferStage submitter = *holder->stage;
  submitter(HostBatch(std::vector<std::uint8_t>(10)),
            sluice::make_completion<DeviceBatch>([holder, &done](Outcome<DeviceBatch>) {
              std::lock_guard lock(holder->mutex);
              holder->stage.reset();  // the last handle, dropped on the stage's own thread
              done.count_down();
            }));
  { TransferStage drop = std::move(submitter); }
  engine->open();
  done.wait();
  std::lock_guard lock(holder->mutex);
  EXPECT_FALSE(holder->stage.has_value());
}

}  // namespace
