// One report for a run over every rank.
//
//   sluice::Report mine = pipeline.run();                       // this rank's share
//   sluice::Report all = sluice::mpi::reduce(world, mine);       // at the root: every rank
//   if (world.is_root()) std::cout << all;                       // printed once
//
//   auto rows = sluice::mpi::gather_reports(world, mine);        // one per rank, at the root
//
// The reduced report adds the counts (so it balances when every rank's does), merges the
// latency histograms, and takes the longest elapsed time (sluice::merge). Every rank must
// call it (a collective); ranks other than the root get their own report back.
#pragma once

#include <vector>

#include <sluice/report.hpp>

#include "sluice/mpi/codec.hpp"
#include "sluice/mpi/world.hpp"

namespace sluice::mpi {

template <>
struct Codec<LatencySummary> {
  static void write(ByteWriter& w, const LatencySummary& s);
  static LatencySummary read(ByteReader& r);
};
template <>
struct Codec<StageReport> {
  static void write(ByteWriter& w, const StageReport& s);
  static StageReport read(ByteReader& r);
};
template <>
struct Codec<Report> {
  static void write(ByteWriter& w, const Report& s);
  static Report read(ByteReader& r);
};

/// Every rank's report, at `root` (indexed by rank; empty elsewhere).
std::vector<Report> gather_reports(const World& world, const Report& mine, int root = 0);

/// The run over all ranks as one report, at `root`.
Report reduce(const World& world, const Report& mine, int root = 0);

}  // namespace sluice::mpi
