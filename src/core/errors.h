// Bad user input: flags, network files, data files, checkpoints, images. The CLI prints the
// message alone and exits with status 2. Messages name the file, the field or position, and what
// was expected. Program invariants use glog's CHECK instead.
#pragma once

#include <stdexcept>

namespace alexnet {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace alexnet
