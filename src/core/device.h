// Where a tensor lives and a layer runs: the CPU, or CUDA device N.
#pragma once

#include <string>
#include <string_view>

namespace alexnet {

struct Device {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index) { return {Kind::kCuda, index}; }
  // Parses "cpu" or "cuda:N"; throws std::invalid_argument naming the text otherwise.
  static Device parse(std::string_view text);

  bool is_cpu() const { return kind == Kind::kCpu; }
  bool is_cuda() const { return kind == Kind::kCuda; }
  std::string str() const;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when this build contains the CUDA backend.
bool cuda_built();
// Number of CUDA devices usable now: 0 without a driver, a device, or a CUDA build. Throws a
// UserError naming CUDA's error when the runtime fails otherwise (e.g. a driver too old for it).
int cuda_device_count();
// Makes `device` the calling thread's current CUDA device (nothing for the CPU). A process calls
// it once with its first device: a device guard then restores to a device the run uses, and the
// first pinned allocation or library call creates its context there, never on cuda:0 for a run
// on --devices cuda:1 (cudaSetDevice creates the context of the device it is given).
void use_device(Device device);

}  // namespace alexnet
