// The README's graph example, compiled with the project so it cannot rot: a diamond
// (tee -> two stages -> join). Every word goes down both branches; the join brings each
// word's two results back together, in source order.
#include <sluice/sluice.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> words = {"tee", "route", "merge", "join", "sink", "flow", "graph"};

  auto [left, right] = sluice::from("words", words).tee<2>("both");
  auto lengths = left.map("length", [](const std::string& w) { return w.size(); });
  auto shouted = right.map("upper", [](std::string w) {
    for (char& c : w) c = static_cast<char>(c - 'a' + 'A');
    return w;
  }, {.concurrency = 2});
  sluice::Pipeline diamond =
      sluice::join("pair", [](std::size_t n, std::string w) { return w + " " + std::to_string(n); },
                   lengths, shouted)
          .sink("print", [](const std::string& line) { std::cout << line << "\n"; },
                {.ordered = true});

  if (argc > 1 && std::string_view(argv[1]) == "--dot") {
    std::cout << diamond.to_dot();
    return 0;
  }
  sluice::Report report = diamond.run({.threads = 2});
  std::cout << report;
  return report.balanced() && report.delivered == words.size() ? 0 : 1;
}
