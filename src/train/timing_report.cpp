#include "train/timing_report.h"

#include <glog/logging.h>

#include <cstdio>
#include <filesystem>
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
  std::snprintf(line, sizeof line,
                "sum of rows (each exchange once): %.3f ms forward + %.3f ms backward = %.3f ms (mean of %d "
                "profiled steps)\n",
                forward, backward, forward + backward, steps_);
  o << line;
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
  o << "sum_of_rows,,," << sum_ms() << ",,\n";
  o << "full_step,,," << full_step_ms_ << ",,\n";
  return o.str();
}

std::string TimingReport::json(const std::string& title) const {
  std::ostringstream o;
  const double n = std::max(steps_, 1);
  o << "{\n  \"title\": " << json_quote(title) << ",\n  \"batch\": " << batch_
    << ",\n  \"profiled_steps\": " << steps_ << ",\n  \"sum_of_rows_ms\": " << sum_ms()
    << ",\n  \"full_step_ms\": " << full_step_ms_ << ",\n  \"full_steps\": " << full_steps_
    << ",\n  \"rows\": [\n";
  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& r = rows_[i];
    o << "    {\"node\": " << json_quote(r.node) << ", \"type\": " << json_quote(r.type)
      << ", \"tower\": " << r.tower << ", \"forward_ms\": " << r.forward_ms / n
      << ", \"backward_ms\": " << r.backward_ms / n << ", \"bytes_per_step\": " << r.bytes << "}"
      << (i + 1 < rows_.size() ? "," : "") << "\n";
  }
  o << "  ]\n}\n";
  return o.str();
}

void TimingReport::write(const std::string& dir, const std::string& title) const {
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/timing.txt", table(title));
  write_file_atomically(dir + "/timing.csv", csv());
  write_file_atomically(dir + "/timing.json", json(title));
}

}  // namespace alexnet
