// alexnet time --net NETWORK.toml --placement P --devices D --batch B --iterations N [--out DIR]
//
// Per-layer forward and backward time on each tower, each exchange's time and bytes, their sum,
// and a full training step (forward, backward, SGD) measured separately without per-layer timers.
// Images and labels are random: no dataset is needed; --classes and --input set their shape.
//
// Under many processes (`alexnet launch --nproc N -- time ...`, or any launcher) each step runs as
// in `train`: the replica's place in the global batch keys dropout, and the replicas' gradient
// all-reduce follows the backward. Each rank times its own towers and its all-reduce; rank 0
// gathers every rank's rows and prints (and writes) the one report, with the scaling efficiency
// against the same step without the all-reduce; the other ranks print only errors.
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/device_ops.h"
#include "core/errors.h"
#include "core/host_buffer.h"
#include "core/nvtx.h"
#include "core/stream.h"
#include "core/text_format.h"
#include "train/gradient_averager.h"
#include "train/session.h"
#include "train/sgd.h"
#include "train/timing_report.h"
#include "train/trace.h"

namespace alexnet::cli {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The replicas' gradient all-reduce in one piece per tower, as the profiled steps time it: each
// held tower's gradients summed over its replica group and scaled by 1/replicas, after the backward
// has been waited for, each tower's all-reduce waited for and timed as a row of its own. (The
// full steps send it in buckets beside the backward pass, as `train` does: GradientAverager.)
void average_gradients(Session& s, TimingReport* report, TraceExtras* trace) {
  if (s.grid.replicas == 1) return;
  Net& net = *s.net;
  const float scale = 1.0f / static_cast<float>(s.grid.replicas);
  if (report) net.synchronize();
  for (int t : net.local_towers()) {
    const Clock::time_point start = Clock::now();
    const double start_ms = host_clock_ms();
    NvtxRange range(nvtx_name(kAllReduceRow, "", t));
    s.replica->all_reduce({net.grads(t)}, {&net.stream(t)});
    scale_async(net.grads(t), scale, net.stream(t));
    if (!report) continue;
    net.stream(t).synchronize();
    const int64_t bytes = net.grads(t).numel() * int64_t(sizeof(float));
    report->add_all_reduce(t, bytes, ms_since(start));
    if (trace) trace->all_reduce.push_back({t, bytes, start_ms, host_clock_ms()});
  }
}

// This rank's device and, on a GPU, its peak memory in MiB: "cpu 0", "cuda:1 812.5".
std::string device_line(const Session& s) {
  const Device d = s.devices.front();
  return d.str() + " " + std::to_string(d.is_cuda() ? peak_device_bytes(d) / 1048576.0 : 0.0);
}

// Every rank sends its part to rank 0, which prints the one report and writes it with --write;
// the other ranks print nothing.
int report_many(Session& s, const RunConfig& c, int iterations, const TimingReport& mine,
                const std::string& out) {
  const std::vector<std::string> parts =
      s.world->all_gather_host(device_line(s) + "\n" + mine.encode(s.net->local_towers()));
  if (!s.leader()) return 0;
  std::vector<std::string> reports;
  std::string devices, memory;
  for (size_t r = 0; r < parts.size(); ++r) {
    const size_t end = parts[r].find('\n');
    std::istringstream line(parts[r].substr(0, end));
    std::string device;
    double peak_mib = 0;
    line >> device >> peak_mib;
    devices += (r ? "," : "") + device;
    if (peak_mib > 0) {
      char text[160];
      std::snprintf(text, sizeof text,
                    "peak device memory of rank %zu on %s: %.1f MiB (our buffers: activations, parameters, "
                    "workspaces)\n",
                    r, device.c_str(), peak_mib);
      memory += text;
    }
    reports.push_back(parts[r].substr(end + 1));
  }
  const Plan& plan = s.net->plan();
  TimingReport report = TimingReport::merge(plan, c.batch, s.grid.replicas, reports);
  report.set_shards(s.shards());
  const std::string title = "alexnet time: " + c.net + ", placement " + placement_name(plan.placement) +
                            ", devices " + devices + " (by rank), batch " + std::to_string(c.batch) +
                            " per replica, --parallel " + parallel_name(s.parallel) +
                            ", replicas x towers = " + std::to_string(s.grid.replicas) + " x " +
                            std::to_string(s.grid.towers) + " = " + std::to_string(s.grid.world_size) +
                            " processes, " + std::to_string(iterations) + " iterations";
  std::fputs(report.table(title).c_str(), stdout);
  std::fputs(memory.c_str(), stdout);
  if (!out.empty()) report.write(out, title);
  return 0;
}

}  // namespace

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
  if (!f.trace.empty()) check_trace_path(f.trace, "--trace");
  if (iterations < 1 || warmup < 0)
    throw UserError("time: --iterations must be at least 1 and --warmup at least 0");
  if (c.batch < 1) throw UserError("--batch must be positive");
  // Without a dataset, the network file fixes the input; --classes and --channels override it.
  Session s = make_session(c, classes, channels, resolve_processes(f.processes));
  agree_on_configuration(s, to_toml(c));
  Net& net = *s.net;
  net.init_parameters(c.seed);
  Sgd sgd(net, {.learning_rate = static_cast<float>(c.lr)});
  const PlanNode& first = net.plan().nodes.front();
  const Shape item = first.tower[first.home].in;
  Shape input = {c.batch, item[0], item[1], item[2]};
  // Page-locked where a GPU is present, as the loader's batches are, so the copy to a device is
  // asynchronous here too.
  HostBuffer image_buffer(sizeof(float) * input.numel());
  float* images = static_cast<float*>(image_buffer.data());
  std::mt19937 gen(c.seed);
  std::normal_distribution<float> pixel(0.0f, 50.0f);
  for (int64_t i = 0; i < input.numel(); ++i) images[i] = pixel(gen);
  std::vector<int32_t> labels(c.batch);
  for (int i = 0; i < c.batch; ++i) labels[i] = static_cast<int32_t>(gen() % net.plan().net.classes);

  std::unique_ptr<GradientAverager> averager;
  if (s.grid.replicas > 1)
    averager =
        std::make_unique<GradientAverager>(net, *s.replica, s.grid.replicas, int64_t(c.bucket_kb) * 1024);
  // A step as `train` takes it: this replica's items of the global batch, the world's agreement on
  // the loss (one small all-reduce), then the gradient all-reduce unless `all_reduce` is off.
  // `wait`: return only once the step's work is done (a step timed alone); without it the next
  // step's input copy runs beside this step's backward, as in `train`.
  TraceExtras extras;  // a timed step's spans besides the nodes', for --trace
  auto step = [&](int64_t k, bool all_reduce, TimingReport* timed, bool wait = true) {
    const StepContext ctx{.training = true,
                          .seed = c.seed,
                          .step = static_cast<uint64_t>(k),
                          .first_item = static_cast<uint64_t>(s.grid.replica) * c.batch};
    const double loss = net.forward(ConstView{images, input, Device::cpu()}, labels.data(), ctx);
    std::vector<double> agreed = {net.holds_loss() ? loss : 0.0, net.holds_loss() ? 1.0 : 0.0};
    s.world->all_reduce_host(agreed);
    if (all_reduce && averager && !timed) {
      // The full step: the all-reduce in buckets beside the backward pass, as `train` runs it.
      net.backward(ctx, [&](size_t node) { averager->node_done(node); });
      averager->finish();
    } else {
      net.backward(ctx);
      if (all_reduce) average_gradients(s, timed, timed ? &extras : nullptr);
    }
    if (timed) {  // the update timed alone, for the trace
      net.synchronize();
      extras.sgd_start_ms = host_clock_ms();
      sgd.step();
      net.synchronize();
      extras.sgd_ms = host_clock_ms() - extras.sgd_start_ms;
    } else {
      sgd.step();
    }
    if (wait) net.synchronize();
  };
  for (int k = 0; k < warmup; ++k) step(k, true, nullptr);
  TimingReport report(net.plan(), c.batch);
  std::unique_ptr<StepTrace> trace;
  if (!f.trace.empty()) {
    check_trace_size(net.plan(), iterations, 0, "--trace");
    trace = std::make_unique<StepTrace>(net.plan(), c.batch, s.grid.rank, s.grid.replica, net.local_towers(),
                                        TraceSchedule{.warmup = 0, .active = iterations});
  }
  net.set_profiling(true);
  for (int k = 0; k < iterations; ++k) {
    extras = {};
    step(warmup + k, true, &report);
    report.add(net.timing());
    report.add_input_copy(net.input_copy_ms());
    // Hybrid's conv gradients, summed over the workers inside backward: the all-reduce row.
    if (net.plan().hybrid() && net.plan().towers > 1) {
      for (int t : net.local_towers()) {
        const int64_t bytes = net.replicated_floats() * int64_t(sizeof(float));
        report.add_all_reduce(t, bytes, net.replicated_sum_ms());
        extras.all_reduce.push_back({t, bytes, net.replicated_sum_start_ms(),
                                     net.replicated_sum_start_ms() + net.replicated_sum_ms()});
      }
    }
    if (trace) trace->add_step(warmup + k, net, extras);
  }
  net.set_profiling(false);
  if (trace) {
    gather_and_write_trace(s, *trace, f.trace,
                           "\"command\": \"alexnet time\", \"net\": " + json_quote(c.net) +
                               ", \"trace_steps\": " + std::to_string(iterations));
  }
  if (s.many()) {
    // Each step timed alone, so that ranks compare medians. With replicas, a step without the
    // gradient all-reduce alternates with each step with it, so both meet the same conditions.
    const int64_t first = warmup + iterations;
    std::vector<double> with, without;
    for (int k = 0; k < iterations; ++k) {
      Clock::time_point start = Clock::now();
      step(first + 2 * k, true, nullptr);
      with.push_back(ms_since(start));
      if (s.grid.replicas == 1) continue;
      start = Clock::now();
      step(first + 2 * k + 1, false, nullptr);
      without.push_back(ms_since(start));
    }
    report.set_rank_steps(with, without);
    return report_many(s, c, iterations, report, out);
  }
  auto start = Clock::now();
  for (int k = 0; k < iterations; ++k) step(warmup + iterations + k, true, nullptr, false);
  net.synchronize();
  report.set_full_step(ms_since(start) / iterations, iterations);
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
