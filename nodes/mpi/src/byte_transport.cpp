// Bytes from every rank to one, in pieces: MPI counts are int, so one message carries at
// most 1 GiB here, and a share of any size travels as several.
#include <algorithm>
#include <climits>
#include <cstdint>

#include "sluice/mpi/gather.hpp"

namespace sluice::mpi {
namespace {

constexpr std::size_t kPiece = std::size_t{1} << 30;
constexpr int kSizeTag = 0x51c0;
constexpr int kBytesTag = 0x51c1;

void send_bytes(const World& world, const Bytes& bytes, int to) {
  const auto size = static_cast<std::uint64_t>(bytes.size());
  check(MPI_Send(&size, 1, MPI_UINT64_T, to, kSizeTag, world.comm()), "MPI_Send (size)");
  for (std::size_t at = 0; at < bytes.size(); at += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, bytes.size() - at));
    check(MPI_Send(bytes.data() + at, n, MPI_BYTE, to, kBytesTag, world.comm()),
          "MPI_Send (bytes)");
  }
}

Bytes receive_bytes(const World& world, int from) {
  std::uint64_t size = 0;
  check(MPI_Recv(&size, 1, MPI_UINT64_T, from, kSizeTag, world.comm(), MPI_STATUS_IGNORE),
        "MPI_Recv (size)");
  Bytes bytes(size);
  for (std::size_t at = 0; at < bytes.size(); at += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, bytes.size() - at));
    check(
        MPI_Recv(bytes.data() + at, n, MPI_BYTE, from, kBytesTag, world.comm(), MPI_STATUS_IGNORE),
        "MPI_Recv (bytes)");
  }
  return bytes;
}

}  // namespace

std::vector<Bytes> gather_bytes(const World& world, const Bytes& mine, int root) {
  if (root < 0 || root >= world.size()) {
    throw std::invalid_argument("sluice::mpi::gather: root " + std::to_string(root) +
                                " is not one of " + std::to_string(world.size()) + " ranks");
  }
  if (world.rank() != root) {
    send_bytes(world, mine, root);
    return {};
  }
  std::vector<Bytes> all(static_cast<std::size_t>(world.size()));
  for (int r = 0; r < world.size(); ++r) {
    all[static_cast<std::size_t>(r)] = r == root ? mine : receive_bytes(world, r);
  }
  return all;
}

}  // namespace sluice::mpi
