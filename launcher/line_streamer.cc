#include "launcher/line_streamer.h"

#include "launcher/write_fully.h"

namespace flotilla {

LineStreamer::LineStreamer(int out_fd, std::string prefix, LineCallback on_line, StatusLine* status_line)
    : out_fd_(out_fd), prefix_(std::move(prefix)), on_line_(std::move(on_line)), status_line_(status_line) {}

void LineStreamer::feed(std::string_view data) {
  while (!data.empty()) {
    const std::size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(data);
      while (partial_.size() >= kMaxLine) {
        emit(std::string_view(partial_).substr(0, kMaxLine));
        partial_.erase(0, kMaxLine);
      }
      return;
    }
    if (partial_.empty()) {
      emit(data.substr(0, newline));
    } else {
      partial_.append(data.substr(0, newline));
      emit(partial_);
      partial_.clear();
    }
    data.remove_prefix(newline + 1);
  }
}

void LineStreamer::finish() {
  if (partial_.empty()) return;
  emit(partial_);
  partial_.clear();
}

void LineStreamer::emit(std::string_view line) {
  if (!out_closed_) {
    std::string buffer;
    buffer.reserve(prefix_.size() + line.size() + 1);
    buffer.append(prefix_).append(line).push_back('\n');
    out_closed_ = status_line_ ? !status_line_->write_above(out_fd_, buffer) : !write_fully(out_fd_, buffer);
  }
  if (on_line_) on_line_(line);
}

}  // namespace flotilla
