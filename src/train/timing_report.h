// Per-layer timing in the style of `caffe time`: for each node and tower, the mean forward and
// backward milliseconds over the profiled steps, each exchange's bytes, the sum of all rows, and
// beside it a full step measured separately without per-layer synchronisation, so that what
// the timers themselves cost is visible rather than hidden.
#pragma once

#include <string>
#include <vector>

#include "net/net.h"

namespace alexnet {

class TimingReport {
 public:
  TimingReport(const Plan& plan, int batch);
  void add(const std::vector<NodeTiming>& step);  // one profiled step
  void set_full_step(double mean_ms, int steps) {
    full_step_ms_ = mean_ms;
    full_steps_ = steps;
  }
  int profiled_steps() const { return steps_; }
  double sum_ms() const;  // forward + backward over every row

  std::string table(const std::string& title) const;
  std::string csv() const;
  std::string json(const std::string& title) const;
  // Writes timing.txt, timing.csv and timing.json into `dir`.
  void write(const std::string& dir, const std::string& title) const;

 private:
  struct Row {
    std::string node, type;
    int tower;
    double forward_ms = 0, backward_ms = 0;  // sums over steps until divided
    int64_t bytes = 0;                       // per step, forward (backward moves as many)
  };
  std::vector<Row> rows_;
  std::vector<std::vector<int>> row_of_;  // node, tower -> row (-1 when inactive)
  int steps_ = 0;
  double full_step_ms_ = 0;
  int full_steps_ = 0;
  int batch_;
};

}  // namespace alexnet
