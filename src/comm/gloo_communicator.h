// One group of the rank grid on Gloo: a full TCP mesh among its member processes, this process
// holding one member. Internal to src/comm; connect_cpu_groups() (comm/process_groups.h) builds them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/rank_grid.h"

namespace gloo {
class Context;
}

namespace alexnet {

class Rendezvous;

struct GlooGroup {
  std::string name;                        // "tower", "replica" or "world", for messages
  RankGroup members;                       // ranks in group order; index: this process
  std::shared_ptr<gloo::Context> context;  // null for a group of one, which needs no mesh
  std::shared_ptr<Rendezvous> store;       // names the lost rank when an operation fails
  std::chrono::milliseconds timeout;       // every operation's bound
};

// Buffers are host memory (Device::cpu()); every call completes before it returns.
std::unique_ptr<Communicator> make_gloo_communicator(GlooGroup group);

// The one-line message of the PeerLost thrown when `operation` of `group` fails with Gloo's `what`:
// the lost rank when the store knows it, else a member that ended on an error of its own, else the
// silent group (after `timed_out`) or Gloo's words.
std::string describe_peer_failure(Rendezvous& store, const GlooGroup& group, const std::string& operation,
                                  bool timed_out, const std::string& what);

}  // namespace alexnet
