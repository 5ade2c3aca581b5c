// The groups of a job of many processes, connected: the rendezvous store, then one communicator
// per group of the rank grid (comm/rank_grid.h), each holding this rank's one member.
//
// Rendezvous goes through a key-value store with timeouts (comm/rendezvous.h): by default the TCP
// store (comm/tcp_store.h), which rank 0 serves at the launch's store address, every rank (rank 0
// included) connecting as a client and saying which rank it is; with launch.store_dir, the files of
// that folder (comm/file_store.h), for the ranks of one host. Before any group is connected, every rank waits
// until all world_size ranks have arrived and agree on the grid; a rank that never arrives, two processes
// claiming one rank, or ranks that disagree on the world size or the towers end in UserError naming them.
//
// CPU ranks talk through Gloo over TCP, one full mesh per group (the store's keys prefixed by the
// group's name). Gloo is given an IP address, never a host name (a network namespace's host name
// need not resolve): that of --iface / GLOO_SOCKET_IFNAME when given, else the local address the
// kernel routes to the store's host by (with the file store, whose ranks share a host, 127.0.0.1).
//
// After set-up, a collective that cannot complete (a peer's connection closed, or no answer within
// `timeout`) throws PeerLost, whose message names the lost rank where the store knows it (rank 0's
// store sees each rank's connection close) and the group and operation otherwise.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "comm/communicator.h"
#include "comm/launch_env.h"
#include "comm/rank_grid.h"
#include "core/device.h"

namespace alexnet {

class Rendezvous;

// A collective or the store could not complete because another rank is gone or silent.
class PeerLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ProcessOptions {
  std::string iface;  // --iface, else GLOO_SOCKET_IFNAME; empty: the route to the store's host
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // --timeout: store and collectives
};

struct ProcessGroups {
  RankGrid grid;
  std::shared_ptr<Rendezvous> store;
  std::unique_ptr<Communicator> tower, replica, world;
  ProcessGroups();
  ~ProcessGroups();
  ProcessGroups(ProcessGroups&&) noexcept;
  ProcessGroups& operator=(ProcessGroups&&) noexcept;
};

// For world_size > 1: serves the store on rank 0, meets every rank, and connects the three groups
// on Gloo (CPU tensors). Throws UserError for what the user can fix (an unreachable store address,
// a rank that never arrives, an unknown interface, disagreeing ranks) and PeerLost for a rank lost
// during set-up.
ProcessGroups connect_cpu_groups(const LaunchInfo& launch, const RankGrid& grid,
                                 const ProcessOptions& options);

// For ranks on GPUs (`device`: this rank's): connect_cpu_groups, whose Gloo groups keep the host
// operations, then NCCL for the tower and replica groups' tensors (comm/nccl_process_groups.cpp).
// Two ranks of one host on one GPU are refused (UserError, on every rank) unless NCCL >= 2.30 and
// `multi_rank_gpu`. In a build without CUDA: UserError (no_cuda_backend).
ProcessGroups connect_gpu_groups(const LaunchInfo& launch, const RankGrid& grid,
                                 const ProcessOptions& options, Device device, bool multi_rank_gpu);

}  // namespace alexnet
