// How long a checkpoint of a network takes, and how long training stalls for it: the copy of the
// logical tensors (weights and momentum) to the host, the write, and the read-back that verifies
// it, each the median of ROUNDS. Written in line, the stall would be their sum; the trainer copies
// at the step boundary and writes and verifies on a thread of its own beside the next steps, so
// its stall is the copy and what the write slows those steps by: measured here as training steps
// (batch BATCH, THREADS BLAS threads, random images) alone, and then while a write and its
// verification run beside them, as the trainer runs them.
//   checkpoint_bench NETWORK.toml FOLDER [ROUNDS [BATCH [THREADS]]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "core/blas.h"
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
    std::fprintf(stderr, "usage: checkpoint_bench NETWORK.toml FOLDER [ROUNDS [BATCH [THREADS]]]\n");
    return 2;
  }
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 3;
  const int batch = argc > 4 ? std::stoi(argv[4]) : 8;
  const int threads = argc > 5 ? std::stoi(argv[5]) : 1;
  blas::set_cpu_threads(threads);
  Plan plan = make_plan(load_network_file(argv[1]), {.placement = Placement::kSingle});
  Net net(std::move(plan), {Device::cpu()}, nullptr, batch);
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
  std::printf("  copy to host %.3f s, write %.3f s, verify %.3f s; written in line, a stall of %.3f s\n",
              median(copy), median(write), median(verify), median(copy) + median(write) + median(verify));

  // Training steps alone, then beside a write and its verification (from the last round's snapshot).
  const PlanNode& first = net.plan().nodes.front();
  const Shape item = first.tower[first.home].in;
  const Shape input = {batch, item[0], item[1], item[2]};
  std::vector<float> images(input.numel());
  std::mt19937 gen(1);
  std::normal_distribution<float> pixel(0.0f, 50.0f);
  for (float& x : images) x = pixel(gen);
  std::vector<int32_t> labels(batch);
  for (int32_t& l : labels) l = static_cast<int32_t>(gen() % net.plan().net.classes);
  int64_t k = 0;
  auto step = [&] {
    const auto t = std::chrono::steady_clock::now();
    const StepContext ctx{.training = true, .seed = 1, .step = static_cast<uint64_t>(k++)};
    net.forward(ConstView{images.data(), input, Device::cpu()}, labels.data(), ctx);
    net.backward(ctx);
    sgd.step();
    return seconds_since(t);
  };
  step();  // first touch of every buffer
  std::vector<double> alone;
  for (int r = 0; r < std::max(rounds, 3); ++r) alone.push_back(step());
  std::vector<double> stalls;
  int beside = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t = std::chrono::steady_clock::now();
    CheckpointTensors tensors = collect_checkpoint(net, &sgd);
    const double snapshot = seconds_since(t);
    std::future<void> writing = std::async(std::launch::async, [&] {
      save_checkpoint(path, net, tensors, TrainState{.step = 1});
      verify_checkpoint(path, net, true);
    });
    double stepped = 0;
    int n = 0;
    do {
      stepped += step();
      ++n;
    } while (writing.wait_for(std::chrono::seconds(0)) != std::future_status::ready);
    writing.get();
    beside += n;
    stalls.push_back(snapshot + std::max(0.0, stepped - n * median(alone)));
  }
  std::printf(
      "  training steps (batch %d, %d thread%s): %.3f s alone; with the write and its verification on "
      "a thread beside them (%d steps in %d rounds), a stall of %.3f s per checkpoint (the copy and "
      "the steps' slowdown)\n",
      batch, threads, threads == 1 ? "" : "s", median(alone), beside, rounds, median(stalls));
  std::filesystem::remove(path);
  return 0;
}
