// The timing report: means over profiled steps, each exchange counted once in the sum, and CSV and
// JSON that a reader can parse whatever the names hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "data_testing.h"
#include "testing.h"
#include "train/timing_report.h"

namespace alexnet {
namespace {

Plan mini_split() {
  PlanOptions o;
  o.placement = Placement::kSplit;
  return make_plan(load_network_file(testing::experiment_file("alexnet-mini")), o);
}

// Every active (node, tower) takes `forward` and `backward` ms.
std::vector<NodeTiming> uniform_step(const Plan& plan, double forward, double backward) {
  std::vector<NodeTiming> step(plan.nodes.size(), NodeTiming{std::vector<double>(plan.towers, 0.0),
                                                             std::vector<double>(plan.towers, 0.0)});
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    for (int t = 0; t < plan.towers; ++t)
      if (plan.nodes[i].tower[t].active) {
        step[i].forward_ms[t] = forward;
        step[i].backward_ms[t] = backward;
      }
  return step;
}

// The same, on tower `tower` alone: what a rank holding only that tower records.
std::vector<NodeTiming> tower_step(const Plan& plan, int tower, double forward, double backward) {
  std::vector<NodeTiming> step = uniform_step(plan, forward, backward);
  for (NodeTiming& n : step)
    for (int t = 0; t < plan.towers; ++t)
      if (t != tower) n.forward_ms[t] = n.backward_ms[t] = 0;
  return step;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(TimingReport, SumsAreMeansWithEachExchangeOnce) {
  const Plan plan = mini_split();
  int layer_rows = 0, exchanges = 0, rows = 0;
  for (const PlanNode& node : plan.nodes) {
    int active = node.tower[0].active + node.tower[1].active;
    rows += active;
    if (node.kind == PlanNode::Kind::kExchange) {
      ++exchanges;
      EXPECT_EQ(active, 2) << node.name;
    } else {
      layer_rows += active;
    }
  }
  ASSERT_GT(exchanges, 0);
  TimingReport report(plan, 16);
  report.add(uniform_step(plan, 1, 2));
  report.add(uniform_step(plan, 3, 4));  // means: 2 forward, 3 backward
  report.set_full_step(42.5, 7);
  EXPECT_EQ(report.profiled_steps(), 2);
  EXPECT_DOUBLE_EQ(report.sum_ms(), 5.0 * (layer_rows + exchanges));

  const std::string table = report.table("title");
  char expect[160];
  std::snprintf(
      expect, sizeof expect, "sum of rows (each exchange once): %.3f ms forward + %.3f ms backward = %.3f ms",
      2.0 * (layer_rows + exchanges), 3.0 * (layer_rows + exchanges), 5.0 * (layer_rows + exchanges));
  EXPECT_NE(table.find(expect), std::string::npos) << table;
  EXPECT_NE(table.find("42.500 ms (mean of 7)"), std::string::npos) << table;

  std::vector<std::string> csv = lines(report.csv());
  ASSERT_EQ(static_cast<int>(csv.size()), 1 + rows + 2);
  EXPECT_EQ(csv[0], "node,type,tower,forward_ms,backward_ms,bytes_per_step");
  EXPECT_EQ(csv[1], plan.nodes[0].name + ",conv,0,2,3,0");
  std::ostringstream sum;
  sum << "sum_of_rows,,," << 5.0 * (layer_rows + exchanges) << ",,";
  EXPECT_EQ(csv[rows + 1], sum.str());
  EXPECT_EQ(csv[rows + 2], "full_step,,,42.5,,");
  // Each exchange row carries the bytes a tower receives, on both towers.
  int exchange_rows = 0;
  for (const std::string& line : csv) {
    if (line.rfind("exchange.", 0) != 0) continue;
    ++exchange_rows;
    EXPECT_NE(line.substr(line.rfind(',')), ",0") << line;
  }
  EXPECT_EQ(exchange_rows, 2 * exchanges);
}

TEST(TimingReport, TheInputCopyIsALineOfItsOwnOutsideTheSum) {
  const Plan plan = mini_split();
  TimingReport report(plan, 16);
  report.add(uniform_step(plan, 1, 2));
  const double sum = report.sum_ms();
  EXPECT_EQ(report.table("t").find("input copy"), std::string::npos) << "no copy timed, no line";
  report.add(uniform_step(plan, 1, 2));
  report.add_input_copy(0.5);
  report.add_input_copy(1.5);
  EXPECT_DOUBLE_EQ(report.sum_ms(), sum);
  const std::string table = report.table("t");
  EXPECT_NE(table.find("input copy from the host, timed alone and left out of the sum: 1.000 ms (mean of 2;"),
            std::string::npos)
      << table;
  const std::vector<std::string> csv = lines(report.csv());
  EXPECT_NE(std::find(csv.begin(), csv.end(), "input_copy,,,1,,"), csv.end()) << report.csv();
  EXPECT_NE(report.json("t").find("\"input_copy_ms\": 1,"), std::string::npos) << report.json("t");
}

TEST(TimingReport, CsvAndJsonQuoteOddNames) {
  Plan plan = mini_split();
  plan.nodes[0].name = "conv1 \"a\",b";
  TimingReport report(plan, 8);
  report.add(uniform_step(plan, 1, 1));
  const std::string json = report.json("time of \"mini\"\\x");
  EXPECT_NE(json.find("\"title\": \"time of \\\"mini\\\"\\\\x\""), std::string::npos) << json;
  EXPECT_NE(json.find("{\"node\": \"conv1 \\\"a\\\",b\", \"type\": \"conv\""), std::string::npos) << json;
  EXPECT_EQ(lines(report.csv())[1], "\"conv1 \"\"a\"\",b\",conv,0,1,1,0");
}

TEST(TimingReport, WritesThreeFilesAtomically) {
  const Plan plan = mini_split();
  TimingReport report(plan, 8);
  report.add(uniform_step(plan, 1, 1));
  testing::TempDir dir;
  report.write(dir.file("run"), "t");
  for (const char* name : {"timing.txt", "timing.csv", "timing.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.file(std::string("run/") + name))) << name;
    EXPECT_FALSE(std::filesystem::exists(dir.file(std::string("run/") + name + ".partial"))) << name;
  }
}

// Four ranks, 2 replicas x 2 towers (rank = replica * 2 + tower), each timing only its tower: rank
// 0 merges their parts into one report.
TEST(TimingReport, MergesRanksWithMediansAcrossReplicas) {
  const Plan plan = mini_split();
  std::vector<std::string> parts;
  for (int r = 0; r < 4; ++r) {
    TimingReport mine(plan, 8);
    mine.add(tower_step(plan, r % 2, 1 + r, 10 + r));
    mine.add(tower_step(plan, r % 2, 1 + r, 10 + r));
    for (double ms : {1.0 + r, 2.0 + r, 100.0}) mine.add_all_reduce(r % 2, 4000 + r % 2, ms);  // median 2 + r
    mine.set_rank_steps({5.0 + r, 6.0 + r, 70.0}, {4.0 + r, 4.0 + r, 4.0 + r});  // medians 6 + r, 4 + r
    parts.push_back(mine.encode({r % 2}));
  }
  const TimingReport m = TimingReport::merge(plan, 8, 2, parts);
  // The slowest rank (3) sets the step: 9 ms with the all-reduce, 7 ms without.
  EXPECT_DOUBLE_EQ(m.full_step_ms(), 9.0);
  EXPECT_DOUBLE_EQ(m.step_without_all_reduce_ms(), 7.0);
  EXPECT_DOUBLE_EQ(m.scaling_efficiency(), 7.0 / 9.0);

  std::vector<std::string> csv = lines(m.csv());
  int tower_rows[2] = {0, 0};
  for (const std::string& line : csv) {
    std::istringstream in(line);
    std::string node, type, tower, forward, backward;
    std::getline(in, node, ',');
    std::getline(in, type, ',');
    std::getline(in, tower, ',');
    std::getline(in, forward, ',');
    std::getline(in, backward, ',');
    if (type.empty() || type == "type") continue;
    const int t = std::stoi(tower);
    if (type == "all-reduce") {
      // Tower 0: ranks 0 and 2, medians 2 and 4; tower 1: ranks 1 and 3, medians 3 and 5.
      EXPECT_EQ(line, "grad all-reduce,all-reduce," + tower + ",," + std::to_string(3 + t) + "," +
                          std::to_string(4000 + t));
      continue;
    }
    ++tower_rows[t];
    // Tower 0: ranks 0 and 2 (forward 1 and 3); tower 1: ranks 1 and 3 (forward 2 and 4).
    EXPECT_EQ(std::stod(forward), 2.0 + t) << line;
    EXPECT_EQ(std::stod(backward), 11.0 + t) << line;
  }
  EXPECT_GT(tower_rows[0], 0);
  EXPECT_GT(tower_rows[1], 0);
  std::ostringstream rank0;  // its tower's rows (forward 1, backward 10) and its all-reduce (2)
  rank0 << "sum_of_rows_rank_0,,," << 11.0 * tower_rows[0] + 2 << ",,";
  EXPECT_NE(std::find(csv.begin(), csv.end(), rank0.str()), csv.end()) << m.csv();
  EXPECT_NE(std::find(csv.begin(), csv.end(), "full_step,,,9,,"), csv.end()) << m.csv();
  EXPECT_NE(std::find(csv.begin(), csv.end(), "full_step_without_all_reduce,,,7,,"), csv.end()) << m.csv();

  const std::string table = m.table("title");
  EXPECT_NE(table.find("scaling efficiency 0.778 = step without the gradient all-reduce 7.000 ms / step with "
                       "it 9.000 ms"),
            std::string::npos)
      << table;
  // 2 replicas x 8 = 16 images in 9 ms.
  EXPECT_NE(
      table.find("9.000 ms (the slowest of 4 ranks' medians of 3), 1778 images/s for the global batch of "
                 "16 (2 replicas x 8)"),
      std::string::npos)
      << table;
  const std::string json = m.json("title");
  EXPECT_NE(json.find("\"scaling_efficiency\": 0.777778"), std::string::npos) << json;
}

// One replica of two towers: no gradient all-reduce, so neither its rows nor an efficiency.
TEST(TimingReport, MergedOneReplicaHasNoAllReduce) {
  const Plan plan = mini_split();
  std::vector<std::string> parts;
  for (int r = 0; r < 2; ++r) {
    TimingReport mine(plan, 8);
    mine.add(tower_step(plan, r, 1, 1));
    mine.set_rank_steps({3.0 + r}, {});
    parts.push_back(mine.encode({r}));
  }
  const TimingReport m = TimingReport::merge(plan, 8, 1, parts);
  const std::string table = m.table("title");
  EXPECT_EQ(table.find("grad all-reduce"), std::string::npos) << table;
  EXPECT_EQ(table.find("efficiency"), std::string::npos) << table;
  EXPECT_NE(
      table.find("4.000 ms (the slowest of 2 ranks' medians of 1), 2000 images/s for the global batch of "
                 "8 (1 replica x 8)"),
      std::string::npos)
      << table;
}

}  // namespace
}  // namespace alexnet
