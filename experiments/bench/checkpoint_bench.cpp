// How long a checkpoint of a network takes, and how long training stalls for it: the copy of the
// logical tensors (weights and momentum) to the host, the write, and the read-back that verifies
// it, each the median of --rounds. The trainer does all three at the step boundary today, so the
// stall is their sum.
//   checkpoint_bench NETWORK.toml FOLDER [ROUNDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "net/net.h"
#include "net/network_file.h"
#include "net/plan.h"
#include "train/checkpoint.h"
#include "train/sgd.h"

using namespace alexnet;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: checkpoint_bench NETWORK.toml FOLDER [ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 3;
  Plan plan = make_plan(load_network_file(argv[1]), {.placement = Placement::kSingle});
  Net net(std::move(plan), {Device::cpu()}, nullptr, 1);
  net.init_parameters(1);
  Sgd sgd(net, {});
  const std::string path = (std::filesystem::path(argv[2]) / "step-0000000001.h5").string();
  std::filesystem::create_directories(argv[2]);
  std::vector<double> copy, write, verify;
  uintmax_t bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t = std::chrono::steady_clock::now();
    const CheckpointTensors tensors = collect_checkpoint(net, &sgd);
    copy.push_back(seconds_since(t));
    t = std::chrono::steady_clock::now();
    save_checkpoint(path, net, tensors, TrainState{.step = 1});
    write.push_back(seconds_since(t));
    t = std::chrono::steady_clock::now();
    verify_checkpoint(path, net, true);
    verify.push_back(seconds_since(t));
    bytes = std::filesystem::file_size(path);
  }
  std::printf("%s: %lld parameters, checkpoint %.1f MB (weights and momentum); medians of %d rounds:\n",
              argv[1], static_cast<long long>(net.plan().parameter_count()), bytes / 1e6, rounds);
  std::printf("  copy to host %.3f s, write %.3f s, verify %.3f s; stall at the step boundary %.3f s\n",
              median(copy), median(write), median(verify), median(copy) + median(write) + median(verify));
  std::filesystem::remove(path);
  return 0;
}
