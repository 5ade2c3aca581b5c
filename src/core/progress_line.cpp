#include "core/progress_line.h"

#include <unistd.h>

#include <algorithm>

namespace alexnet {

ProgressLine::ProgressLine(bool enabled, std::FILE* out)
    : enabled_(enabled), tty_(isatty(fileno(out))), out_(out) {}

void ProgressLine::show(const std::string& text, bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  auto gap = tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(30000);
  if (!force && now - last_ < gap) return;
  last_ = now;
  std::fprintf(out_, tty_ ? "\r%s   " : "%s\n", text.c_str());
  std::fflush(out_);
  open_ = tty_;
}

void ProgressLine::message(const std::string& text) {
  if (!enabled_) return;
  end();
  std::fprintf(out_, "%s\n", text.c_str());
}

void ProgressLine::end() {
  if (open_) std::fputc('\n', out_);
  open_ = false;
}

std::string format_duration(double seconds) {
  int s = static_cast<int>(std::max(seconds, 0.0));
  char text[32];
  std::snprintf(text, sizeof text, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return text;
}

}  // namespace alexnet
