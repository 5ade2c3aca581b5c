#include "core/stop_signals.h"

#include <atomic>
#include <csignal>

namespace alexnet {

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
}

}  // namespace

StopSignals::StopSignals() {
  g_stop_signal = 0;
  old_int_ = std::signal(SIGINT, on_stop_signal);
  old_term_ = std::signal(SIGTERM, on_stop_signal);
  old_usr1_ = std::signal(SIGUSR1, on_stop_signal);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
  std::signal(SIGUSR1, old_usr1_);
}

const char* StopSignals::received() const {
  const int s = g_stop_signal;
  return s == 0 ? nullptr : s == SIGINT ? "SIGINT" : s == SIGUSR1 ? "SIGUSR1" : "SIGTERM";
}

int StopSignals::number() const {
  return g_stop_signal;
}

}  // namespace alexnet
