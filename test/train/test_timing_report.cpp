// The timing report: means over profiled steps, each exchange counted once in the sum, and CSV and
// JSON that a reader can parse whatever the names hold.
#include <gtest/gtest.h>

#include <sstream>

#include "data_testing.h"
#include "train/timing_report.h"

namespace alexnet {
namespace {

Plan mini_split() {
  PlanOptions o;
  o.placement = Placement::kSplit;
  return make_plan(load_network_file(std::string(ALEXNET_SOURCE_DIR) + "/experiments/alexnet-mini.toml"), o);
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

}  // namespace
}  // namespace alexnet
