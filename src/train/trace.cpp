#include "train/trace.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "comm/rendezvous.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/stream.h"
#include "core/text_format.h"
#include "data/loader.h"
#include "net/layer_table.h"
#include "net/net.h"
#include "train/session.h"
#include "train/timing_report.h"

namespace alexnet {

namespace fs = std::filesystem;

int trace_compute_lane(int tower) {
  return 10 + 10 * tower;
}
int trace_comm_lane(int tower) {
  return 11 + 10 * tower;
}
int trace_copy_lane(int tower) {
  return 12 + 10 * tower;
}
int trace_loader_lane(int worker) {
  return 1000 + worker;
}

int64_t trace_events_estimate(const Plan& plan, int64_t steps, int64_t buckets_per_step) {
  int64_t per_step = 0;
  for (const PlanNode& node : plan.nodes) {
    for (int t = 0; t < plan.towers; ++t) {
      if (!node.tower[t].active) continue;
      per_step += 2;                                                                  // forward and backward
      if (node.kind == PlanNode::Kind::kExchange) per_step += 4 * (plan.towers - 1);  // flows' halves
    }
  }
  per_step += plan.towers * (2 + buckets_per_step) + 2;  // update, copy, buckets; wait, batch
  return steps * per_step;
}

void check_trace_path(const std::string& path, const std::string& flag) {
  // Nothing is created yet (a --trace inside a new run directory must not make that directory
  // look used): the nearest folder that exists must be one this process may write in.
  fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  const std::string named = folder.string();
  std::error_code e;
  while (!fs::exists(folder, e) && folder.has_parent_path() && folder != folder.parent_path())
    folder = folder.parent_path();
  if (!fs::is_directory(folder, e) || access(folder.c_str(), W_OK | X_OK) != 0)
    throw UserError(flag + " " + path + ": cannot write in " + named);
}

void write_trace_file(const std::string& path, const std::string& bytes) {
  const fs::path folder = fs::path(path).parent_path();
  std::error_code e;
  if (!folder.empty()) fs::create_directories(folder, e);
  write_file_atomically(path, bytes);
}

void check_trace_size(const Plan& plan, int64_t steps, int64_t buckets_per_step, const std::string& flag) {
  const int64_t events = trace_events_estimate(plan, steps, buckets_per_step);
  if (events > kMaxTraceEvents) {
    throw UserError(flag + ": " + std::to_string(steps) + " steps of this net make about " +
                    std::to_string(events) + " trace events, more than the " +
                    std::to_string(kMaxTraceEvents) + " a trace may hold; trace fewer steps (--trace-steps)");
  }
}

StepTrace::StepTrace(const Plan& plan, int batch, int rank, int replica, std::vector<int> towers,
                     TraceSchedule schedule)
    : plan_(plan),
      batch_(batch),
      rank_(rank),
      replica_(replica),
      towers_(std::move(towers)),
      schedule_(schedule) {}

namespace {
std::string us(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", ms * 1e3);
  return text;
}
// A flow's id: the same on the rank that sends and the one that receives.
uint64_t flow_id(int64_t step, size_t node, bool forward, int from, int to) {
  return ((static_cast<uint64_t>(step) * 4096 + node) * 2 + (forward ? 1 : 0)) * 4096 +
         static_cast<uint64_t>(from) * 64 + static_cast<uint64_t>(to);
}
}  // namespace

void StepTrace::complete_event(const std::string& name, const std::string& cat, int tid, double start_ms,
                               double dur_ms, const std::string& args) {
  if (!events_.empty()) events_ += ",\n";
  events_ += "{\"name\": " + json_quote(name) + ", \"cat\": \"" + cat +
             "\", \"ph\": \"X\", \"ts\": " + us(start_ms) + ", \"dur\": " + us(std::max(dur_ms, 0.0)) +
             ", \"pid\": " + std::to_string(rank_) + ", \"tid\": " + std::to_string(tid) + ", \"args\": {" +
             args + "}}";
}

void StepTrace::flow(bool start, uint64_t id, int tid, double ts_ms) {
  events_ += (events_.empty() ? "" : ",\n");
  events_ += "{\"name\": \"exchange\", \"cat\": \"exchange\", \"ph\": \"" + std::string(start ? "s" : "f") +
             "\", \"id\": " + std::to_string(id) + ", \"ts\": " + us(ts_ms) +
             ", \"pid\": " + std::to_string(rank_) + ", \"tid\": " + std::to_string(tid) +
             (start ? "" : ", \"bp\": \"e\"") + "}";
}

void StepTrace::add_step(int64_t step, const Net& net, const TraceExtras& extras) {
  if (complete() || seen_++ < schedule_.warmup) return;
  ++recorded_;
  const std::string at = "\"step\": " + std::to_string(step);
  const std::vector<NodeTiming>& timing = net.timing();
  for (size_t i = 0; i < plan_.nodes.size() && i < timing.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    const bool exchange = node.kind == PlanNode::Kind::kExchange;
    const std::string type = exchange ? "exchange" : layer_kind_name(node.layer_kind);
    for (int phase = 0; phase < 2; ++phase) {
      const bool forward = phase == 0;
      const std::vector<double>& start = forward ? timing[i].forward_start_ms : timing[i].backward_start_ms;
      const std::vector<double>& ms = forward ? timing[i].forward_ms : timing[i].backward_ms;
      for (int t : towers_) {
        if (!node.tower[t].active || start[t] <= 0) continue;
        std::string args = at + ", \"tower\": " + std::to_string(t) + ", \"type\": \"" + type + "\"";
        if (exchange) {
          args += ", \"bytes\": " + std::to_string(node.exchange_bytes_per_item * batch_ / plan_.towers);
        }
        const int lane = exchange ? trace_comm_lane(t) : trace_compute_lane(t);
        complete_event(node.name, forward ? "forward" : "backward", lane, start[t], ms[t], args);
        if (!exchange) continue;
        // What this tower sends starts its slice's arrows; what it receives ends the others'.
        for (int other = 0; other < plan_.towers; ++other) {
          if (other == t || !node.tower[other].active) continue;
          flow(true, flow_id(step, i, forward, t, other), lane, start[t]);
          flow(false, flow_id(step, i, forward, other, t), lane, start[t] + ms[t] / 2);
        }
      }
    }
  }
  for (int t : towers_) {
    if (extras.sgd_ms > 0)
      complete_event("sgd update", "sgd", trace_compute_lane(t), extras.sgd_start_ms, extras.sgd_ms, at);
  }
  if (net.input_copy_ms() > 0 && !towers_.empty()) {
    complete_event("input copy", "copy", trace_copy_lane(towers_.front()), net.input_copy_start_ms(),
                   net.input_copy_ms(), at);
  }
  for (const TraceExtras::Span& s : extras.all_reduce) {
    complete_event(
        kAllReduceRow, "all-reduce", trace_comm_lane(s.tower), s.start_ms, s.end_ms - s.start_ms,
        at + ", \"tower\": " + std::to_string(s.tower) + ", \"bytes\": " + std::to_string(s.bytes));
  }
  if (extras.data_wait_start_ms > 0) {
    complete_event("wait for the batch", "data", kTraceTrainerLane, extras.data_wait_start_ms,
                   extras.data_wait_ms, at);
  }
  auto name_lane = [&](int tid, const std::string& name) {
    events_ += events_.empty() ? "" : ",\n";
    events_ += "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " + std::to_string(rank_) +
               ", \"tid\": " + std::to_string(tid) + ", \"args\": {\"name\": " + json_quote(name) + "}}";
    events_ += events_.empty() ? "" : ",\n";
    events_ += "{\"name\": \"thread_sort_index\", \"ph\": \"M\", \"pid\": " + std::to_string(rank_) +
               ", \"tid\": " + std::to_string(tid) + ", \"args\": {\"sort_index\": " + std::to_string(tid) +
               "}}";
  };
  if (extras.batch && extras.batch->fill_end_ms > 0) {
    const Batch& b = *extras.batch;
    complete_event("assemble batch " + std::to_string(b.number), "data", trace_loader_lane(b.worker),
                   b.fill_start_ms, b.fill_end_ms - b.fill_start_ms,
                   at + ", \"epoch\": " + std::to_string(b.epoch));
    if (std::find(workers_seen_.begin(), workers_seen_.end(), b.worker) == workers_seen_.end()) {
      workers_seen_.push_back(b.worker);
      name_lane(trace_loader_lane(b.worker), "loader worker " + std::to_string(b.worker));
    }
  }
  // The lanes' names (metadata events), once, after the first step's events.
  if (recorded_ > 1) return;
  name_lane(kTraceTrainerLane, "trainer");
  for (int t : towers_) {
    name_lane(trace_compute_lane(t), "tower " + std::to_string(t) + " compute");
    name_lane(trace_comm_lane(t), "tower " + std::to_string(t) + " communication");
    name_lane(trace_copy_lane(t), "tower " + std::to_string(t) + " host-to-device copy");
  }
}

ClockOffset measure_clock_offset(const Session& s) {
  ClockOffset mine;
  if (!s.many()) return {0, 0, "one process: one clock"};
  // Cristian's algorithm against the store's server: of several samples, the one with the
  // shortest round trip; the server's clock lies within half of it of the midpoint.
  double best_rtt = -1, best_offset = 0;
  bool served = s.store && s.store->server_clock_ms() >= 0;
  if (served) {
    for (int k = 0; k < 16; ++k) {
      const double sent = host_clock_ms();
      const double server = s.store->server_clock_ms();
      const double back = host_clock_ms();
      if (best_rtt < 0 || back - sent < best_rtt) {
        best_rtt = back - sent;
        best_offset = (sent + back) / 2 - server;
      }
    }
  }
  // Relative to rank 0's, which measured the same way.
  std::vector<double> v = {s.leader() ? best_offset : 0.0, s.leader() ? best_rtt / 2 : 0.0};
  s.world->all_reduce_host(v);
  if (!served) return {0, 0, "a file store: every rank on one host, one clock"};
  return {s.leader() ? 0.0 : best_offset - v[0], s.leader() ? 0.0 : best_rtt / 2 + v[1],
          "through the TCP store's server clock (Cristian's algorithm, the shortest of 16 round trips)"};
}

std::string trace_json(const std::vector<std::string>& rank_events, const std::vector<ClockOffset>& offsets,
                       const std::vector<std::string>& process_names, const std::string& about) {
  std::string o = "{\"displayTimeUnit\": \"ms\",\n\"otherData\": {" + about + "},\n\"traceEvents\": [\n";
  bool first = true;
  for (size_t r = 0; r < rank_events.size(); ++r) {
    if (!first) o += ",\n";
    first = false;
    o += "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " + std::to_string(r) +
         ", \"args\": {\"name\": " + json_quote(process_names[r]) + "}},\n";
    o += "{\"name\": \"process_sort_index\", \"ph\": \"M\", \"pid\": " + std::to_string(r) +
         ", \"args\": {\"sort_index\": " + std::to_string(r) + "}}";
    // Shift each "ts": onto rank 0's clock.
    const double shift_us = -offsets[r].offset_ms * 1e3;
    const std::string& e = rank_events[r];
    if (e.empty()) continue;
    o += ",\n";
    size_t at = 0;
    for (;;) {
      const size_t ts = e.find("\"ts\": ", at);
      if (ts == std::string::npos) {
        o.append(e, at, std::string::npos);
        break;
      }
      const size_t begin = ts + 6, end = e.find_first_of(",}", begin);
      o.append(e, at, begin - at);
      char text[40];
      std::snprintf(text, sizeof text, "%.3f", std::stod(e.substr(begin, end - begin)) + shift_us);
      o += text;
      at = end;
    }
  }
  return o + "\n]}\n";
}

void write_trace(const std::string& path, const std::string& json) {
  if (path.size() < 3 || path.compare(path.size() - 3, 3, ".gz") != 0) {
    write_trace_file(path, json);
    return;
  }
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("cannot start gzip for " + path);
  std::string out(deflateBound(&z, json.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(json.data()));
  z.avail_in = static_cast<uInt>(json.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip of " + path + " did not finish");
  write_trace_file(path, out);
}

void gather_and_write_trace(const Session& s, const StepTrace& trace, const std::string& path,
                            const std::string& about) {
  const ClockOffset offset = measure_clock_offset(s);
  std::ostringstream place;
  place << "rank " << s.grid.rank << " (replica " << s.grid.replica << ", tower"
        << (s.net->local_towers().size() > 1 ? "s " : " ");
  for (size_t i = 0; i < s.net->local_towers().size(); ++i)
    place << (i ? "," : "") << s.net->local_towers()[i];
  place << ")";
  const std::vector<std::string> events = s.world->all_gather_host(trace.events());
  const std::vector<std::string> places = s.world->all_gather_host(place.str());
  const std::vector<std::string> offsets = s.world->all_gather_host(std::to_string(offset.offset_ms) + " " +
                                                                    std::to_string(offset.uncertainty_ms));
  if (!s.leader()) return;
  std::vector<ClockOffset> all;
  std::string listed;
  for (size_t r = 0; r < offsets.size(); ++r) {
    std::istringstream in(offsets[r]);
    ClockOffset c;
    in >> c.offset_ms >> c.uncertainty_ms;
    all.push_back(c);
    char text[96];
    std::snprintf(text, sizeof text, "%s{\"rank\": %zu, \"offset_ms\": %.4f, \"uncertainty_ms\": %.4f}",
                  r ? ", " : "", r, c.offset_ms, c.uncertainty_ms);
    listed += text;
  }
  write_trace(path, trace_json(events, all, places,
                               about + ", \"clock_alignment\": " + json_quote(offset.how) +
                                   ", \"clock_offsets\": [" + listed + "]"));
}

}  // namespace alexnet
