// Bootstrap: which rank this process is, how many there are, and where they meet.
//
// The values come from the first of these that is present (a launcher's set counts as present
// when any of its rank variables is set; then all of it must be):
//   1. flags         --rank, --world-size, --local-rank (default: the rank)
//   2. torchrun      RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (the last two
//                    not needed where --store-host / --store-port give the address)
//   3. OpenMPI       OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_RANK
//   4. Slurm (srun)  SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID
//   5. none: a single process, rank 0 of 1.
// The rendezvous store's address (needed only when world size > 1) is taken field by field from
// --store-host / --store-port, then MASTER_ADDR / MASTER_PORT, then, under Slurm only, the first
// host of SLURM_STEP_NODELIST (else SLURM_NODELIST) and the port 20000 + SLURM_JOB_ID mod 10000:
// above the privileged ports, below Linux's ephemeral range (32768-60999) so that no outgoing
// connection holds it, and different for jobs whose ids differ by less than 10000. Under
// torchrun's static rendezvous (TORCHELASTIC_USE_AGENT_STORE=True) MASTER_PORT is already held by
// torchrun's own store, so ours takes MASTER_PORT + 1. OpenMPI gives
// no address of its own: `mpirun -x MASTER_ADDR=... -x MASTER_PORT=...` or the flags supply it.
// With --store-dir the ranks of one host meet in that folder instead (comm/file_store.h): no
// address is needed, and MASTER_ADDR / MASTER_PORT, where a launcher sets them, are not used.
// --store-dir together with --store-host or --store-port names two stores: UserError.
//
// A value that is not a whole number, is negative, or contradicts another (rank >= world size),
// a launcher's set partly present, or a missing address ends in UserError naming the variable
// and its value.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace alexnet {

// What the command line says; unset fields defer to the environment.
struct LaunchFlags {
  std::optional<int> rank, world_size, local_rank;
  std::optional<std::string> store_host;
  std::optional<int> store_port;
  std::optional<std::string> store_dir;
};

struct LaunchInfo {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string store_host;  // empty when world_size == 1: nothing to meet
  int store_port = 0;
  std::string store_dir;  // the file store's folder: then store_host is empty
  std::string source;     // "flags", "torchrun", "OpenMPI", "Slurm" or "single process"

  // e.g. "rank 1 of 4 (local rank 1) from torchrun, store 10.0.0.1:29500" (or "store folder /tmp/job")
  std::string describe() const;
};

// A variable's value, or nullopt when it is not set. Tests pass a map; the program passes
// process_environment().
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

LaunchInfo resolve_launch(const LaunchFlags& flags, const EnvLookup& env);

// The first host of a Slurm host list: "node[01-04,07]" -> "node01", "a,b" -> "a",
// "gpu-[3-5]x" -> "gpu-3x", "r[1-2]n[5-6]" -> "r1n5". Throws UserError naming `variable` and the
// value for anything else (nested or unbalanced brackets, a range that is not digits).
std::string first_slurm_host(const std::string& variable, const std::string& hostlist);

}  // namespace alexnet
