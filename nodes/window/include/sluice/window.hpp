// sluice's window family, all in one include: keyed tumbling windows by processing time
// or by count, folded by a user reduce function (sluice/window/tumbling.hpp).
//
//   #include <sluice/window.hpp>
//
//   flow.then(sluice::window::tumbling<Stats>("per-10s", sluice::window::every(10s), key, add))
//       .sink("print", [](sluice::window::Window<std::string, Stats> w) { ... });
#pragma once

#include "sluice/window/table.hpp"
#include "sluice/window/tumbling.hpp"
#include "sluice/window/types.hpp"
