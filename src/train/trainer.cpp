#include "train/trainer.h"

#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/blas.h"
#include "core/errors.h"
#include "core/versions.h"
#include "data/loader.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/metrics.h"
#include "train/sgd.h"
#include "train/timing_report.h"

namespace fs = std::filesystem;

namespace alexnet {

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int signal) {
  g_stop_signal = signal;
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void write_atomically(const fs::path& path, const std::string& text) {
  std::ofstream out(path.string() + ".partial");
  if (!out) throw UserError(path.string() + ": cannot write");
  out << text;
  out.close();
  fs::rename(path.string() + ".partial", path);
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o + "\"";
}

std::string manifest(const RunConfig& c, const std::string& command_line, const Session& s) {
  std::ostringstream o;
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  o << "{\n  \"command_line\": " << json_string(command_line) << ",\n  \"host\": " << json_string(host)
    << ",\n  \"net\": " << json_string(c.net) << ",\n  \"net_name\": " << json_string(s.net->plan().net.name)
    << ",\n  \"placement\": " << json_string(placement_name(s.net->plan().placement))
    << ",\n  \"parameters\": " << s.net->plan().parameter_count() << ",\n  \"data\": " << json_string(c.data)
    << ",\n  \"data_source\": " << json_string(s.data ? s.data->info().source : "") << ",\n  \"devices\": [";
  for (size_t i = 0; i < s.devices.size(); ++i) o << (i ? ", " : "") << json_string(s.devices[i].str());
  o << "],\n  \"cpu_threads\": " << blas::cpu_threads() << ",\n  \"cuda_devices\": [";
  std::vector<std::string> gpus = describe_cuda_devices();
  for (size_t i = 0; i < gpus.size(); ++i) o << (i ? ", " : "") << json_string(gpus[i]);
  o << "],\n  \"versions\": {";
  auto versions = library_versions();
  for (size_t i = 0; i < versions.size(); ++i) {
    o << (i ? ", " : "") << json_string(versions[i].first) << ": " << json_string(versions[i].second);
  }
  o << "}\n}\n";
  return o.str();
}

void check_config(const RunConfig& c) {
  if (c.data.empty()) throw UserError("train: --data is required (a dataset file from alexnet pack)");
  if (c.out.empty()) throw UserError("train: --out is required (the run directory to create)");
  if (c.batch <= 0) throw UserError("--batch must be positive, got " + std::to_string(c.batch));
  if (c.epochs <= 0) throw UserError("--epochs must be positive, got " + std::to_string(c.epochs));
  if (!(c.lr > 0)) throw UserError("--lr must be positive");
  if (c.schedule != "plateau" && c.schedule != "step" && c.schedule != "fixed") {
    throw UserError("--schedule: unknown schedule '" + c.schedule + "' (expected plateau, step or fixed)");
  }
  if (c.patience < 1 || c.step_epochs < 1) throw UserError("--patience and --step-epochs must be at least 1");
  if (c.log_every < 1) throw UserError("--log-every must be at least 1");
  if (c.keep_checkpoints < 1) throw UserError("--keep-checkpoints must be at least 1");
  if (c.loader_threads < 1) throw UserError("--loader-threads must be at least 1");
}

// Drops the learning rate as the schedule says, at the end of `epoch` (1-based count of epochs done).
void schedule_epoch(const RunConfig& c, int64_t epochs_done, double error, TrainState& s) {
  if (c.schedule == "step") {
    if (epochs_done % c.step_epochs == 0) s.lr *= c.lr_factor;
    return;
  }
  if (c.schedule != "plateau") return;
  if (error < s.best_val_error - 1e-9) {
    s.best_val_error = error;
    s.bad_epochs = 0;
    return;
  }
  if (++s.bad_epochs >= c.patience) {
    s.lr *= c.lr_factor;
    s.bad_epochs = 0;
    LOG(INFO) << "validation error has not improved for " << c.patience << " epoch(s): lr -> " << s.lr;
  }
}

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO)) {}
  void show(const std::string& text, bool force = false) {
    if (!enabled_) return;
    auto now = Clock::now();
    auto gap = tty_ ? std::chrono::milliseconds(500) : std::chrono::milliseconds(30000);
    if (!force && now - last_ < gap) return;
    last_ = now;
    std::fprintf(stderr, tty_ ? "\r%s   " : "%s\n", text.c_str());
    shown_ = tty_;
  }
  void end() {
    if (shown_) std::fputc('\n', stderr);
    shown_ = false;
  }

 private:
  bool enabled_, tty_, shown_ = false;
  Clock::time_point last_{};
};

}  // namespace

