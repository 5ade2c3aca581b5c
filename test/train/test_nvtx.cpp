// NVTX ranges (core/nvtx.h) through a test hook: a training step under --nvtx opens one range per
// row of `alexnet time`'s table, per phase, named after the row, every one closed on the thread
// that opened it, innermost first; with NVTX off, none opens.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "core/nvtx.h"
#include "net/net_testing.h"
#include "train/gradient_averager.h"
#include "train/timing_report.h"

namespace alexnet {
namespace {

// Every push and pop, per thread.
struct Recorder {
  std::mutex mutex;
  std::map<std::thread::id, std::vector<std::pair<bool, std::string>>> events;
  void operator()(bool push, const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex);
    events[std::this_thread::get_id()].emplace_back(push, name);
  }
};

// (node, tower) of each row of the timing table, read from its CSV as a user would.
std::vector<std::pair<std::string, int>> timing_rows(const Plan& plan, int batch) {
  std::istringstream csv(TimingReport(plan, batch).csv());
  std::vector<std::pair<std::string, int>> rows;
  std::string line;
  std::getline(csv, line);  // the header
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    if (f.size() < 3 || f[2].empty()) continue;  // sum_of_rows, full_step
    rows.emplace_back(f[0], std::stoi(f[2]));
  }
  return rows;
}

// One training step (forward, backward with the bucketed gradient all-reduce) of a split net.
void train_one_step(testing::PlacedNet& p, Communicator& replica) {
  GradientAverager averager(*p.net, replica, /*replicas=*/2, /*bucket_bytes=*/4096);
  const testing::TestBatch b = testing::mini_batch(4, 3);
  const StepContext ctx{.training = true, .seed = 1, .step = 0};
  p.net->forward(b.images.view(), b.labels.data(), ctx);
  p.net->backward(ctx, [&](size_t node) { averager.node_done(node); });
  averager.finish();
  EXPECT_GT(averager.buckets(), 2);  // several buckets, each a range
}

TEST(Nvtx, ATrainingStepOpensTheTimingTablesRowsBalanced) {
  testing::PlacedNet p = testing::place({.placement = Placement::kSplit, .towers = 2});
  // A group of one stands in for the replicas: the all-reduce changes nothing, its ranges open.
  std::unique_ptr<Communicator> replica = make_local_communicator({Device::cpu()});
  Recorder recorder;
  set_nvtx_hook([&](bool push, const std::string& name) { recorder(push, name); });
  set_nvtx(true);
  train_one_step(p, *replica);
  set_nvtx(false);
  set_nvtx_hook({});

  std::multiset<std::string> opened;
  for (const auto& [thread, events] : recorder.events) {
    std::vector<std::string> stack;
    for (const auto& [push, name] : events) {
      if (push) {
        stack.push_back(name);
        opened.insert(name);
      } else {
        ASSERT_FALSE(stack.empty()) << "a pop of " << name << " without its push";
        EXPECT_EQ(stack.back(), name) << "ranges closed out of order";
        stack.pop_back();
      }
    }
    EXPECT_TRUE(stack.empty()) << stack.size() << " range(s) left open, the last " << stack.back();
  }

  std::set<std::string> expected;
  const auto rows = timing_rows(p.net->plan(), p.net->batch());
  ASSERT_FALSE(rows.empty());
  for (const auto& [node, tower] : rows) {
    for (const char* phase : {"forward", "backward"}) {
      const std::string name = node + " " + phase + " tower " + std::to_string(tower);
      expected.insert(name);
      EXPECT_EQ(opened.count(name), 1u) << name;
    }
  }
  for (int t = 0; t < 2; ++t) {
    const std::string name = std::string(kAllReduceRow) + " tower " + std::to_string(t);
    expected.insert(name);
    EXPECT_GE(opened.count(name), 2u) << name << ": one range per bucket";
  }
  for (const std::string& name : opened) EXPECT_TRUE(expected.count(name)) << "unexpected range " << name;
}

TEST(Nvtx, OffByDefaultNothingOpens) {
  ASSERT_FALSE(nvtx_on());
  testing::PlacedNet p = testing::place({.placement = Placement::kSplit, .towers = 2});
  std::unique_ptr<Communicator> replica = make_local_communicator({Device::cpu()});
  Recorder recorder;
  set_nvtx_hook([&](bool push, const std::string& name) { recorder(push, name); });
  train_one_step(p, *replica);
  set_nvtx_hook({});
  EXPECT_TRUE(recorder.events.empty());
}

}  // namespace
}  // namespace alexnet
