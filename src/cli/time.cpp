// alexnet time --net NETWORK.toml --placement P --devices D --batch B --iterations N [--out DIR]
//
// Per-layer forward and backward time on each tower, each exchange's time and bytes, their sum,
// and a full training step (forward, backward, SGD) measured separately without per-layer timers.
// Images and labels are random: no dataset is needed; --classes and --input set their shape.
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/errors.h"
#include "train/session.h"
#include "train/sgd.h"
#include "train/timing_report.h"

namespace alexnet::cli {

int time(int argc, char** argv) {
  RunConfig c;
  TimeFlags f;
  po::options_description desc = time_options(c, f);
  po::variables_map vm = parse_options("time", argc, argv, desc);
  if (vm.count("help")) {
    print_help("alexnet time --net NETWORK.toml [--placement P] [--devices D] [--batch B] [--iterations N]\n",
               desc);
    return 0;
  }
  const int iterations = f.iterations, warmup = f.warmup, classes = f.classes, channels = f.channels;
  const std::string& out = f.write;
  if (iterations < 1 || warmup < 0)
    throw UserError("time: --iterations must be at least 1 and --warmup at least 0");
  if (c.batch < 1) throw UserError("--batch must be positive");
  // Without a dataset, the network file fixes the input; --classes and --channels override it.
  Session s = make_session(c, classes, channels);
  Net& net = *s.net;
  net.init_parameters(c.seed);
  Sgd sgd(net, {.learning_rate = static_cast<float>(c.lr)});
  const PlanNode& first = net.plan().nodes.front();
  const Shape item = first.tower[first.home].in;
  Shape input = {c.batch, item[0], item[1], item[2]};
  std::vector<float> images(input.numel());
  std::mt19937 gen(c.seed);
  std::normal_distribution<float> pixel(0.0f, 50.0f);
  for (float& v : images) v = pixel(gen);
  std::vector<int32_t> labels(c.batch);
  for (int i = 0; i < c.batch; ++i) labels[i] = static_cast<int32_t>(gen() % net.plan().net.classes);

  auto step = [&](int64_t k) {
    StepContext ctx{.training = true, .seed = c.seed, .step = static_cast<uint64_t>(k)};
    net.forward(ConstView{images.data(), input, Device::cpu()}, labels.data(), ctx);
    net.backward(ctx);
    sgd.step();
    net.synchronize();
  };
  for (int k = 0; k < warmup; ++k) step(k);
  TimingReport report(net.plan(), c.batch);
  net.set_profiling(true);
  for (int k = 0; k < iterations; ++k) {
    step(warmup + k);
    report.add(net.timing());
  }
  net.set_profiling(false);
  auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < iterations; ++k) step(warmup + iterations + k);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
              iterations;
  report.set_full_step(ms, iterations);
  std::string devices;
  for (Device d : s.devices) devices += (devices.empty() ? "" : ",") + d.str();
  std::string title = "alexnet time: " + c.net + ", placement " + placement_name(net.plan().placement) +
                      ", devices " + devices + ", batch " + std::to_string(c.batch) + ", " +
                      std::to_string(iterations) + " iterations";
  std::fputs(report.table(title).c_str(), stdout);
  for (size_t i = 0; i < s.devices.size(); ++i) {
    if (!s.devices[i].is_cuda() || (i > 0 && s.devices[i] == s.devices[0])) continue;
    std::printf("peak device memory on %s: %.1f MiB (our buffers: activations, parameters, workspaces)\n",
                s.devices[i].str().c_str(), peak_device_bytes(s.devices[i]) / 1048576.0);
  }
  if (!out.empty()) report.write(out, title);
  return 0;
}

}  // namespace alexnet::cli
