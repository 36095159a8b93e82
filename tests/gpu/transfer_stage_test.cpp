// TransferStage on the host backend and on a threaded test engine: bytes arrive intact and
// in order, pools stay bounded and are reused, one copy at a time, queued transfers start
// when a buffer comes back, completions arrive once on a foreign thread.
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::Completion;
using sluice::Outcome;
using sluice::gpu::DeviceBatch;
using sluice::gpu::HostBatch;
using sluice::gpu::TransferOptions;
using sluice::gpu::TransferStage;

// What the completions saw, filled from the stage's thread.
struct Received {
  std::mutex mutex;
  std::vector<std::size_t> order;
  std::vector<std::uint64_t> checksums;
  std::vector<int> calls;
  std::vector<std::thread::id> threads;
  std::vector<std::string> errors;
  explicit Received(std::size_t n) : checksums(n), calls(n), threads(n), errors(n) {}
};

Completion<DeviceBatch> record(Received& r, std::size_t index, std::latch& done) {
  return sluice::make_completion<DeviceBatch>([&r, &done, index](Outcome<DeviceBatch> o) {
    {
      std::lock_guard lock(r.mutex);
      r.order.push_back(index);
      ++r.calls[index];
      r.threads[index] = std::this_thread::get_id();
      if (o.ok()) {
        r.checksums[index] = gpu_test::checksum(o.value->to_host());
      } else {
        try {
          std::rethrow_exception(o.error);
        } catch (const std::exception& e) {
          r.errors[index] = e.what();
        }
      }
    }
    done.count_down();
  });
}

// Sizes from empty to ~1.5 MiB, spread over several size classes.
std::size_t size_of(std::size_t i) {
  static const std::size_t sizes[] = {0, 1, 7, 4096, 4097, 65536, 100003, 1 << 20, 1536 * 1024};
  return sizes[i % std::size(sizes)] + (gpu_test::mix(i) % 3) * 8;
}

void expect_intact_in_order(TransferOptions options, std::size_t n) {
  TransferStage stage(std::move(options));
  Received r(n);
  std::latch done(static_cast<std::ptrdiff_t>(n));
  std::vector<std::uint64_t> expected(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto bytes = gpu_test::pattern(i, size_of(i));
    expected[i] = gpu_test::checksum(bytes);
    stage(HostBatch(std::move(bytes), {static_cast<std::int64_t>(i)}), record(r, i, done));
  }
  done.wait();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(r.calls[i], 1) << i;
    EXPECT_EQ(r.errors[i], "") << i;
    EXPECT_EQ(r.checksums[i], expected[i]) << "batch " << i << " of " << size_of(i) << " bytes";
  }
  std::vector<std::size_t> in_order(n);
  for (std::size_t i = 0; i < n; ++i) in_order[i] = i;
  EXPECT_EQ(r.order, in_order) << "concurrency 1 completes in submission order";
  stage.wait_idle();
  const auto s = stage.stats();
  EXPECT_EQ(s.delivered, n);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
}

TEST(gpu_transfer_stage, BytesArriveIntactOnTheHostBackend) {
  expect_intact_in_order({.device = sluice::gpu::Device::cpu}, 300);
}

TEST(gpu_transfer_stage, BytesArriveIntactThroughAnEngineThatCompletesElsewhere) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  expect_intact_in_order({.engine = engine}, 300);
}

TEST(gpu_transfer_stage, ShapeTravelsWithTheBatch) {
  TransferStage stage({.device = sluice::gpu::Device::cpu});
  std::latch done(1);
  std::vector<std::int64_t> shape;
  stage(HostBatch(std::vector<std::uint8_t>(24, 1), {2, 2, 2, 3}),
        sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          EXPECT_TRUE(o.ok());  // (no ASSERT here: it would skip the count-down)
          if (o.ok()) {
            shape = o.value->shape();
            EXPECT_EQ(o.value->size(), 24u);
            EXPECT_EQ(o.value->location(), sluice::gpu::Device::cpu);
          }
          done.count_down();
        }));
  done.wait();
  EXPECT_EQ(shape, (std::vector<std::int64_t>{2, 2, 2, 3}));
}

