// The README's quick start, compiled with the project so it cannot rot. `--dot` prints
// its graph (Graphviz) instead of running it.
#include <sluice/sluice.hpp>

#include <cstdio>
#include <iostream>
#include <ranges>
#include <string_view>

int main(int argc, char** argv) {
  long total = 0;
  sluice::Pipeline pipeline =
      sluice::from("numbers", std::views::iota(1, 100'001))
          .map("square", [](int x) { return static_cast<long>(x) * x; }, {.concurrency = 4})
          .filter("odd", [](long x) { return x % 2 == 1; })
          .batch("batch", 1000)
          .sink("sum", [&](std::vector<long> b) {
            for (long x : b) total += x;
          });
  if (argc > 1 && std::string_view(argv[1]) == "--dot") {
    std::cout << pipeline.to_dot();
    return 0;
  }
  sluice::Report report = pipeline.run({.threads = 4, .max_in_flight = 4096});
  std::cout << report << "sum of odd squares: " << total << "\n";
  return report.balanced() ? 0 : 1;
}
