#include "train/timing_report.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"
#include "core/text_format.h"

namespace alexnet {

namespace {
// RFC 4180: a field with a comma, quote or line break goes in quotes, its quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string fixed_ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", ms);
  return text;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

TimingReport::TimingReport(const Plan& plan, int batch) : batch_(batch) {
  for (const PlanNode& node : plan.nodes) {
    std::vector<int> at(plan.towers, -1);
    for (int t = 0; t < plan.towers; ++t) {
      if (!node.tower[t].active) continue;
      at[t] = static_cast<int>(rows_.size());
      bool exchange = node.kind == PlanNode::Kind::kExchange;
      // Each tower receives its share of what the exchange moves.
      int64_t bytes = exchange ? node.exchange_bytes_per_item * batch / plan.towers : 0;
      rows_.push_back({node.name, exchange ? "exchange" : layer_kind_name(node.layer_kind), t, 0, 0, bytes});
    }
    row_of_.push_back(at);
  }
}

void TimingReport::add(const std::vector<NodeTiming>& step) {
  for (size_t i = 0; i < step.size() && i < row_of_.size(); ++i) {
    CHECK_EQ(step[i].forward_ms.size(), row_of_[i].size()) << "timings for another plan's towers";
    for (size_t t = 0; t < row_of_[i].size(); ++t) {
      int r = row_of_[i][t];
      if (r < 0) continue;
      rows_[r].forward_ms += step[i].forward_ms[t];
      rows_[r].backward_ms += step[i].backward_ms[t];
    }
  }
  ++steps_;
}

double TimingReport::sum_ms() const {
  double s = 0;
  for (const Row& r : rows_)
    if (r.type != "exchange" || r.tower == 0) s += r.forward_ms + r.backward_ms;  // one collective, two views
  return steps_ ? s / steps_ : 0;
}

std::string TimingReport::table(const std::string& title) const {
  std::ostringstream o;
  char line[256];
  const double n = std::max(steps_, 1);
  o << title << "\n";
  std::snprintf(line, sizeof line, "%-16s %-13s %5s %12s %12s %14s\n", "node", "type", "tower", "forward ms",
                "backward ms", "bytes/step");
  o << line;
  double forward = 0, backward = 0;
  for (const Row& r : rows_) {
    std::snprintf(line, sizeof line, "%-16s %-13s %5d %12.3f %12.3f %14s\n", r.node.c_str(), r.type.c_str(),
                  r.tower, r.forward_ms / n, r.backward_ms / n,
                  r.bytes ? std::to_string(r.bytes).c_str() : "");
    o << line;
    if (r.type == "exchange" && r.tower > 0) continue;  // one collective, seen from both towers
    forward += r.forward_ms / n;
    backward += r.backward_ms / n;
  }
  if (world_ > 1) return o.str() + many_table();
  std::snprintf(line, sizeof line,
                "sum of rows (each exchange once): %.3f ms forward + %.3f ms backward = %.3f ms (mean of %d "
                "profiled steps)\n",
                forward, backward, forward + backward, steps_);
  o << line;
  if (input_copies_) {
    std::snprintf(line, sizeof line,
                  "input copy from the host, timed alone and left out of the sum: %.3f ms (mean of %d; on a "
                  "GPU the full step runs it beside the previous step's backward)\n",
                  input_copy_ms_ / input_copies_, input_copies_);
    o << line;
  }
  if (full_steps_) {
    std::snprintf(
        line, sizeof line,
        "full step, measured separately without per-layer timers, SGD update included: %.3f ms (mean of %d)"
        ", %.0f images/s\n",
        full_step_ms_, full_steps_, batch_ / (full_step_ms_ / 1000.0));
    o << line;
  }
  return o.str();
}

std::string TimingReport::csv() const {
  std::ostringstream o;
  const double n = std::max(steps_, 1);
  o << "node,type,tower,forward_ms,backward_ms,bytes_per_step\n";
  for (const Row& r : rows_) {
    o << csv_field(r.node) << "," << r.type << "," << r.tower << "," << r.forward_ms / n << ","
      << r.backward_ms / n << "," << r.bytes << "\n";
  }
  if (world_ > 1) return o.str() + many_csv();
  o << "sum_of_rows,,," << sum_ms() << ",,\n";
  if (input_copies_) o << "input_copy,,," << input_copy_ms_ / input_copies_ << ",,\n";
  o << "full_step,,," << full_step_ms_ << ",,\n";
  return o.str();
}

std::string TimingReport::json(const std::string& title) const {
  std::ostringstream o;
  const double n = std::max(steps_, 1);
  o << "{\n  \"title\": " << json_quote(title) << ",\n  \"batch\": " << batch_
    << ",\n  \"profiled_steps\": " << steps_ << ",\n  \"sum_of_rows_ms\": " << sum_ms()
    << ",\n  \"input_copy_ms\": " << (input_copies_ ? input_copy_ms_ / input_copies_ : 0.0)
    << ",\n  \"full_step_ms\": " << full_step_ms_ << ",\n  \"full_steps\": " << full_steps_
    << ",\n  \"rows\": [\n";
  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& r = rows_[i];
    o << "    {\"node\": " << json_quote(r.node) << ", \"type\": " << json_quote(r.type)
      << ", \"tower\": " << r.tower << ", \"forward_ms\": " << r.forward_ms / n
      << ", \"backward_ms\": " << r.backward_ms / n << ", \"bytes_per_step\": " << r.bytes << "}"
      << (i + 1 < rows_.size() ? "," : "") << "\n";
  }
  o << "  ]" << (world_ > 1 ? many_json() : "") << "\n}\n";
  return o.str();
}

void TimingReport::write(const std::string& dir, const std::string& title) const {
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/timing.txt", table(title));
  write_file_atomically(dir + "/timing.csv", csv());
  write_file_atomically(dir + "/timing.json", json(title));
}

// --- many processes ----------------------------------------------------------------------------

void TimingReport::add_all_reduce(int tower, int64_t bytes, double ms) {
  for (AllReduceRow& r : all_reduce_) {
    if (r.tower != tower) continue;
    r.ms.push_back(ms);
    return;
  }
  all_reduce_.push_back({tower, bytes, {ms}});
}

void TimingReport::set_rank_steps(const std::vector<double>& with_ms, const std::vector<double>& without_ms) {
  with_ms_ = with_ms;
  without_samples_ms_ = without_ms;
}

// One line of whitespace-separated fields; every rank runs the same binary, so the layout is
// fixed and a mismatch is our own bug (CHECK).
std::string TimingReport::encode(const std::vector<int>& towers) const {
  std::ostringstream o;
  o.precision(std::numeric_limits<double>::max_digits10);
  const double n = std::max(steps_, 1);
  o << "towers " << towers.size();
  for (int t : towers) o << " " << t;
  o << " steps " << steps_ << " rows " << rows_.size();
  for (const Row& r : rows_) o << " " << r.forward_ms / n << " " << r.backward_ms / n;
  o << " all_reduce " << all_reduce_.size();
  for (const AllReduceRow& r : all_reduce_) o << " " << r.tower << " " << r.bytes << " " << median(r.ms);
  o << " full " << with_ms_.size() << " " << median(with_ms_) << " " << median(without_samples_ms_);
  return o.str();
}

namespace {
struct Part {
  std::vector<int> towers;
  int steps = 0, full_steps = 0;
  std::vector<double> forward_ms, backward_ms;  // means, per row
  struct AllReduce {
    int tower;
    int64_t bytes;
    double ms;
  };
  std::vector<AllReduce> all_reduce;
  double with_ms = 0, without_ms = 0;
  bool holds(int t) const { return std::find(towers.begin(), towers.end(), t) != towers.end(); }
};

void expect(std::istream& in, const char* word) {
  std::string w;
  in >> w;
  CHECK_EQ(w, word) << "a rank's timing part is garbled";
}

Part decode(const std::string& text, size_t rows) {
  std::istringstream in(text);
  Part p;
  size_t n = 0;
  expect(in, "towers");
  in >> n;
  p.towers.resize(n);
  for (int& t : p.towers) in >> t;
  expect(in, "steps");
  in >> p.steps;
  expect(in, "rows");
  in >> n;
  CHECK_EQ(n, rows) << "a rank's timing part is for another plan";
  p.forward_ms.resize(n);
  p.backward_ms.resize(n);
  for (size_t i = 0; i < n; ++i) in >> p.forward_ms[i] >> p.backward_ms[i];
  expect(in, "all_reduce");
  in >> n;
  p.all_reduce.resize(n);
  for (Part::AllReduce& a : p.all_reduce) in >> a.tower >> a.bytes >> a.ms;
  expect(in, "full");
  in >> p.full_steps >> p.with_ms >> p.without_ms;
  CHECK(!in.fail()) << "a rank's timing part is garbled: " << text;
  return p;
}
}  // namespace

TimingReport TimingReport::merge(const Plan& plan, int batch, int replicas,
                                 const std::vector<std::string>& texts) {
  TimingReport m(plan, batch);
  std::vector<Part> parts;
  for (const std::string& text : texts) parts.push_back(decode(text, m.rows_.size()));
  CHECK(!parts.empty());
  m.world_ = static_cast<int>(parts.size());
  m.replicas_ = replicas;
  m.steps_ = parts[0].steps;
  m.full_steps_ = parts[0].full_steps;
  // Rows hold sums over the steps until divided: store each median mean times the steps.
  for (size_t i = 0; i < m.rows_.size(); ++i) {
    Row& row = m.rows_[i];
    std::vector<double> forward, backward;
    for (const Part& p : parts) {
      if (!p.holds(row.tower)) continue;
      forward.push_back(p.forward_ms[i]);
      backward.push_back(p.backward_ms[i]);
    }
    row.forward_ms = median(forward) * m.steps_;
    row.backward_ms = median(backward) * m.steps_;
  }
  for (int t = 0; t < plan.towers; ++t) {
    std::vector<double> ms;
    int64_t bytes = 0;
    for (const Part& p : parts)
      for (const Part::AllReduce& a : p.all_reduce)
        if (a.tower == t) {
          ms.push_back(a.ms);
          bytes = a.bytes;
        }
    if (!ms.empty()) m.all_reduce_.push_back({t, bytes, {median(ms)}});
  }
  for (const Part& p : parts) {
    double sum = 0;
    for (size_t i = 0; i < m.rows_.size(); ++i)
      if (p.holds(m.rows_[i].tower)) sum += p.forward_ms[i] + p.backward_ms[i];
    for (const Part::AllReduce& a : p.all_reduce) sum += a.ms;
    m.rank_sum_ms_.push_back(sum);
    m.rank_step_ms_.push_back(p.with_ms);
    // The slowest rank sets the pace: every step ends in collectives that wait for it.
    m.full_step_ms_ = std::max(m.full_step_ms_, p.with_ms);
    m.without_ms_ = std::max(m.without_ms_, p.without_ms);
  }
  return m;
}

std::string TimingReport::many_table() const {
  std::ostringstream o;
  char line[512];
  for (const AllReduceRow& r : all_reduce_) {
    std::snprintf(line, sizeof line, "%-16s %-13s %5d %12s %12.3f %14lld\n", kAllReduceRow, "all-reduce",
                  r.tower, "", r.ms[0], static_cast<long long>(r.bytes));
    o << line;
  }
  if (replicas_ > 1) {
    std::snprintf(line, sizeof line,
                  "layer rows: median across the %d replicas of the ranks holding each tower, each the mean "
                  "of %d profiled steps; all-reduce rows (ms in the backward column): each tower's gradients "
                  "summed over its replicas and scaled by 1/%d, median across those ranks of each one's "
                  "median over its profiled "
                  "steps\n",
                  replicas_, steps_, replicas_);
  } else {
    std::snprintf(line, sizeof line,
                  "layer rows: from the rank holding each tower, the mean of %d profiled steps\n", steps_);
  }
  o << line << "sum of each rank's own rows (its towers' layers, its side of each exchange"
    << (replicas_ > 1 ? ", its all-reduce):" : "):");
  for (size_t r = 0; r < rank_sum_ms_.size(); ++r)
    o << (r ? ", " : " ") << "rank " << r << " " << fixed_ms(rank_sum_ms_[r]);
  o << "\n";
  const int global_batch = this->global_batch();
  std::snprintf(
      line, sizeof line,
      "full step, measured separately without per-layer timers, SGD update included: %.3f ms (the "
      "slowest of %d ranks' medians of %d), %.0f images/s for the global batch of %d (%d %s x %d)\n",
      full_step_ms_, world_, full_steps_, global_batch / (full_step_ms_ / 1000.0), global_batch, replicas_,
      replicas_ == 1 ? "replica" : "replicas", batch_);
  o << line;
  if (replicas_ > 1) {
    std::snprintf(
        line, sizeof line,
        "scaling efficiency %.3f = step without the gradient all-reduce %.3f ms / step with it %.3f "
        "ms (the step without is one replica's alone, every replica's compute being the same; "
        "timed in alternation with the step with it, the slowest rank's medians)\n",
        scaling_efficiency(), without_ms_, full_step_ms_);
    o << line;
  }
  return o.str();
}

std::string TimingReport::many_csv() const {
  std::ostringstream o;
  for (const AllReduceRow& r : all_reduce_)
    o << kAllReduceRow << ",all-reduce," << r.tower << ",," << r.ms[0] << "," << r.bytes << "\n";
  for (size_t r = 0; r < rank_sum_ms_.size(); ++r)
    o << "sum_of_rows_rank_" << r << ",,," << rank_sum_ms_[r] << ",,\n";
  o << "full_step,,," << full_step_ms_ << ",,\n";
  o << "images_per_second,,," << global_batch() / (full_step_ms_ / 1000.0) << ",,\n";
  if (replicas_ > 1) {
    o << "full_step_without_all_reduce,,," << without_ms_ << ",,\n";
    o << "scaling_efficiency,,," << scaling_efficiency() << ",,\n";
  }
  return o.str();
}

std::string TimingReport::many_json() const {
  std::ostringstream o;
  o << ",\n  \"all_reduce\": [";
  for (size_t i = 0; i < all_reduce_.size(); ++i) {
    const AllReduceRow& r = all_reduce_[i];
    o << (i ? ", " : "") << "{\"tower\": " << r.tower << ", \"ms\": " << r.ms[0]
      << ", \"bytes_per_step\": " << r.bytes << "}";
  }
  o << "],\n  \"processes\": {\"world\": " << world_ << ", \"replicas\": " << replicas_
    << ", \"global_batch\": " << global_batch() << ", \"full_step\": \"the slowest rank's median\""
    << ", \"images_per_second\": " << global_batch() / (full_step_ms_ / 1000.0);
  if (replicas_ > 1)
    o << ", \"full_step_without_all_reduce_ms\": " << without_ms_
      << ", \"scaling_efficiency\": " << scaling_efficiency();
  o << ", \"ranks\": [";
  for (size_t r = 0; r < rank_sum_ms_.size(); ++r)
    o << (r ? ", " : "") << "{\"rank\": " << r << ", \"sum_of_rows_ms\": " << rank_sum_ms_[r]
      << ", \"full_step_ms\": " << rank_step_ms_[r] << "}";
  o << "]}";
  return o.str();
}

}  // namespace alexnet
