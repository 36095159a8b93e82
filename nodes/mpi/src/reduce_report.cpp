#include <utility>

#include "sluice/mpi/gather.hpp"
#include "sluice/mpi/report.hpp"

namespace sluice::mpi {

std::vector<Report> gather_reports(const World& world, const Report& mine, int root) {
  std::vector<Report> all;
  for (const Bytes& b : gather_bytes(world, encode(mine), root)) all.push_back(decode<Report>(b));
  return all;
}

Report reduce(const World& world, const Report& mine, int root) {
  auto all = gather_reports(world, mine, root);
  if (all.empty()) return mine;
  Report sum = std::move(all.front());
  for (std::size_t r = 1; r < all.size(); ++r) sum = merge(sum, all[r]);
  return sum;
}

}  // namespace sluice::mpi
