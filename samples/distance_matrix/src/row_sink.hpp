// Where computed rows go. Executors call write_row with rows 0, 1, 2, ... in that order, one
// call at a time (not necessarily from the same thread, but never concurrently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace distance_matrix {

class ProgressMeter;

class RowSink {
 public:
  virtual ~RowSink() = default;
  /// `row` is the matrix row the block belongs to; `block` its CSV text. May throw (a failed
  /// write), which stops the executor and propagates to its caller.
  virtual void write_row(std::size_t row, std::string_view block) = 0;
};

/// Writes to a C stream, gathering small rows into one large write (the last rows of a big
/// matrix are a few bytes each). Throws std::system_error when a write fails (a full disk),
/// so a 200M-pair run stops at once instead of computing into the void. The stream stays the
/// caller's: the sink neither closes it nor changes its buffering.
class FileRowSink final : public RowSink {
 public:
  explicit FileRowSink(std::FILE* file, std::size_t batch_bytes = std::size_t{1} << 20);
  ~FileRowSink() override;  // writes what is pending, ignoring errors; call flush() to see them
  FileRowSink(const FileRowSink&) = delete;
  FileRowSink& operator=(const FileRowSink&) = delete;

  void write_text(std::string_view text);
  void write_row(std::size_t row, std::string_view block) override;
  /// Writes what is pending and flushes the stream; throws std::system_error on failure.
  void flush();

 private:
  void write_through(std::string_view text);

  std::FILE* file_;
  std::size_t batch_bytes_;
  std::string pending_;
};

/// Collects everything in memory (tests, small runs).
class StringRowSink final : public RowSink {
 public:
  void write_row(std::size_t row, std::string_view block) override;
  const std::string& text() const noexcept { return text_; }
  std::size_t rows_written() const noexcept { return rows_written_; }
  /// True when every write_row call came in row order 0, 1, 2, ...
  bool in_order() const noexcept { return in_order_; }

 private:
  std::string text_;
  std::size_t rows_written_ = 0;
  bool in_order_ = true;
};

/// Keeps only a digest (64-bit FNV-1a) and a byte count: compares executors' outputs without
/// storing or writing them.
class DigestRowSink final : public RowSink {
 public:
  void write_row(std::size_t row, std::string_view block) override;
  void write_text(std::string_view text);
  std::uint64_t digest() const noexcept { return digest_; }
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  std::uint64_t digest_ = 0xcbf29ce484222325;  // the FNV-1a offset basis
  std::uint64_t bytes_ = 0;
};

/// Forwards to another sink and tells a progress meter how far the output has got.
class ProgressRowSink final : public RowSink {
 public:
  ProgressRowSink(RowSink& next, ProgressMeter& meter, std::size_t locations)
      : next_(next), meter_(meter), locations_(locations) {}
  void write_row(std::size_t row, std::string_view block) override;

 private:
  RowSink& next_;
  ProgressMeter& meter_;
  std::size_t locations_;
  std::uint64_t pairs_done_ = 0;
};

}  // namespace distance_matrix
