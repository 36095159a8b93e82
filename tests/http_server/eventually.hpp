// eventually(condition): waits, with a deadline, for a condition on the server's counters.
// The server counts on its own thread, so a test that has its answer may still have to
// wait a moment for the counter that says so (e.g. a connection the client just closed).
#pragma once

#include <chrono>
#include <thread>

namespace sluice::test {

template <class Condition>
bool eventually(Condition condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace sluice::test
