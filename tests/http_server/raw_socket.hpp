// Raw TCP clients for what curl hides: exact request bytes (traversal attempts, malformed
// requests, pipelining) and the exact end of a connection (reset, close, nothing at all).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::test {

/// A connected, blocking TCP socket to 127.0.0.1:port; closed on destruction.
class RawConnection {
 public:
  /// receive_buffer_bytes > 0 shrinks SO_RCVBUF first: a slow reader, so the server meets
  /// a full socket.
  explicit RawConnection(std::uint16_t port, int receive_buffer_bytes = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send_all(std::string_view bytes);

  enum class End {
    closed,  ///< the server closed the connection (EOF)
    reset,   ///< ECONNRESET
    open     ///< still open: the marker arrived, or nothing more within the timeout
  };
  struct Received {
    std::string bytes;
    End end = End::closed;
  };
  /// Reads until EOF, a reset, or `quiet` passes without a byte.
  Received receive(std::chrono::milliseconds quiet);
  /// Reads until `bytes` contains `marker` (or EOF, a reset, or the timeout).
  Received receive_until(std::string_view marker, std::chrono::milliseconds timeout);

  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
};

/// Sends one request on a new connection and returns everything the server sent back
/// before closing (requests here should say `Connection: close`).
std::string exchange(std::uint16_t port, std::string_view request,
                     std::chrono::milliseconds quiet = std::chrono::seconds(5));

/// The status code of the first response in raw bytes ("HTTP/1.1 404 ..." -> 404), or 0.
int status_of(std::string_view response);

}  // namespace sluice::test
