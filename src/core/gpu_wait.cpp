#include "core/gpu_wait.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/text_format.h"

namespace alexnet {

namespace {

struct WaitState {
  std::mutex mutex;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::map<int, std::string> queued;              // by tower
  std::map<std::string, std::string> collective;  // by group
  std::map<int, std::function<void()>> checks;
  int next_check = 0;
};

WaitState& state() {
  static WaitState s;
  return s;
}

std::string duration_text(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 60000) return shortest_double(static_cast<double>(ms) / 1000) + " s";
  return std::to_string(ms / 60000) + "m " + std::to_string(ms % 60000 / 1000) + "s";
}

}  // namespace

void set_gpu_wait_timeout(std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().timeout = timeout;
}

std::chrono::milliseconds gpu_wait_timeout() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().timeout;
}

void note_queued(int tower, const std::string& node) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().queued[tower] = node;
}

void note_collective(const std::string& group, const std::string& collective) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().collective[group] = collective;
}

std::string last_queued() {
  std::lock_guard<std::mutex> lock(state().mutex);
  std::string out;
  for (const auto& [tower, what] : state().queued)
    out += (out.empty() ? "" : "; ") + ("tower " + std::to_string(tower) + ": " + what);
  for (const auto& [group, what] : state().collective) out += (out.empty() ? "" : "; ") + group + ": " + what;
  return out.empty() ? "nothing noted" : out;
}

int add_wait_check(std::function<void()> check) {
  std::lock_guard<std::mutex> lock(state().mutex);
  const int handle = state().next_check++;
  state().checks[handle] = std::move(check);
  return handle;
}

void remove_wait_check(int handle) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().checks.erase(handle);
}

void wait_until(const std::function<bool()>& ready, const std::string& what) {
  using clock = std::chrono::steady_clock;
  if (ready()) return;
  const auto start = clock::now();
  const std::chrono::milliseconds timeout = gpu_wait_timeout();
  auto next_check = start + std::chrono::milliseconds(100);
  std::chrono::microseconds pause{0};
  for (;;) {
    if (pause.count() == 0) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(pause);
    }
    if (ready()) return;
    // Spin for the first ~100 polls (a step's wait is usually short), then back off to 1 ms.
    pause = std::min<std::chrono::microseconds>(std::chrono::microseconds(1000),
                                                pause + std::chrono::microseconds(10));
    const auto now = clock::now();
    if (now >= next_check) {
      std::vector<std::function<void()>> checks;
      {
        std::lock_guard<std::mutex> lock(state().mutex);
        for (const auto& [handle, check] : state().checks) checks.push_back(check);
      }
      for (const auto& check : checks) check();  // may throw: the wait ends with its error
      next_check = now + std::chrono::milliseconds(100);
    }
    if (now - start >= timeout) {
      throw GpuWaitExpired("no progress on the GPU for " + duration_text(timeout) +
                           " (--timeout) while waiting for " + what + "; last queued: " + last_queued());
    }
  }
}

}  // namespace alexnet
