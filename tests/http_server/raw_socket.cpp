#include "raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace sluice::test {

RawConnection::RawConnection(std::uint16_t port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (receive_buffer_bytes > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "connect");
  }
}

RawConnection::~RawConnection() {
  ::close(fd_);
}

void RawConnection::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "send");
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

RawConnection::Received RawConnection::receive_until(std::string_view marker,
                                                     std::chrono::milliseconds timeout) {
  Received received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (marker.empty() || received.bytes.find(marker) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd waiting{fd_, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(std::max<long>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      received.end = End::open;
      return received;
    }
    char buffer[65536];
    const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      received.end = errno == ECONNRESET ? End::reset : End::closed;
      return received;
    }
    if (got == 0) {
      received.end = End::closed;
      return received;
    }
    received.bytes.append(buffer, static_cast<std::size_t>(got));
  }
  received.end = End::open;  // the marker arrived
  return received;
}

RawConnection::Received RawConnection::receive(std::chrono::milliseconds quiet) {
  Received all;
  while (true) {
    Received part = receive_until({}, quiet);
    all.bytes += part.bytes;
    all.end = part.end;
    if (part.end != End::open || part.bytes.empty()) return all;
  }
}

std::string exchange(std::uint16_t port, std::string_view request,
                     std::chrono::milliseconds quiet) {
  RawConnection connection(port);
  connection.send_all(request);
  return connection.receive(quiet).bytes;
}

int status_of(std::string_view response) {
  if (!response.starts_with("HTTP/1.") || response.size() < 12) return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (response[i] < '0' || response[i] > '9') return 0;
    status = status * 10 + (response[i] - '0');
  }
  return status;
}

}  // namespace sluice::test
