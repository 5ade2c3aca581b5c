// SIGINT, SIGTERM and SIGUSR1 as requests to stop at the next safe point, instead of killing the
// process mid-write. `train` finishes its step and writes a checkpoint (SIGUSR1 is what Slurm's
// --signal=USR1@N sends ahead of a time limit or preemption; with --requeue the job then requeues
// itself); `pack` removes its partial file.
#pragma once

namespace alexnet {

// While alive, SIGINT, SIGTERM and SIGUSR1 are recorded rather than acted on; the previous
// handlers come back afterwards. One instance at a time.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // The signal's name ("SIGINT", "SIGTERM", "SIGUSR1") once one arrived, else null.
  const char* received() const;
  // Its number, or 0.
  int number() const;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
  void (*old_usr1_)(int);
};

}  // namespace alexnet
