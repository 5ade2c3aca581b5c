// SIGINT and SIGTERM as requests to stop at the next safe point, instead of killing the process
// mid-write. `train` finishes its step and writes a checkpoint; `pack` removes its partial file.
#pragma once

namespace alexnet {

// While alive, SIGINT and SIGTERM are recorded rather than acted on; the previous handlers come
// back afterwards. One instance at a time.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // The signal's name ("SIGINT", "SIGTERM") once one arrived, else null.
  const char* received() const;
  // Its number, or 0.
  int number() const;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

}  // namespace alexnet
