// FUZZ_CHECK: the invariants a fuzz target asserts. A failure prints what broke and
// aborts, which libFuzzer reports as a crash (and keeps the input) and the corpus replay
// reports as a failed test, in builds with or without sanitizers and with NDEBUG.
//
//   FUZZ_CHECK(used <= data.size(), "feed consumed more than it was given");
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, message)                                                      \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #condition, \
                   message);                                                                \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