Session make_session(const RunConfig& c, std::shared_ptr<const DatasetReader> data) {
  blas::set_cpu_threads(c.threads);
  Session s;
  s.data = data;
  NetworkSpec spec = load_network_file(c.net);
  PlanOptions o;
  o.placement = parse_placement(c.placement);
  if (!c.exchange.empty()) o.exchange = split_commas(c.exchange);
  s.crop = c.crop ? c.crop : spec.height;
  if (data) {
    const DatasetInfo& info = data->info();
    if (s.crop > info.height || s.crop > info.width) {
      throw UserError("crop " + std::to_string(s.crop) + " (" + (c.crop ? "--crop" : c.net + "'s input") +
                      ") is larger than the " + std::to_string(info.height) + "x" +
                      std::to_string(info.width) + " images of " + data->path() + "; pass a smaller --crop");
    }
    o.channels = info.channels;
    o.classes = static_cast<int>(info.classes.size());
  }
  o.height = o.width = s.crop;
  Plan plan = make_plan(spec, o);
  s.devices = resolve_devices(c.devices, plan.towers);
  if (plan.towers > 1) s.comm = make_communicator(c.comm, s.devices, c.nccl_multi_rank_gpu);
  s.backend = backend_options(c);
  s.net = std::make_unique<Net>(std::move(plan), s.devices, s.comm.get(), c.batch, s.backend);
  return s;
}

