// Collective operations between the towers of one process (and, later, between processes).
//
// One call covers every tower: element t of each vector is tower t's buffer and stream, as NCCL
// group calls are issued for all local ranks at once. Buffers are flat; `count` is the number of
// floats one tower contributes.
//   all_gather      recv[t] = send[0] | send[1] | ...                 (size * count each)
//   reduce_scatter  recv[t] = sum over r of block t of send[r]       (send: size * count each)
//   all_reduce      buf[t]  = sum over r of buf[r], in place
//   broadcast       buf[t]  = buf[root]
// The calls are ordered after the work already queued on each tower's stream, and later work on
// those streams sees their results.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/stream.h"

namespace alexnet {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int size() const = 0;
  virtual const char* kind() const = 0;

  virtual void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                          const std::vector<const Stream*>& streams) = 0;
  virtual void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                              const std::vector<const Stream*>& streams) = 0;
  virtual void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) = 0;
  virtual void broadcast(int root, const std::vector<View>& buffers,
                         const std::vector<const Stream*>& streams) = 0;
};

// Towers inside one process: all on the CPU, or sharing one GPU (device-to-device copies).
std::unique_ptr<Communicator> make_local_communicator(const std::vector<Device>& devices);

// Towers on CUDA devices joined by NCCL, one rank per tower, all driven by this process. Two
// towers on one GPU need `multi_rank_gpu` and NCCL >= 2.30 (NCCL_MULTI_RANK_GPU_ENABLE=1 is set);
// on older NCCL that is refused with a UserError naming the version loaded.
std::unique_ptr<Communicator> make_nccl_communicator(const std::vector<Device>& devices, bool multi_rank_gpu);

// --comm: "local", "nccl", or "auto" (NCCL for towers on distinct GPUs, local otherwise).
std::unique_ptr<Communicator> make_communicator(const std::string& kind, const std::vector<Device>& devices,
                                                bool multi_rank_gpu);

}  // namespace alexnet
