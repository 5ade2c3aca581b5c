// The flight recorder: each process keeps its last collectives, to say after a hang or a lost
// rank who fell behind (as PyTorch's NCCL flight recorder does).
//
// Every collective a communicator issues (Gloo's run, NCCL's issue) is recorded with its sequence
// number, group, operation, bytes, and its enqueue, start and end times (steady clock, microseconds
// since the process started recording) and state: queued, completed or failed. NCCL's collectives
// are recorded queued: their completion is the stream's. A ring of the last 512 is kept: a
// mutex and a few stores per collective, cheap enough to stay on (the trainer measures it).
// On a timeout, a lost rank or a fatal signal the process writes them, as JSON, to the path
// set_flight_record_path() named (RUN/logs/rank-R/flight.json); the trainer also publishes each
// step's last completed sequence number through the store, so that the survivors can say whose
// is lowest. Plain C++.
#pragma once

#include <cstdint>
#include <string>

namespace alexnet {

// A collective starting now; returns its sequence number (1, 2, ...).
int64_t flight_begin(const std::string& group, const std::string& operation, int64_t bytes,
                     bool completes_here = true);
// It ended (ok: completed; else failed).
void flight_end(int64_t seq, bool ok);
// The highest sequence number that completed, 0 before any; the highest begun (completed, failed,
// or waited in now).
int64_t flight_last_completed();
int64_t flight_last_begun();
// The ring as JSON: {"rank": R, "last_completed": N, "entries": [{"seq": .., "group": .., ...}]}.
std::string flight_json(int rank);
// Where to write it on a failure, and this process's rank; empty: nowhere.
void set_flight_record_path(const std::string& path, int rank);
// Writes it there (atomically; a failure to write is logged, not thrown). Returns the path, or "".
std::string dump_flight_record();
// Also writes it on SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, then dies by the signal as before
// (best effort: the writer is not async-signal-safe, and a process dying of these has no better).
void dump_flight_record_on_fatal_signals();

}  // namespace alexnet
