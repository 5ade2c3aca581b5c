// Bad user input: flags, network files, data files, checkpoints, images. The CLI prints the
// message alone and exits with status 2. Messages name the file, the field or position, and what
// was expected. Program invariants use glog's CHECK instead.
#pragma once

#include <stdexcept>
#include <string>

namespace alexnet {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command stopped by SIGINT or SIGTERM after cleaning up: the CLI prints the message and exits
// with status 128 + the signal's number, as a shell reports a process the signal killed.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(const std::string& message, int signal) : std::runtime_error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace alexnet
