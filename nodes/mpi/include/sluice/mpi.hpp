// sluice::mpi: the same graph over MPI ranks (world.hpp, shard.hpp, codec.hpp, exchange.hpp,
// gather.hpp, report.hpp). See docs/architecture.md, "Over MPI ranks".
#pragma once

#include "sluice/mpi/codec.hpp"
#include "sluice/mpi/exchange.hpp"
#include "sluice/mpi/gather.hpp"
#include "sluice/mpi/report.hpp"
#include "sluice/mpi/shard.hpp"
#include "sluice/mpi/world.hpp"