int run_training(const RunConfig& c, const std::string& command_line, bool resume) {
  check_config(c);
  const fs::path out(c.out);
  if (!resume && fs::exists(out) && !fs::is_empty(out)) {
    throw UserError(c.out + ": exists and is not empty; choose a new --out, or continue it with --resume " +
                    c.out);
  }
  std::string resume_from;
  if (resume) {
    std::vector<std::string> checkpoints = list_checkpoints(c.out);
    if (checkpoints.empty()) throw UserError(c.out + ": holds no checkpoint to resume from");
    resume_from = checkpoints.back();
  }
  auto data = std::make_shared<DatasetReader>(c.data);
  if (!data->has_split("train")) throw UserError(c.data + ": has no train split");
  Session s = make_session(c, data);
  Net& net = *s.net;
  Sgd sgd(net, {.learning_rate = static_cast<float>(c.lr),
                .momentum = static_cast<float>(c.momentum),
                .weight_decay = static_cast<float>(c.weight_decay)});
  TrainState state;
  state.seed = c.seed;
  state.lr = c.lr;

  fs::create_directories(out / "logs");
  google::SetLogDestination(google::GLOG_INFO, (out / "logs" / "alexnet.").string().c_str());
  // The run's log goes to its directory; the terminal keeps the progress line, warnings and errors.
  FLAGS_logtostderr = false;
  FLAGS_stderrthreshold = google::GLOG_WARNING;
  if (resume) {
    state = load_checkpoint(resume_from, net, &sgd);
    sgd.config().learning_rate = static_cast<float>(state.lr);
    LOG(INFO) << "resuming " << c.out << " from " << resume_from << " at step " << state.step;
  } else {
    net.init_parameters(c.seed);
    write_atomically(out / "config.toml", to_toml(c));
    write_atomically(out / "manifest.json", manifest(c, command_line, s));
  }
  LOG(INFO) << "command line: " << command_line;

  LoaderConfig lc;
  lc.split = "train";
  lc.batch = c.batch;
  lc.crop = s.crop;
  lc.mode = ViewMode::kTrain;
  lc.lighting_std = static_cast<float>(c.lighting);
  lc.seed = c.seed;
  lc.threads = c.loader_threads;
  lc.input_scale = net.plan().net.input_scale;
  Loader loader(data, lc);
  loader.seek(state.epoch, state.position);
  const int64_t steps_per_epoch = loader.batches_per_epoch();
  const int64_t total_steps = steps_per_epoch * c.epochs;
  const bool has_val = data->has_split("val");
  const std::string loss_node = net.plan().nodes.back().name;
  const int classes = static_cast<int>(data->info().classes.size());

  Metrics metrics(c.out);
  std::unique_ptr<TimingReport> timing;
  if (c.profile_every > 0) timing = std::make_unique<TimingReport>(net.plan(), c.batch);
  ProgressLine progress(c.progress);
  g_stop_signal = 0;
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  struct RestoreSignals {
    void (*i)(int), (*t)(int);
    ~RestoreSignals() {
      std::signal(SIGINT, i);
      std::signal(SIGTERM, t);
    }
  } restore{old_int, old_term};

  auto save = [&] {
    save_checkpoint(checkpoint_path(c.out, state.step), net, &sgd, state);
    std::vector<std::string> all = list_checkpoints(c.out);
    for (size_t i = 0; i + c.keep_checkpoints < all.size(); ++i) fs::remove(all[i]);
  };

  // Running sums for the metric rows and the epoch.
  double window_loss = 0, window_top1 = 0, window_top5 = 0, window_wait = 0, epoch_loss = 0, epoch_wait = 0;
  int64_t window_steps = 0, epoch_steps = 0;
  auto window_start = Clock::now(), epoch_start = Clock::now();
  double step_seconds = 0;  // smoothed, for the ETA
  double full_step_ms = 0;
  int full_steps = 0;

  while (state.epoch < c.epochs) {
    const bool profile = timing && state.step % c.profile_every == 0;
    net.set_profiling(profile);
    auto step_start = Clock::now();
    const Batch* b = loader.next();
    const StepContext ctx{.training = true, .seed = c.seed, .step = static_cast<uint64_t>(state.step)};
    double loss = net.forward(ConstView{b->images, b->shape, Device::cpu()}, b->labels.data(), ctx);
    if (!std::isfinite(loss)) {
      progress.end();
      std::vector<std::string> kept = list_checkpoints(c.out);
      std::string message =
          "loss is " + std::to_string(loss) + " at step " + std::to_string(state.step) + " (epoch " +
          std::to_string(state.epoch + 1) + ", batch " + std::to_string(state.position + 1) +
          "); stopping. " +
          (kept.empty() ? "No checkpoint was written yet" : "The last good checkpoint is " + kept.back()) +
          "; try a smaller --lr.";
      LOG(ERROR) << message;
      std::fprintf(stderr, "alexnet train: %s\n", message.c_str());
      return 1;
    }
    net.backward(ctx);
    sgd.step();
    if (profile) {
      timing->add(net.timing());
      net.set_profiling(false);
    } else {
      full_step_ms += seconds_since(step_start) * 1000 - loader.last_wait_seconds() * 1000;
      ++full_steps;
    }
    // Training accuracy of this batch, from the loss layer's probabilities.
    std::vector<float> probs = net.activation(loss_node);
    for (int i = 0; i < b->items; ++i) {
      std::vector<int32_t> best = top_k(probs.data() + int64_t(i) * classes, classes, 5);
      window_top1 += best[0] != b->labels[i];
      window_top5 += std::find(best.begin(), best.end(), b->labels[i]) == best.end();
    }
    window_loss += loss;
    window_wait += loader.last_wait_seconds();
    epoch_loss += loss;
    epoch_wait += loader.last_wait_seconds();
    ++window_steps;
    ++epoch_steps;
    ++state.step;
    ++state.position;
    double this_step = seconds_since(step_start);
    step_seconds = step_seconds == 0 ? this_step : 0.95 * step_seconds + 0.05 * this_step;

    if (state.step % c.log_every == 0) {
      double seconds = seconds_since(window_start);
      metrics.log(StepMetrics{state.step, state.epoch + 1, window_loss / window_steps,
                              window_top1 / (window_steps * c.batch), window_top5 / (window_steps * c.batch),
                              sgd.config().learning_rate, window_steps * c.batch / seconds, window_wait});
      window_loss = window_top1 = window_top5 = window_wait = 0;
      window_steps = 0;
      window_start = Clock::now();
    }
    {
      int eta = static_cast<int>((total_steps - state.step) * step_seconds);
      char line[256];
      std::snprintf(line, sizeof line, "epoch %lld/%d step %lld/%lld loss %.4f %.0f img/s ETA %d:%02d:%02d",
                    static_cast<long long>(state.epoch + 1), c.epochs, static_cast<long long>(state.position),
                    static_cast<long long>(steps_per_epoch), loss, c.batch / std::max(step_seconds, 1e-9),
                    eta / 3600, eta / 60 % 60, eta % 60);
      progress.show(line);
    }

    if (state.position == steps_per_epoch) {  // end of an epoch
      ++state.epoch;
      state.position = 0;
      EpochMetrics em;
      em.step = state.step;
      em.epoch = state.epoch;
      em.train_loss = epoch_loss / std::max<int64_t>(epoch_steps, 1);
      em.lr = sgd.config().learning_rate;
      em.seconds = seconds_since(epoch_start);
      em.images_per_second = epoch_steps * c.batch / em.seconds;
      em.data_wait_seconds = epoch_wait;
      double error_for_schedule = em.train_loss;
      if (has_val) {
        em.has_val = true;
        em.val = evaluate(net, data, "val", 1, s.crop, c.loader_threads);
        error_for_schedule = em.val.top1_error;
      }
      metrics.log(em);
      progress.end();
      char line[256];
      std::snprintf(line, sizeof line,
                    "epoch %lld/%d: train loss %.4f, %s%.0f img/s, data wait %.1f s, lr %g",
                    static_cast<long long>(state.epoch), c.epochs, em.train_loss,
                    has_val ? ("val top-1 error " + std::to_string(em.val.top1_error * 100).substr(0, 5) +
                               "%, top-5 " + std::to_string(em.val.top5_error * 100).substr(0, 5) + "%, ")
                                  .c_str()
                            : "",
                    em.images_per_second, epoch_wait, sgd.config().learning_rate);
      LOG(INFO) << line;
      if (c.progress) std::fprintf(stderr, "%s\n", line);
      schedule_epoch(c, state.epoch, error_for_schedule, state);
      sgd.config().learning_rate = static_cast<float>(state.lr);
      save();
      epoch_loss = epoch_wait = 0;
      epoch_steps = 0;
      epoch_start = Clock::now();
    }
    const bool limit = c.max_steps > 0 && state.step >= c.max_steps && state.epoch < c.epochs;
    if ((g_stop_signal || limit) && state.epoch < c.epochs) {
      progress.end();
      if (state.position != 0) save();
      std::string why =
          g_stop_signal ? std::string(g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM") : "--max-steps";
      LOG(INFO) << "stopped by " << why << " at step " << state.step;
      std::fprintf(stderr,
                   "alexnet train: stopped by %s at step %lld; checkpoint written; continue with: alexnet "
                   "train --resume %s\n",
                   why.c_str(), static_cast<long long>(state.step), c.out.c_str());
      break;
    }
  }
  progress.end();
  if (timing) {
    timing->set_full_step(full_steps ? full_step_ms / full_steps : 0, full_steps);
    timing->write(c.out, "alexnet train " + c.out + ": per-layer time over " +
                             std::to_string(timing->profiled_steps()) + " profiled steps, batch " +
                             std::to_string(c.batch));
  }
  return 0;
}

}  // namespace alexnet
