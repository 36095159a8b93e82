// Everything in the engine: #include <sluice/sluice.hpp>.
#pragma once

#include "sluice/pipeline.hpp"
#include "sluice/version.hpp"
