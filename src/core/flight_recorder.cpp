#include "core/flight_recorder.h"

#include <glog/logging.h>

#include <array>
#include <chrono>
#include <csignal>
#include <mutex>
#include <sstream>

#include "core/atomic_file.h"
#include "core/text_format.h"

namespace alexnet {

namespace {

struct Entry {
  int64_t seq = 0;
  std::string group;
  std::string operation;
  int64_t bytes = 0;
  int64_t enqueued_us = 0, started_us = 0, ended_us = -1;
  const char* state = "";
};

constexpr size_t kKept = 512;

struct Recorder {
  std::mutex mutex;
  std::array<Entry, kKept> ring;
  int64_t next = 1, last_completed = 0;
  std::string path;
  int rank = 0;
  std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();
};

Recorder& recorder() {
  static Recorder r;
  return r;
}

int64_t now_us(const Recorder& r) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - r.origin)
      .count();
}

}  // namespace

int64_t flight_begin(const std::string& group, const std::string& operation, int64_t bytes,
                     bool completes_here) {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  const int64_t seq = r.next++;
  Entry& e = r.ring[static_cast<size_t>(seq) % kKept];
  e.seq = seq;
  e.group = group;
  e.operation = operation;
  e.bytes = bytes;
  e.enqueued_us = e.started_us = now_us(r);
  e.ended_us = -1;
  e.state = completes_here ? "started" : "queued";
  return seq;
}

void flight_end(int64_t seq, bool ok) {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  Entry& e = r.ring[static_cast<size_t>(seq) % kKept];
  if (e.seq != seq) return;  // overwritten meanwhile
  e.ended_us = now_us(r);
  e.state = ok ? "completed" : "failed";
  if (ok && seq > r.last_completed) r.last_completed = seq;
}

int64_t flight_last_completed() {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.last_completed;
}

int64_t flight_last_begun() {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.next - 1;
}

std::string flight_json(int rank) {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::ostringstream o;
  o << "{\"rank\": " << rank << ", \"last_completed\": " << r.last_completed << ", \"now_us\": " << now_us(r)
    << ", \"entries\": [";
  bool first = true;
  const int64_t oldest = std::max<int64_t>(1, r.next - static_cast<int64_t>(kKept));
  for (int64_t seq = oldest; seq < r.next; ++seq) {
    const Entry& e = r.ring[static_cast<size_t>(seq) % kKept];
    if (e.seq != seq) continue;
    o << (first ? "\n  " : ",\n  ") << "{\"seq\": " << e.seq << ", \"group\": " << json_quote(e.group)
      << ", \"operation\": " << json_quote(e.operation) << ", \"bytes\": " << e.bytes
      << ", \"enqueued_us\": " << e.enqueued_us << ", \"started_us\": " << e.started_us
      << ", \"ended_us\": " << e.ended_us << ", \"state\": " << json_quote(e.state) << "}";
    first = false;
  }
  o << (first ? "]}\n" : "\n]}\n");
  return o.str();
}

void set_flight_record_path(const std::string& path, int rank) {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.path = path;
  r.rank = rank;
}

std::string dump_flight_record() {
  std::string path;
  int rank = 0;
  {
    Recorder& r = recorder();
    std::lock_guard<std::mutex> lock(r.mutex);
    path = r.path;
    rank = r.rank;
  }
  if (path.empty()) return "";
  try {
    write_file_atomically(path, flight_json(rank));
  } catch (const std::exception& e) {
    LOG(ERROR) << "the flight record could not be written: " << e.what();
    return "";
  }
  return path;
}

namespace {
extern "C" void on_fatal_signal(int sig) {
  std::signal(sig, SIG_DFL);
  dump_flight_record();
  std::raise(sig);
}
}  // namespace

void dump_flight_record_on_fatal_signals() {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_fatal_signal);
}

}  // namespace alexnet
