// A backend that faults: a copy that fails ends its own transfer with the error text; a
// DeviceFault (what CUDA reports after a sticky context error) ends everything not yet
// delivered at once — including copies whose report never comes — and later submissions
// fail at once, so wait_idle() and the destructor return. Runs on the host backend with a
// fault-injecting test engine; gpu_cuda_test repeats it with a real kernel fault on a GPU.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <sluice/gpu.hpp>

#include "test_support.hpp"

namespace {

using sluice::gpu::HostBatch;
using sluice::gpu::TransferStage;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(gpu_transfer_fault, AFaultFailsTheRestAtOnceEvenCopiesThatNeverReport) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  engine->fault_call(1);      // the second copy ends with a sticky error
  engine->lose_from_call(2);  // and nothing after it ever reports
  auto stage = std::make_unique<TransferStage>(
      sluice::gpu::TransferOptions{.concurrency = 2, .device_buffers = 4, .engine = engine});
  constexpr std::size_t n = 10;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i)
    (*stage)(HostBatch(gpu_test::pattern(i, 5000)), out.completion(i));
  engine->wait_started(2);  // copies 0 and 1 are on the engine, the rest queued or staged
  engine->open();

  ASSERT_TRUE(out.wait_for(n)) << "a fault must end every transfer, not leave them waiting";
  EXPECT_TRUE(out.ok(0)) << out.error(0);
  EXPECT_EQ(out.checksum_of(0), gpu_test::checksum(gpu_test::pattern(0, 5000)));
  EXPECT_EQ(out.error(1), "injected fault: illegal address");
  for (std::size_t i = 2; i < n; ++i) {
    EXPECT_FALSE(out.ok(i)) << i;
    EXPECT_TRUE(
        contains(out.error(i), "the device failed earlier: injected fault: illegal address"))
        << i << ": " << out.error(i);
    EXPECT_EQ(out.calls(i), 1) << i;
  }
  // (A transfer counts as pending until just after its completion has run.)
  ASSERT_TRUE(gpu_test::returns_within([&] { stage->wait_idle(); }));
  const auto s = stage->stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, n - 1);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);

  // Later work fails at once, with the same reason, and never reaches the engine.
  const std::size_t started = engine->started();
  gpu_test::Outcomes later(1);
  (*stage)(HostBatch(gpu_test::pattern(99, 100)), later.completion(0));
  ASSERT_TRUE(later.wait_for(1, std::chrono::seconds(0))) << "must fail inside the call";
  EXPECT_TRUE(contains(later.error(0), "injected fault")) << later.error(0);
  EXPECT_EQ(engine->started(), started);

  EXPECT_TRUE(gpu_test::returns_within([&] { stage.reset(); })) << "the destructor hung";
}

TEST(gpu_transfer_fault, AFaultAtStartFailsTheRestAtOnce) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  engine->throw_fault_on_call(1);
  TransferStage stage({.device_buffers = 3, .engine = engine});
  constexpr std::size_t n = 6;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i)
    stage(HostBatch(gpu_test::pattern(i, 300)), out.completion(i));
  engine->wait_started(1);
  engine->open();
  ASSERT_TRUE(out.wait_for(n));
  EXPECT_TRUE(out.ok(0)) << out.error(0);
  EXPECT_EQ(out.error(1), "injected fault at start");
  for (std::size_t i = 2; i < n; ++i) {
    EXPECT_TRUE(contains(out.error(i), "the device failed earlier: injected fault at start"))
        << i << ": " << out.error(i);
  }
  EXPECT_EQ(engine->started(), 2u) << "nothing is started after the fault";
  EXPECT_TRUE(gpu_test::returns_within([&] { stage.wait_idle(); }));
}

TEST(gpu_transfer_fault, AnOrdinaryCopyErrorFailsOnlyItsItem) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->fail_call(1);
  TransferStage stage({.engine = engine});
  constexpr std::size_t n = 4;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i)
    stage(HostBatch(gpu_test::pattern(i, 300)), out.completion(i));
  ASSERT_TRUE(out.wait_for(n));
  EXPECT_EQ(out.error(1), "test engine copy failed");
  for (std::size_t i : {0u, 2u, 3u}) {
    EXPECT_TRUE(out.ok(i)) << i << ": " << out.error(i);
    EXPECT_EQ(out.checksum_of(i), gpu_test::checksum(gpu_test::pattern(i, 300))) << i;
  }
}

TEST(gpu_transfer_fault, CancelWithACopyHeldBackOnTheEngine) {
  auto engine = std::make_shared<gpu_test::ThreadedCopyEngine>();
  engine->hold();
  TransferStage stage({.concurrency = 2, .device_buffers = 4, .engine = engine});
  constexpr std::size_t n = 8;
  gpu_test::Outcomes out(n);
  for (std::size_t i = 0; i < n; ++i)
    stage(HostBatch(gpu_test::pattern(i, 4096)), out.completion(i));
  engine->wait_started(2);  // two copies held on the engine: deterministically in flight
  EXPECT_EQ(stage.stats().in_flight, 2u);
  stage.cancel();
  engine->open();
  ASSERT_TRUE(out.wait_for(n));
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out.error(i), "sluice::gpu: transfer cancelled") << i;
    EXPECT_EQ(out.calls(i), 1) << i;
  }
  const auto s = stage.stats();
  EXPECT_EQ(s.cancelled, n);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.device.in_use, 0u);
  EXPECT_EQ(s.staging.in_use, 0u);
  EXPECT_EQ(engine->started(), 2u);
}

}  // namespace
