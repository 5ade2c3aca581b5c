// One line of progress on stderr, shared by `alexnet pack` and `alexnet train`. On a terminal it
// redraws in place (carriage return) at most twice a second; into a file or pipe it prints a new
// line every 30 seconds instead, so logs stay readable. end() finishes a line that was redrawn, so
// that the next message starts on a line of its own.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace alexnet {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled, std::FILE* out = stderr);
  ~ProgressLine() { end(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows `text` if enough time has passed since the last one, or when `force`.
  void show(const std::string& text, bool force = false);
  // Prints a line of its own (after finishing the progress line), when enabled.
  void message(const std::string& text);
  void end();

 private:
  bool enabled_, tty_, open_ = false;
  std::FILE* out_;
  std::chrono::steady_clock::time_point last_{};
};

// Seconds as H:MM:SS, for estimated times left.
std::string format_duration(double seconds);

}  // namespace alexnet
