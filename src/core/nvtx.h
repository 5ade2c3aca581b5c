// NVTX ranges, so that a profile in Nsight Systems shows the structure of `alexnet time`'s table:
// a range for every node's forward and backward on each tower, for each exchange, and for each
// bucket of the gradient all-reduce, named after the table's rows (nvtx_name()).
//
// Off by default; --nvtx (a flag of train, time and eval; make_session reads it) turns the ranges
// on for the whole process. A range is a push on construction and a pop on destruction, on the
// calling thread. In a build without CUDA the NVTX calls are stubs (core/no_cuda_backend.cpp):
// the ranges compile to nothing but the switch and the test hook below.
#pragma once

#include <functional>
#include <string>

namespace alexnet {

void set_nvtx(bool on);
bool nvtx_on();

// A range's name: a timing row's node and tower (train/timing_report.h) with the phase, as in
// "conv1 forward tower 0", "fc6.exchange backward tower 1"; an empty phase gives
// "grad all-reduce tower 0".
std::string nvtx_name(const std::string& node, const std::string& phase, int tower);

// One range on the calling thread, open while the object lives; nothing while NVTX is off (the
// name is then not even read). Not copyable, not movable: a range is a scope.
class NvtxRange {
 public:
  explicit NvtxRange(const std::string& name);
  ~NvtxRange();
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;

 private:
  bool open_ = false;
  std::string hooked_name_;  // only while a test hook is set
};

// For tests: called at each push (true) and pop (false) with the range's name, on the thread
// that opens and closes it. Set it before any range opens and clear it ({}) after the last closes.
using NvtxHook = std::function<void(bool push, const std::string& name)>;
void set_nvtx_hook(NvtxHook hook);

}  // namespace alexnet
