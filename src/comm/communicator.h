// Collective operations among the members of a group: the towers of one process, or one member
// per process (the rank grid's tower, replica and world groups, comm/rank_grid.h).
//
// A group has size() members; this process holds local() of them (all of them for the towers of
// one process, one for a group across processes). One call covers every local member: element i
// of each vector is local member local()[i]'s buffer and stream, as NCCL group calls are issued for
// all local ranks at once. Buffers are flat; `count` is the number of floats one member
// contributes.
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
  // The members this process holds, ascending.
  virtual std::vector<int> local() const = 0;
  virtual const char* kind() const = 0;

  virtual void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                          const std::vector<const Stream*>& streams) = 0;
  virtual void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                              const std::vector<const Stream*>& streams) = 0;
  virtual void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) = 0;
  virtual void broadcast(int root, const std::vector<View>& buffers,
                         const std::vector<const Stream*>& streams) = 0;

  // Host values among the group's processes (a group that one process holds whole has nothing to
  // exchange: the calls return their input). Used for metrics, stop decisions and checkpoints.
  //   all_reduce_host  values = sum over processes of their values (same length everywhere)
  //   broadcast_host   bytes = the root process's bytes (any length); root is a member
  //   all_gather_host  one string per process, in member order
  virtual void all_reduce_host(std::vector<double>& values) = 0;
  virtual void broadcast_host(int root, std::string& bytes) = 0;
  virtual std::vector<std::string> all_gather_host(const std::string& mine) = 0;
};

// 0, 1, ..., size - 1: local() of a group this process holds whole.
std::vector<int> every_member(int size);

// The host operations of a group held whole by this process: identities.
class OneProcessHost : public Communicator {
 public:
  void all_reduce_host(std::vector<double>&) override {}
  void broadcast_host(int, std::string&) override {}
  std::vector<std::string> all_gather_host(const std::string& mine) override { return {mine}; }
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
