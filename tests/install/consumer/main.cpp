// A user's program, built against an installed sluice.
#include <sluice/sluice.hpp>

#include <cstdio>
#include <ranges>

int main() {
  long sum = 0;
  auto r = sluice::from("n", std::views::iota(1, 101))
               .map("double", [](int x) { return 2L * x; }, {.concurrency = 2})
               .sink("sum", [&](long x) { sum += x; })
               .run();
  std::printf("sluice %s: %ld\n", sluice::version(), sum);
  return sum == 10100 && r.balanced() ? 0 : 1;
}
