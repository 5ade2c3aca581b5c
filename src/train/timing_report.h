// Per-layer timing in the style of `caffe time`: for each node and tower, the mean forward and
// backward milliseconds over the profiled steps, each exchange's bytes, the sum of all rows, and
// beside it a full step measured separately without per-layer synchronisation, so that what
// the timers themselves cost is visible rather than hidden.
//
// Under many processes each rank times the towers it holds and its own gradient all-reduce, and
// sends its part (encode()) to rank 0, which merges every rank's parts into one report (merge()):
// the layer rows of each tower, the all-reduce rows, the step, images/s for the global batch and
// the scaling efficiency.
#pragma once

#include <string>
#include <vector>

#include "net/net.h"

namespace alexnet {

// The node column of the gradient all-reduce's rows (and its NVTX ranges' names, core/nvtx.h).
inline constexpr const char* kAllReduceRow = "grad all-reduce";

class TimingReport {
 public:
  TimingReport(const Plan& plan, int batch);
  void add(const std::vector<NodeTiming>& step);  // one profiled step
  // One profiled step's copy of the batch from the host (Net::input_copy_ms): a line of its own,
  // outside the sum of rows, since on a GPU a full step runs it beside the previous step's backward.
  void add_input_copy(double ms) {
    input_copy_ms_ += ms;
    ++input_copies_;
  }
  void set_full_step(double mean_ms, int steps) {
    full_step_ms_ = mean_ms;
    full_steps_ = steps;
  }
  int profiled_steps() const { return steps_; }
  double sum_ms() const;  // forward + backward over every row

  // --- many processes: one rank's part ---
  // One profiled step's gradient all-reduce over the replica group of `tower`'s flat gradients
  // (`bytes`), with the scaling by 1/replicas, which took `ms`.
  void add_all_reduce(int tower, int64_t bytes, double ms);
  // This rank's unprofiled steps, each in ms: with the gradient all-reduce, and without it (empty
  // with one replica).
  void set_rank_steps(const std::vector<double>& with_ms, const std::vector<double>& without_ms);
  // This rank's part, holding `towers`, as text for rank 0.
  std::string encode(const std::vector<int>& towers) const;
  // Rank 0: one report from every rank's encode(), in rank order. A row of tower t is the median
  // across the replicas of the ranks holding t; so is an all-reduce row, each rank's being the
  // median over its profiled steps. The full step is the slowest rank's median.
  static TimingReport merge(const Plan& plan, int batch, int replicas, const std::vector<std::string>& parts);
  double full_step_ms() const { return full_step_ms_; }
  // The parts the global batch is cut into when they are not the replicas (hybrid's workers).
  void set_shards(int shards) { shards_ = shards; }
  int global_batch() const { return (shards_ ? shards_ : replicas_) * batch_; }
  double step_without_all_reduce_ms() const { return without_ms_; }
  double scaling_efficiency() const { return full_step_ms_ > 0 ? without_ms_ / full_step_ms_ : 0; }

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
  struct AllReduceRow {
    int tower;
    int64_t bytes;
    std::vector<double> ms;  // one per profiled step; after merge(), the one merged value
  };
  std::vector<Row> rows_;
  std::vector<std::vector<int>> row_of_;  // node, tower -> row (-1 when inactive)
  int steps_ = 0;
  double input_copy_ms_ = 0;  // summed over input_copies_ steps
  int input_copies_ = 0;
  double full_step_ms_ = 0;
  int full_steps_ = 0;
  int batch_;

  // Many processes (world_ > 1 only after merge()).
  std::vector<AllReduceRow> all_reduce_;
  std::vector<double> with_ms_, without_samples_ms_;  // this rank's unprofiled steps
  int world_ = 1, replicas_ = 1, shards_ = 0;
  double without_ms_ = 0;             // the slowest rank's median step without the all-reduce
  std::vector<double> rank_sum_ms_;   // each rank's own rows (means and medians), summed
  std::vector<double> rank_step_ms_;  // each rank's median step

  std::string many_table() const;
  std::string many_csv() const;
  std::string many_json() const;
};

}  // namespace alexnet