TEST(gpu_transfer_stage, PoolsStayBoundedUnderAFloodOfSubmissions) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  TransferStage stage({.staging_buffers = 2, .device_buffers = 3, .engine = engine});
  constexpr std::size_t threads = 4, per_thread = 150, n = threads * per_thread;
  std::atomic<std::size_t> intact{0};
  std::latch done(n);
  std::vector<std::thread> submitters;
  for (std::size_t t = 0; t < threads; ++t) {
    submitters.emplace_back([&, t] {
      for (std::size_t k = 0; k < per_thread; ++k) {
        const std::size_t i = t * per_thread + k;
        auto bytes = gpu_test::pattern(i, size_of(i));
        const std::uint64_t sum = gpu_test::checksum(bytes);
        stage(HostBatch(std::move(bytes)),
              sluice::make_completion<DeviceBatch>([&, sum](Outcome<DeviceBatch> o) {
                if (o.ok() && gpu_test::checksum(o.value->to_host()) == sum) ++intact;
                done.count_down();
              }));
      }
    });
  }
  for (auto& t : submitters) t.join();
  done.wait();
  stage.wait_idle();
  EXPECT_EQ(intact.load(), n);
  const auto s = stage.stats();
  EXPECT_LE(s.device.high_water, 3u);
  EXPECT_LE(s.staging.high_water, 2u);
  EXPECT_LE(s.device.idle + s.device.in_use, 3u);
  EXPECT_LE(s.staging.idle + s.staging.in_use, 2u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_GT(s.device.reuses, 0u);
  EXPECT_EQ(s.device.allocations + s.device.reuses, n);
}

TEST(gpu_transfer_stage, ReusesPooledBuffersForBatchesOfOneSize) {
  TransferStage stage(
      {.device = sluice::gpu::Device::cpu, .staging_buffers = 2, .device_buffers = 2});
  constexpr std::size_t n = 64;
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(gpu_test::pattern(i, 64 << 10)),
          sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch>) { done.count_down(); }));
  }
  done.wait();
  const auto s = stage.stats();
  EXPECT_LE(s.device.allocations, 2u);
  EXPECT_LE(s.staging.allocations, 2u);
  EXPECT_EQ(s.device.allocations + s.device.reuses, n);
  EXPECT_EQ(s.staging.allocations + s.staging.reuses, n);
  EXPECT_EQ(s.bytes, n * (64 << 10));
}

TEST(gpu_transfer_stage, AtMostOneCopyInFlightByDefault) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  TransferStage stage({.device_buffers = 8, .engine = engine});
  constexpr std::size_t n = 200;
  std::latch done(n);
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&] {
      for (std::size_t i = 0; i < n / 4; ++i) {
        stage(
            HostBatch(std::vector<std::uint8_t>(8192 * (1 + i % 4), 1)),
            sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch>) { done.count_down(); }));
      }
    });
  }
  for (auto& t : submitters) t.join();
  done.wait();
  EXPECT_EQ(engine->started(), n);
  EXPECT_EQ(engine->max_active(), 1u) << "the engine saw two copies at once";
  EXPECT_EQ(stage.stats().max_in_flight, 1u);
}

TEST(gpu_transfer_stage, ConcurrencyTwoLetsTwoCopiesRun) {
  // The same measurement with a higher cap shows it is able to see more than one.
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  TransferStage stage({.concurrency = 2, .device_buffers = 8, .engine = engine});
  constexpr std::size_t n = 6;
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(std::vector<std::uint8_t>(4096, 2)),
          sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch>) { done.count_down(); }));
  }
  engine->wait_started(2);
  EXPECT_EQ(stage.stats().in_flight, 2u);
  engine->open();
  done.wait();
  EXPECT_EQ(engine->max_active(), 2u);
  EXPECT_EQ(stage.stats().max_in_flight, 2u);
}

