// Everything in the engine: #include <sluice/sluice.hpp>.
#pragma once

#include "sluice/pipeline.hpp"
#include "sluice/stage_api.hpp"
#include "sluice/version.hpp"
