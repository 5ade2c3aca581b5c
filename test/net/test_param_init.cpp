// The paper's initialisation is drawn in parallel, and any thread count gives the same bits: each
// weight's draw depends on (seed, layer, logical element) alone. Also prints how long the paper's
// 61 M parameters take, with one thread and with all.
#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "net/network_file.h"
#include "net/param_layout.h"
#include "net/plan.h"
#include "testing.h"

namespace alexnet {
namespace {

struct Initialised {
  std::vector<std::vector<float>> towers;
  double seconds = 0;
};

Initialised initialise_with(const ParamLayout& layout, int threads) {
  Initialised out;
  std::vector<View> flat;
  for (int t = 0; t < layout.towers(); ++t) out.towers.emplace_back(layout.flat_size(t), -1.0f);
  for (auto& v : out.towers) flat.push_back(View{v.data(), {static_cast<int64_t>(v.size())}, Device::cpu()});
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  const auto start = std::chrono::steady_clock::now();
  layout.initialise(2012, flat);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  omp_set_num_threads(before);
  return out;
}

TEST(ParamInit, ThePapersNetIsBitIdenticalWhateverTheThreadCount) {
  const Plan plan =
      make_plan(load_network_file(testing::experiment_file("alexnet")), {.placement = Placement::kSplit});
  const ParamLayout layout(plan);
  const int all = std::max(2, omp_get_num_procs());
  const Initialised one = initialise_with(layout, 1), many = initialise_with(layout, all);
  ASSERT_EQ(one.towers.size(), many.towers.size());
  int64_t floats = 0;
  for (size_t t = 0; t < one.towers.size(); ++t) {
    ASSERT_EQ(one.towers[t].size(), many.towers[t].size());
    EXPECT_EQ(std::memcmp(one.towers[t].data(), many.towers[t].data(), one.towers[t].size() * sizeof(float)),
              0)
        << "tower " << t;
    floats += static_cast<int64_t>(one.towers[t].size());
  }
  EXPECT_EQ(floats, 60965224);  // every parameter was drawn or set, once
  std::printf("paper net, %lld parameters: initialised in %.2f s on 1 thread, %.2f s on %d\n",
              static_cast<long long>(floats), one.seconds, many.seconds, all);
}

}  // namespace
}  // namespace alexnet
