// A timeline of the steps that `alexnet time` and `alexnet train` profile, in the Chrome Trace
// Event Format: the JSON object {"traceEvents": [...]} that Perfetto's UI (ui.perfetto.dev) and
// chrome://tracing open, written whole and atomically (gzip-compressed when the name ends .gz).
//
//   process lanes   one per rank: "rank R (replica r, tower(s) ...)"
//   thread lanes    per tower held: "tower t compute" (each node's forward and backward, the
//                   loss among them, and the SGD update), "tower t communication" (exchanges, the
//                   gradient all-reduce's buckets), "tower t host-to-device copy" (the batch's
//                   copy); "trainer" (the wait for the batch); "loader worker w" (the assembly of
//                   each traced step's batch)
//   events          complete events ("ph": "X"; ts and dur in microseconds on the host's steady
//                   clock, rank 0's after the merge), named as `time`'s rows (the node), cat
//                   "forward" or "backward" (or "sgd", "copy", "data", "all-reduce"), args: step,
//                   tower, type, and an exchange's or bucket's bytes
//   flows           one arrow ("ph": "s" then "f") from each exchange's slice on one tower to its
//                   slice on every other tower: what one tower sends, the other receives
//
// The times are those of the timing table (train/timing_report.h): a profiled step's nodes are
// timed alone, one after another, by the events that time the rows (CUDA events on a GPU, placed
// on the host clock through one event per step that the host waited for and stamped), so the
// timeline shows where each node's time goes and whom each exchange waits for, not the overlap of
// an unprofiled step.
//
// Many processes: every rank keeps its own events; rank 0 gathers them and shifts each rank's by
// its clock's offset from rank 0's (measure_clock_offset), one file for the job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/plan.h"

namespace alexnet {

class Net;
struct Batch;
struct Session;

// Which profiled steps go into the trace, like torch.profiler's schedule: skip `warmup`, then
// record `active` (--trace-warmup, --trace-steps).
struct TraceSchedule {
  int warmup = 0;
  int active = 3;
};

// A trace larger than this many events is refused before the run starts: 138-148 bytes an event
// in e2e.trace's files (alexnet-mini, 2 and 4 ranks), so some 300 MB of JSON.
inline constexpr int64_t kMaxTraceEvents = 2'000'000;

// Events a trace of `steps` steps of `plan` holds at most (nodes x towers x 2 phases, flows,
// buckets, copies, the update): what kMaxTraceEvents is checked against.
int64_t trace_events_estimate(const Plan& plan, int64_t steps, int64_t buckets_per_step);

// Before the run: UserError (naming `flag`) when `path`'s folder cannot be made or written (it is
// made when the trace is written), or when `steps` steps would pass kMaxTraceEvents.
void check_trace_path(const std::string& path, const std::string& flag);
void check_trace_size(const Plan& plan, int64_t steps, int64_t buckets_per_step, const std::string& flag);

// What a profiled step did besides the net's nodes, each span on host_clock_ms().
struct TraceExtras {
  double data_wait_start_ms = 0, data_wait_ms = 0;  // the trainer's wait for the batch
  const Batch* batch = nullptr;                     // its loader worker and assembly span
  double sgd_start_ms = 0, sgd_ms = 0;              // the update (every tower held)
  struct Span {
    int tower = 0;
    int64_t bytes = 0;
    double start_ms = 0, end_ms = 0;
  };
  std::vector<Span> all_reduce;  // the gradient all-reduce: buckets, or one piece per tower
};

class StepTrace {
 public:
  // `rank` and `replica` name the process lane; `towers` are the towers this process holds.
  StepTrace(const Plan& plan, int batch, int rank, int replica, std::vector<int> towers,
            TraceSchedule schedule);

  // Whether the next profiled step is still wanted (warm-up or active), and whether every active
  // step is in.
  bool wants_step() const { return seen_ < schedule_.warmup + schedule_.active; }
  bool complete() const { return seen_ >= schedule_.warmup + schedule_.active; }
  // After a profiled step (Net::timing and the spans in `extras`): counted, and kept when active.
  void add_step(int64_t step, const Net& net, const TraceExtras& extras);
  int recorded_steps() const { return recorded_; }

  // This rank's events, as JSON objects separated by ",\n", times in µs on this rank's clock.
  const std::string& events() const { return events_; }

 private:
  void complete_event(const std::string& name, const std::string& cat, int tid, double start_ms,
                      double dur_ms, const std::string& args);
  void flow(bool start, uint64_t id, int tid, double ts_ms);

  const Plan& plan_;
  int batch_, rank_, replica_;
  std::vector<int> towers_;
  TraceSchedule schedule_;
  int seen_ = 0, recorded_ = 0;
  std::vector<int> workers_seen_;
  std::string events_;
};

// The lanes' ids within a rank's process lane.
int trace_compute_lane(int tower);
int trace_comm_lane(int tower);
int trace_copy_lane(int tower);
inline constexpr int kTraceTrainerLane = 1;
int trace_loader_lane(int worker);

// This rank's clock minus rank 0's, in ms, and how far off that may be. Through the rendezvous
// store's server (a TCP store: Cristian's algorithm, the sample with the shortest round trip of
// several against the server's clock, for this rank and for rank 0; the uncertainty is half of
// both round trips), exactly 0 where every rank shares one host's clock (a file store, one
// process). Collective over the world.
struct ClockOffset {
  double offset_ms = 0, uncertainty_ms = 0;
  std::string how;
};
ClockOffset measure_clock_offset(const Session& session);

// Rank 0: the file, from every rank's events() (gathered in rank order) and clock offset; `about`
// goes into "otherData" (the command, the schedule, the offsets).
std::string trace_json(const std::vector<std::string>& rank_events, const std::vector<ClockOffset>& offsets,
                       const std::vector<std::string>& process_names, const std::string& about);
// Atomically; gzip-compressed when `path` ends in .gz. UserError naming the path on failure.
void write_trace(const std::string& path, const std::string& json);

// Every rank: gathers `trace`'s events to rank 0, which writes `path` with them (collective).
// `about` is a JSON object's members (without braces) for otherData.
void gather_and_write_trace(const Session& session, const StepTrace& trace, const std::string& path,
                            const std::string& about);

}  // namespace alexnet
