// sluice: concurrent data pipelines on oneTBB's flow graph. The engine, all in one
// include (node families have their own: sluice/http.hpp, sluice/window.hpp, ...).
//
//   #include <sluice/sluice.hpp>
//
//   sluice::Report r =
//       sluice::from("numbers", std::views::iota(0, 1000))
//           .map("square", [](int x) { return x * x; }, {.concurrency = 4})
//           .filter("even", [](int x) { return x % 2 == 0; })
//           .sink("print", [](int x) { std::printf("%d\n", x); })
//           .run({.threads = 4, .max_in_flight = 64});
//
// Or consume on the calling thread:
//
//   auto items = sluice::from("ids", ids).map("load", load, {.concurrency = 8}).consume();
//   for (Sample& s : items) train(s);
#pragma once

#include "sluice/completion.hpp"
#include "sluice/consumer.hpp"
#include "sluice/error_policy.hpp"
#include "sluice/flow.hpp"
#include "sluice/graph.hpp"
#include "sluice/keyed_join.hpp"
#include "sluice/options.hpp"
#include "sluice/pipeline.hpp"
#include "sluice/report.hpp"
#include "sluice/source.hpp"
#include "sluice/stage_api.hpp"
#include "sluice/version.hpp"
