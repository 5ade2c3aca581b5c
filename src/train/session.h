// A session: the placed, allocated network that `train`, `eval` and `time` all start from, with
// its devices and the communicators it talks through. The network file is read and the net is
// built exactly once here.
//
// One process holds every tower (today's default), or, launched as many processes, one tower of
// one data-parallel replica each (comm/rank_grid.h): the session then joins the others through
// the rendezvous store and connects the tower, replica and world groups (comm/process_groups.h).
// In one process the replica and world groups are a group of one, whose operations change nothing,
// so the trainer runs the same code either way.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/launch_env.h"
#include "comm/process_groups.h"
#include "comm/rank_grid.h"
#include "data/format.h"
#include "net/net.h"
#include "train/parallel.h"
#include "train/run_config.h"

namespace alexnet {

// How this process joins a job: who it is (launch.world_size 1: alone) and the engines' options.
struct Processes {
  LaunchInfo launch;
  ProcessOptions options;
};

struct Session {
  std::shared_ptr<const DatasetReader> data;  // null for `time`, which needs no dataset
  RankGrid grid;                              // rank 0 of 1 in one process
  Parallel parallel = Parallel::kSplit;       // the scheme, resolved (never kAuto)
  std::shared_ptr<Rendezvous> store;          // the rendezvous store, with many processes
  std::vector<Device> devices;                // the devices of the towers this process holds
  std::unique_ptr<Communicator> comm;         // between the towers (null for one tower)
  std::unique_ptr<Communicator> replica;      // this tower across the replicas: gradients
  std::unique_ptr<Communicator> world;        // every process: metrics, stops, checkpoints
  std::unique_ptr<Net> net;
  BackendOptions backend;
  int crop = 0;  // the input's height and width

  bool many() const { return grid.world_size > 1; }
  // The parts each global batch is cut into, and this process's: one per replica, or under hybrid
  // one per worker (the loader, the global batch, evaluation's share).
  int shards() const { return parallel == Parallel::kHybrid ? grid.towers : grid.replicas; }
  int shard() const { return parallel == Parallel::kHybrid ? grid.tower : grid.replica; }
  bool leader() const { return grid.rank == 0; }  // writes the run directory, prints progress
};

// With a dataset: its channels and classes size the net, and the crop must fit its images.
Session make_session(const RunConfig& config, std::shared_ptr<const DatasetReader> data,
                     const Processes& processes = {});

// Without one: `classes` and `channels` override the network file's where not 0.
Session make_session(const RunConfig& config, int classes, int channels, const Processes& processes = {});

// Runs `work` on rank 0 and tells every rank how it went: what it throws is thrown on every rank
// (a UserError as a UserError), so that all stop together. In one process: just `work`.
void on_leader(const Session& session, const std::function<void()>& work);
// Rank 0's `bytes` on every rank (nothing to do in one process).
void from_leader(const Session& session, std::string& bytes);
// Every rank must run rank 0's configuration (`toml`: to_toml of it): one whose flags or run file
// say otherwise would compute something else, or wait in a collective the others never call.
// Throws UserError on every rank, naming the first rank that differs and the first line where.
void agree_on_configuration(const Session& session, const std::string& toml);

// The device of local rank `local_rank` under --devices: "auto" (that GPU among the visible ones
// if there are GPUs, else the CPU), "cpu", "cuda" (that GPU; UserError when there are fewer), or
// a comma-separated list indexed by the local rank.
Device rank_device(const std::string& devices, int local_rank);

}  // namespace alexnet