TEST(gpu_transfer_stage, AQueuedTransferStartsWhenADeviceBufferComesBack) {
  TransferStage stage({.device = sluice::gpu::Device::cpu, .device_buffers = 2});
  std::mutex mutex;
  std::vector<DeviceBatch> held;  // the "consumer" keeps every batch it gets
  std::latch first_two(2), third(1);
  for (int i = 0; i < 3; ++i) {
    stage(HostBatch(std::vector<std::uint8_t>(1000, static_cast<std::uint8_t>(i))),
          sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
            std::lock_guard lock(mutex);
            held.push_back(std::move(*o.value));
            if (held.size() <= 2) {
              first_two.count_down();
            } else {
              third.count_down();
            }
          }));
  }
  first_two.wait();
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(held.size(), 2u) << "the third needs a device buffer, and both are held";
    EXPECT_EQ(stage.stats().device.in_use, 2u);
    held.front().release();  // the consumer is done with one batch
  }
  third.wait();
  std::lock_guard lock(mutex);
  EXPECT_EQ(held.back().to_host(), std::vector<std::uint8_t>(1000, 2));
}

TEST(gpu_transfer_stage, CompletesOnTheStagesOwnThread) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  TransferStage stage({.engine = engine});
  std::latch done(1);
  std::thread::id completer;
  stage(HostBatch(std::vector<std::uint8_t>(10, 1)),
        sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          EXPECT_TRUE(o.ok());
          completer = std::this_thread::get_id();
          done.count_down();
        }));
  done.wait();
  EXPECT_NE(completer, std::this_thread::get_id()) << "the submitting thread never waits";
  EXPECT_NE(completer, engine->thread_id()) << "engine reports are handed to the stage";
}

TEST(gpu_transfer_stage, ProducerStagedBatchesSkipTheStagingCopy) {
  TransferStage stage({.device = sluice::gpu::Device::cpu, .producer_staging_buffers = 2});
  auto a = stage.try_stage(5000, {5000});
  auto b = stage.try_stage(100);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(stage.try_stage(100)) << "both producer buffers are lent out";
  const auto bytes = gpu_test::pattern(42, 5000);
  std::copy(bytes.begin(), bytes.end(), a->data());
  std::latch done(1);
  std::uint64_t received = 0;
  stage(std::move(*a), sluice::make_completion<DeviceBatch>([&](Outcome<DeviceBatch> o) {
          if (o.ok()) received = gpu_test::checksum(o.value->to_host());
          done.count_down();
        }));
  done.wait();
  EXPECT_EQ(received, gpu_test::checksum(bytes));
  const auto s = stage.stats();
  EXPECT_EQ(s.staged_by_producer, 1u);
  EXPECT_EQ(s.staging.allocations, 0u) << "no copy into the stage's own staging buffers";
  EXPECT_EQ(s.producer_staging.in_use, 1u) << "only the unsubmitted one is still out";
  b.reset();
  EXPECT_EQ(stage.stats().producer_staging.in_use, 0u);
}

TEST(gpu_transfer_stage, EngineErrorsBecomeFailedOutcomesAndTheRestGoesOn) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->fail_call(2);      // reported as failed by the engine
  engine->throw_on_call(4);  // refused at start
  TransferStage stage({.engine = engine});
  constexpr std::size_t n = 8;
  Received r(n);
  std::latch done(n);
  for (std::size_t i = 0; i < n; ++i) {
    stage(HostBatch(gpu_test::pattern(i, 3000)), record(r, i, done));
  }
  done.wait();
  stage.wait_idle();
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(r.calls[i], 1);
    if (i == 2) {
      EXPECT_EQ(r.errors[i], "test engine copy failed");
    } else if (i == 4) {
      EXPECT_EQ(r.errors[i], "test engine refused copy");
    } else {
      EXPECT_EQ(r.errors[i], "") << i;
      EXPECT_EQ(r.checksums[i], gpu_test::checksum(gpu_test::pattern(i, 3000)));
    }
  }
  const auto s = stage.stats();
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.delivered, n - 2);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
}

TEST(gpu_transfer_stage, InvalidOptionsAreRejected) {
  EXPECT_THROW(TransferStage({.device = sluice::gpu::Device::cpu, .concurrency = 0}),
               std::invalid_argument);
  EXPECT_THROW(TransferStage({.device = sluice::gpu::Device::cpu, .device_buffers = 0}),
               std::invalid_argument);
}

}  // namespace
