// `alexnet launch`: N ranks of one program on this machine, for when torchrun, mpirun and srun
// are not at hand. A launcher, not a scheduler: with --max-restarts N it starts every rank again
// after a failure, up to N times, as torchrun does (the same command then continues its run from
// its last checkpoint); it never restarts one rank alone.
//
// Each rank gets torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), which comm/launch_env.h reads. Its stdout and stderr come back line
// by line with "[rank N] " in front, to the launcher's stdout and stderr. SIGINT, SIGTERM and
// SIGHUP are passed on to every rank; a second SIGINT soon after the first kills them. The
// launcher returns the status of the first rank that failed (128 + s for one killed by signal s),
// or 0. After a failure the others get `grace_s` to end on their own (a rank that lost a peer
// ends itself within its --timeout), then SIGTERM, then SIGKILL.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace alexnet {

struct LaunchOptions {
  int nproc = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;            // 0: a free port on master_addr, found by binding port 0
  double grace_s = 360;           // after the first failure, before SIGTERM
  double kill_after_s = 10;       // after that SIGTERM, before SIGKILL
  double double_interrupt_s = 2;  // a second SIGINT this soon after the first sends SIGKILL
  int out_fd = 1, err_fd = 2;     // where the ranks' prefixed lines and the launcher's own go
  // After a rank fails (not after a signal the launcher passed on, nor a status of 2, bad input that
  // a restart would meet again): end the others as above, wait restart_delay_s, start all again
  // (TORCHELASTIC_RESTART_COUNT=k, a new MASTER_PORT unless one was given), up to max_restarts.
  int max_restarts = 0;
  double restart_delay_s = 1;
};

// Runs `program` with `argv` (argv[0] included) as `options.nproc` ranks and returns the exit
// status described above. Throws UserError for bad options (nproc < 1, a master address that is
// not this machine's when the port is to be found) and std::runtime_error when the program cannot
// be executed (after stopping any rank already started).
int launch_ranks(const std::string& program, const std::vector<std::string>& argv,
                 const LaunchOptions& options);

// A TCP port free on `addr` now: the kernel's choice for port 0. Throws UserError when `addr`
// does not resolve or is not an address of this machine.
int free_port(const std::string& addr);

// Splits a stream of bytes into lines, each ending in '\n' or '\r' (kept: a progress line that
// redraws itself with '\r' still redraws), and hands each with `prefix` in front to `emit`.
class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix) : prefix_(std::move(prefix)) {}
  template <class Emit>
  void feed(const char* data, size_t n, Emit&& emit) {
    for (size_t i = 0; i < n; ++i) {
      pending_ += data[i];
      if (data[i] == '\n' || data[i] == '\r') {
        emit(prefix_ + pending_);
        pending_.clear();
      }
    }
  }
  // At end of stream: the last line, which had no line end, given one so that it does not run
  // into another rank's next line.
  template <class Emit>
  void finish(Emit&& emit) {
    if (!pending_.empty()) emit(prefix_ + pending_ + '\n');
    pending_.clear();
  }

 private:
  std::string prefix_, pending_;
};

}  // namespace alexnet
