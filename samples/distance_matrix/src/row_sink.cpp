#include "row_sink.hpp"

#include <cerrno>
#include <system_error>

#include "progress_meter.hpp"

namespace distance_matrix {

FileRowSink::FileRowSink(std::FILE* file, std::size_t batch_bytes)
    : file_(file), batch_bytes_(batch_bytes) {
  pending_.reserve(batch_bytes_);
}

FileRowSink::~FileRowSink() {
  if (!pending_.empty() && !std::ferror(file_))
    std::fwrite(pending_.data(), 1, pending_.size(), file_);
}

void FileRowSink::write_through(std::string_view text) {
  if (text.empty()) return;
  errno = 0;  // so the error reported is this write's, not an older one's
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    throw std::system_error(errno ? errno : EIO, std::generic_category(), "writing the output");
  }
}

void FileRowSink::write_text(std::string_view text) {
  if (pending_.size() + text.size() > batch_bytes_) {
    write_through(pending_);
    pending_.clear();
  }
  if (text.size() >= batch_bytes_) {
    write_through(text);
  } else {
    pending_ += text;
  }
}

void FileRowSink::write_row(std::size_t, std::string_view block) {
  write_text(block);
}

void FileRowSink::flush() {
  write_through(pending_);
  pending_.clear();
  errno = 0;
  if (std::fflush(file_) != 0 || std::ferror(file_)) {
    throw std::system_error(errno ? errno : EIO, std::generic_category(), "writing the output");
  }
}

void StringRowSink::write_row(std::size_t row, std::string_view block) {
  if (row != rows_written_) in_order_ = false;
  ++rows_written_;
  text_ += block;
}

void DigestRowSink::write_row(std::size_t, std::string_view block) {
  write_text(block);
}

void DigestRowSink::write_text(std::string_view text) {
  for (const char c : text) {
    digest_ = (digest_ ^ static_cast<unsigned char>(c)) * 0x100000001b3;  // the FNV-1a prime
  }
  bytes_ += text.size();
}

void ProgressRowSink::write_row(std::size_t row, std::string_view block) {
  next_.write_row(row, block);
  pairs_done_ += locations_ - 1 - row;
  meter_.update(row + 1, pairs_done_);
}

}  // namespace distance_matrix
