#include "train/trainer.h"

#include <glog/logging.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "comm/process_groups.h"
#include "comm/rendezvous.h"
#include "core/crash_point.h"
#include "core/device_ops.h"
#include "core/errors.h"
#include "core/flight_recorder.h"
#include "core/gpu_wait.h"
#include "core/stop_signals.h"
#include "core/text_format.h"
#include "data/loader.h"
#include "train/evaluate.h"
#include "train/gradient_averager.h"
#include "train/metrics.h"
#include "train/run_metrics.h"
#include "train/sgd.h"
#include "train/timing_report.h"

namespace alexnet {

namespace {

// --- setting up --------------------------------------------------------------------------------

const RunConfig& checked(const RunConfig& c) {
  if (c.data.empty()) throw UserError("train: --data is required (a dataset file from alexnet pack)");
  if (c.out.empty()) throw UserError("train: --out is required (the run directory to create)");
  if (c.batch <= 0) throw UserError("--batch must be positive, got " + std::to_string(c.batch));
  if (c.epochs <= 0) throw UserError("--epochs must be positive, got " + std::to_string(c.epochs));
  if (!(c.lr > 0)) throw UserError("--lr must be positive");
  if (c.log_every < 1) throw UserError("--log-every must be at least 1");
  if (c.keep_checkpoints < 1) throw UserError("--keep-checkpoints must be at least 1");
  if (c.loader_threads < 1) throw UserError("--loader-threads must be at least 1");
  CheckpointEvery::parse(c.checkpoint_every);
  return c;
}

LoaderConfig training_batches(const RunConfig& c, const Session& s) {
  LoaderConfig lc;
  lc.split = "train";
  lc.batch = c.batch;
  lc.replicas = s.shards();
  lc.replica = s.shard();
  lc.crop = s.crop;
  lc.mode = ViewMode::kTrain;
  lc.lighting_std = static_cast<float>(c.lighting);
  lc.seed = c.seed;
  lc.threads = c.loader_threads;
  lc.skip_bad_images = c.skip_bad_images;
  lc.input_scale = s.net->plan().net.input_scale;
  return lc;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Trainer::Trainer(const RunConfig& config, const std::string& command_line, bool resume,
                 const Processes& processes, const JobControl& job)
    : c_(checked(config)),
      job_(job),
      dir_(config.out),
      schedule_(LrSchedule::from_config(config)),
      progress_(config.progress && processes.launch.rank == 0),
      every_(CheckpointEvery::parse(config.checkpoint_every)) {
  auto data = std::make_shared<DatasetReader>(c_.data);
  if (!data->has_split("train")) throw UserError(c_.data + ": has no train split");
  s_ = make_session(c_, data, processes);
  agree_on_configuration(s_, to_toml(c_));
  sgd_ = std::make_unique<Sgd>(*s_.net, SgdConfig{.learning_rate = static_cast<float>(c_.lr),
                                                  .momentum = static_cast<float>(c_.momentum),
                                                  .weight_decay = static_cast<float>(c_.weight_decay)});
  state_.seed = c_.seed;
  state_.lr = c_.lr;
  global_batch_ = int64_t(c_.batch) * s_.shards();
  if (s_.grid.replicas > 1) {
    if (c_.bucket_kb < 1)
      throw UserError("--bucket-kb must be at least 1, got " + std::to_string(c_.bucket_kb));
    averager_ = std::make_unique<GradientAverager>(*s_.net, *s_.replica, s_.grid.replicas,
                                                   int64_t(c_.bucket_kb) * 1024);
  }

  // Refused before the run directory is touched: a trace too large for its file.
  if (!job_.trace_path.empty()) {
    const Plan& plan = s_.net->plan();
    int64_t buckets = 0;
    if (averager_) {
      for (int t : s_.net->local_towers())
        buckets = std::max(buckets, s_.net->layout().flat_size(t) * 4 / (int64_t(c_.bucket_kb) * 1024) + 1);
      buckets += static_cast<int64_t>(plan.nodes.size());
    }
    check_trace_size(plan, job_.trace.warmup + job_.trace.active, buckets, "--trace");
    trace_ = std::make_unique<StepTrace>(plan, c_.batch, s_.grid.rank, s_.grid.replica,
                                         s_.net->local_towers(), job_.trace);
  }

  decide_start(resume);
  // The run's log goes to its directory; the terminal keeps the progress line, warnings and errors.
  const std::string log_prefix = dir_.create_log_folder(s_.many() ? s_.grid.rank : -1);
  google::SetLogDestination(google::GLOG_INFO, log_prefix.c_str());
  // The flight recorder's file, beside this rank's log: written on a timeout, a lost rank or a
  // fatal signal (core/flight_recorder.h).
  set_flight_record_path(log_prefix.substr(0, log_prefix.rfind('/')) + "/flight.json", s_.grid.rank);
  dump_flight_record_on_fatal_signals();
  FLAGS_logtostderr = false;
  FLAGS_stderrthreshold = google::GLOG_WARNING;
  if (s_.many()) LOG(INFO) << s_.grid.describe();
  manifest_.command_line = command_line;
  manifest_.places = s_.world->all_gather_host(rank_place(s_));
  if (continuing_) {
    resume_from_checkpoint();
    manifest_.started_at_step = state_.step;  // the manifest is rewritten after the first step
    if (!resume) {                            // the same command again: say so, and record what it changed
      for (const std::string& change : continuation_.changes)
        LOG(INFO) << "changed on continuing: " << change;
      on_leader(s_, [&] {
        if (!continuation_.changes.empty()) dir_.write_config(c_);
        std::fprintf(
            stderr, "alexnet train: %s is a run of this configuration: continuing it from step %lld%s\n",
            c_.out.c_str(), static_cast<long long>(state_.step),
            continuation_.changes.empty() ? ""
                                          : (" (changed: " + std::to_string(continuation_.changes.size()) +
                                             " setting(s), in its log and config.toml)")
                                                .c_str());
      });
      if (!s_.leader() && processes.launch.local_rank == 0) dir_.copy_config(c_);
    }
  } else {
    if (continuation_.kind == Continuation::kRestart) {
      on_leader(s_, [&] {
        std::fprintf(
            stderr,
            "alexnet train: %s is a run of this configuration with no checkpoint yet: starting it again\n",
            c_.out.c_str());
      });
    }
    s_.net->init_parameters(c_.seed);  // the same draw on every rank: each keeps its towers' slices
    on_leader(s_, [&] {
      dir_.write_config(c_);
      dir_.write_manifest(c_, s_, manifest_);
    });
    // Each machine's first rank keeps the configuration beside its ranks' logs, so that --resume
    // finds it on every machine without a shared filesystem (on a shared one, the same bytes).
    if (!s_.leader() && processes.launch.local_rank == 0) dir_.copy_config(c_);
  }
  LOG(INFO) << "command line: " << command_line;
  // MFU's denominator: every rank's peak, summed (unknown anywhere: MFU is left out).
  flops_per_image_ = training_flops_per_image(s_.net->plan());
  const PeakFlops peak = peak_flops(s_.devices, s_.backend, job_.peak_gflops);
  std::vector<double> peaks = {peak.flops, peak.flops > 0 ? 0.0 : 1.0};
  s_.world->all_reduce_host(peaks);
  job_peak_flops_ = peaks[1] > 0 ? 0 : peaks[0];
  LOG(INFO) << "MFU: " << shortest_double(flops_per_image_ / 1e6) << " MFLOP per trained image (6 x "
            << s_.net->plan().macs_per_item() << " forward MACs), against "
            << (job_peak_flops_ > 0 ? shortest_double(std::round(job_peak_flops_ / 1e8) / 10) + " GFLOP/s"
                                    : "no peak")
            << " for the job; this rank's: " << peak.source;

  loader_ = std::make_unique<Loader>(data, training_batches(c_, s_));
  steps_per_epoch_ = loader_->batches_per_epoch();
  if (state_.epoch > c_.epochs || state_.position > loader_->split_size()) {
    throw UserError(c_.out + ": the checkpoint stands at epoch " + std::to_string(state_.epoch + 1) +
                    ", image " + std::to_string(state_.position) + ", past this run's " +
                    std::to_string(c_.epochs) + " epochs of " + std::to_string(loader_->split_size()) +
                    " images (were --epochs or the data changed?)");
  }
  loader_->seek(state_.epoch, state_.position);
  if (s_.leader()) {
    metrics_ = std::make_unique<Metrics>(c_.out, state_.step);
    start_hparams();
  }
  checkpoint_step_ = state_.step;
  first_step_ = state_.step;
  if (c_.profile_every > 0 && s_.leader()) timing_ = std::make_unique<TimingReport>(s_.net->plan(), c_.batch);
}

// Rank 0 looks at the run directory, and takes its lock, before any rank writes into it. With
// --resume it must hold a checkpoint; otherwise RunDir::decide says whether this is a new run, a
// continuation of the same configuration, or a refusal. Every rank follows rank 0's decision.
void Trainer::decide_start(bool resume) {
  std::string kind;
  on_leader(s_, [&] {
    if (resume) {
      dir_.lock();
      if (dir_.checkpoints().empty()) throw UserError(c_.out + ": holds no checkpoint to resume from");
      continuation_.kind = Continuation::kContinue;
    } else {
      const std::string toml = to_toml(c_);
      dir_.decide(toml);  // a folder that is no run, or another configuration: refused before the lock
      dir_.lock();
      continuation_ = dir_.decide(toml);  // again, now that no other job can be writing it
    }
    kind = std::to_string(static_cast<int>(continuation_.kind));
  });
  from_leader(s_, kind);
  continuation_.kind = static_cast<Continuation::Kind>(std::stoi(kind));
  continuing_ = continuation_.kind == Continuation::kContinue;
}

// Rank 0 reads the newest intact checkpoint (a damaged one is said on the terminal, one line each,
// and in the log, then skipped) and sends it to every rank, which keeps its towers' slices.
void Trainer::resume_from_checkpoint() {
  CheckpointTensors tensors;
  std::string path, bytes;
  on_leader(s_, [&] {
    const RunDir::Resumed from = dir_.load_latest_intact(
        [&](const std::string& file) { return read_checkpoint(file, *s_.net, true, &tensors); },
        [](const std::string& line) {
          LOG(INFO) << line;
          std::fprintf(stderr, "alexnet train: %s\n", line.c_str());
        });
    state_ = from.state;
    path = from.path;
    if (s_.many()) bytes = encode_checkpoint(state_, tensors);
  });
  if (s_.many()) {
    from_leader(s_, bytes);
    state_ = decode_checkpoint(bytes, &tensors);
  }
  apply_checkpoint(tensors, *s_.net, sgd_.get());
  // Versions 1 and 2 counted the position in batches of this run's --batch (one process then).
  if (state_.position_in_batches) state_.position *= c_.batch;
  state_.position_in_batches = false;
  sgd_->config().learning_rate = static_cast<float>(state_.lr);
  have_checkpoint_ = true;
  LOG(INFO) << "resuming " << c_.out << (path.empty() ? "" : " from " + path) << " at step " << state_.step;
}

Trainer::~Trainer() = default;

// --- the loop ----------------------------------------------------------------------------------

const char* Trainer::agree_on_signal() {
  publish_flight_progress();
  // Rank 0 also says whether its checkpoint write has finished: then every rank waits for it here
  // (at once), and a write that failed stops the run at this boundary on every rank.
  const bool written = s_.leader() && checkpoint_in_flight_ &&
                       writing_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  std::vector<double> flag = {signals_.received() ? 1.0 : 0.0, s_.leader() && time_is_up() ? 1.0 : 0.0,
                              written ? 1.0 : 0.0};
  s_.world->all_reduce_host(flag);
  if (flag[2] > 0) wait_for_checkpoint();
  if (flag[0] == 0 && flag[1] == 0) return nullptr;
  if (flag[0] == 0) return "--time-limit";
  // SIGUSR1 to any rank (srun's --signal reaches them all) asks for a requeue; so do the others'.
  if (signals_.received()) return signals_.received();
  return "a signal to another rank";
}

// Many processes: the last collective this rank began, in the store, once a step (at a step
// boundary every one begun has completed); a rank that hangs keeps the number it had, while the
// others, failing, publish the one they were waiting in: that is how they tell it (flight_report).
// A thread of its own does the store's set, at most once a second, so that a store that stops
// answering (rank 0 hung) never holds up a step: that is for the collectives' --timeout to say. The thread is
// detached and keeps what it uses alive; the step pays a lock and a notify.
struct Trainer::FlightPublisher {
  struct Shared {
    std::mutex mutex;
    std::condition_variable wake;
    int64_t value = -1;
    bool stop = false;
    std::shared_ptr<Rendezvous> store;
    std::string key;
  };
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();

  FlightPublisher(std::shared_ptr<Rendezvous> store, std::string key) {
    shared->store = std::move(store);
    shared->key = std::move(key);
    std::thread([s = shared] {
      int64_t published = -1;
      std::unique_lock<std::mutex> lock(s->mutex);
      for (;;) {
        s->wake.wait(lock, [&] { return s->stop || s->value != published; });
        if (s->stop) return;
        const int64_t v = s->value;
        lock.unlock();
        try {
          const std::string text = std::to_string(v);
          s->store->set(s->key, std::vector<char>(text.begin(), text.end()));
        } catch (const std::exception&) {
          // The store is gone or silent: the collectives' own timeout reports it.
        }
        published = v;
        lock.lock();
        // At most one set a second: the store is rank 0's, and the ranks share the cores.
        s->wake.wait_for(lock, std::chrono::seconds(1), [&] { return s->stop; });
      }
    }).detach();
  }
  ~FlightPublisher() {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->stop = true;
    shared->wake.notify_one();
  }
  void update(int64_t v) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->value = v;
    shared->wake.notify_one();
  }
};

void Trainer::publish_flight_progress() {
  if (!s_.many() || !s_.store) return;
  const Clock::time_point t = Clock::now();
  if (!flight_publisher_)
    flight_publisher_ = std::make_unique<FlightPublisher>(s_.store, "flight/" + std::to_string(s_.grid.rank));
  flight_publisher_->update(flight_last_begun());
  flight_publish_seconds_ += seconds_since(t);
  ++flight_publishes_;
}

std::string Trainer::flight_report() {
  const std::string file = dump_flight_record();
  std::string out = file.empty() ? "" : "; this rank's last collectives are in " + file;
  if (!s_.many() || !s_.store) return out;
  std::vector<std::pair<int, int64_t>> known;
  std::string unknown;
  auto read = [&](const std::string& key, std::chrono::milliseconds within) -> std::optional<int64_t> {
    try {
      s_.store->wait({key}, within);
      const std::vector<char> v = s_.store->get(key);
      return std::stoll(std::string(v.begin(), v.end()));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  try {
    // The collective this rank was waiting in, under a key of its own; the others' come within a
    // moment (they fail at about the same time), a hung rank's never: its number is then the one
    // it published at its last step boundary.
    const std::string seq = std::to_string(flight_last_begun());
    s_.store->set("flight-final/" + std::to_string(s_.grid.rank), std::vector<char>(seq.begin(), seq.end()));
    const Clock::time_point until = Clock::now() + std::chrono::milliseconds(2000);
    for (int r = 0; r < s_.grid.world_size; ++r) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      std::optional<int64_t> v =
          read("flight-final/" + std::to_string(r), std::max(left, std::chrono::milliseconds(1)));
      if (!v) v = read("flight/" + std::to_string(r), std::chrono::milliseconds(200));
      if (v) {
        known.emplace_back(r, *v);
      } else {
        unknown += (unknown.empty() ? "" : ", ") + std::to_string(r);
      }
    }
  } catch (const std::exception&) {
    return out + " (the store did not answer for the flight records)";
  }
  if (known.empty()) return out;
  int64_t low = known[0].second, high = known[0].second;
  std::string all, behind;
  for (const auto& [r, seq] : known) {
    all += (all.empty() ? "" : ", ") + ("rank " + std::to_string(r) + " #" + std::to_string(seq));
    low = std::min(low, seq);
    high = std::max(high, seq);
  }
  for (const auto& [r, seq] : known)
    if (seq == low) behind += (behind.empty() ? "" : ", ") + std::to_string(r);
  const std::string none = unknown.empty() ? "" : "; none from rank(s) " + unknown;
  if (low == high)
    return out + "; flight records: every rank reached collective #" + std::to_string(low) + none;
  return out + "; flight records: rank(s) " + behind + " behind, at collective #" + std::to_string(low) +
         " where others reached #" + std::to_string(high) + " (" + all + none + ")";
}

bool Trainer::time_is_up() const {
  // Not before this job's first step: a limit shorter than that is refused after it (run()).
  if (job_.time_limit_seconds <= 0 || state_.step == first_step_) return false;
  // Room for one more step and a checkpoint (two if one is still being written, which the stop
  // waits for), each with half again for noise, and 2 s to exit.
  const double writes = checkpoint_in_flight_ ? 2 : 1;
  const double needed = 1.5 * (step_seconds_ + writes * checkpoint_seconds_) + 2.0;
  return seconds_since(job_start_) + needed >= job_.time_limit_seconds;
}

int Trainer::requeue() {
  if (!s_.leader()) return 0;
  const char* job = std::getenv("SLURM_JOB_ID");
  if (!job || !*job) {
    std::fprintf(stderr,
                 "alexnet train: --requeue: SLURM_JOB_ID is not set (not a Slurm job), so nothing was "
                 "requeued; the checkpoint is kept\n");
    return 1;
  }
  const std::string command = std::string("scontrol requeue ") + job + " 2>&1";
  std::string said;
  int status = -1;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) said += buf;
    status = pclose(p);
  }
  while (!said.empty() && said.back() == '\n') said.pop_back();
  if (status != 0) {
    std::fprintf(stderr,
                 "alexnet train: --requeue: 'scontrol requeue %s' failed (%s%s%s); the checkpoint is kept: "
                 "requeue the job by hand, or run the same command again\n",
                 job,
                 status < 0 ? "could not run it" : ("status " + std::to_string(WEXITSTATUS(status))).c_str(),
                 said.empty() ? "" : ": ", said.c_str());
    return 1;
  }
  LOG(INFO) << "requeued Slurm job " << job;
  std::fprintf(stderr, "alexnet train: requeued Slurm job %s (scontrol requeue %s): it continues this run\n",
               job, job);
  return 0;
}

bool Trainer::epoch_done() const {
  return state_.position + global_batch_ > loader_->split_size();
}

int Trainer::run() {
  window_ = epoch_ = Totals{};
  if (const char* signal = agree_on_signal(); signal && state_.epoch < c_.epochs) {
    stop_early(signal);  // arrived during set-up: stop before the first step
    finish();
    return 0;
  }
  while (state_.epoch < c_.epochs) {
    if (epoch_done()) {  // resumed where a larger global batch than the checkpoint's no longer fits
      end_epoch();
      continue;
    }
    const Clock::time_point started = Clock::now();
    const Batch& batch = *loader_->next();
    const Agreed agreed = step(batch);
    if (!std::isfinite(agreed.loss)) return stop_on_bad_loss(agreed.loss);
    record(batch, agreed, started);
    if (trace_ && trace_->complete()) write_trace();
    if (state_.step == first_step_ + 1) record_algorithms();  // the training shapes' choices
    if (epoch_done()) end_epoch();
    if (state_.epoch == c_.epochs) break;
    // With a time limit, this job's first checkpoint comes after its first step: it times the write
    // that the limit must leave room for (and keeps that step).
    const bool first_timed = job_.time_limit_seconds > 0 && state_.step == first_step_ + 1;
    if (first_timed) {  // every rank asks; rank 0's clock answers
      on_leader(s_, [&] {
        if (seconds_since(job_start_) >= job_.time_limit_seconds) {
          char took[32];
          std::snprintf(took, sizeof took, "%.2f s", seconds_since(job_start_));
          throw UserError(job_.time_limit_source + " is shorter than this run's first step (" + took +
                          " from the start)");
        }
      });
    }
    const bool due =
        (every_.steps > 0 && state_.step % every_.steps == 0) || agreed.checkpoint_due || first_timed;
    if (state_.step != checkpoint_step_ && due) checkpoint();
    if (first_timed) wait_for_checkpoint();  // its time is what the limit must leave room for
    crash_point("step");
    // At the step boundary: a signal during a checkpoint's write stops the run at the first
    // boundary after it, with that checkpoint complete and one of the step reached.
    if (const char* signal = agree_on_signal()) {
      stop_early(signal);
      if (job_.requeue && (std::string(signal) == "SIGUSR1" || std::string(signal) == "--time-limit")) {
        finish();
        return requeue();
      }
      break;
    }
    if (c_.max_steps > 0 && state_.step >= c_.max_steps) {
      stop_early("--max-steps");
      break;
    }
  }
  finish();
  return 0;
}

Trainer::Agreed Trainer::step(const Batch& batch) {
  Net& net = *s_.net;
  profiling_ = warm() && ((c_.profile_every > 0 && state_.step % c_.profile_every == 0) ||
                          (trace_ && trace_->wants_step()));
  net.set_profiling(profiling_);
  if (averager_) averager_->set_recording(profiling_ && trace_);
  sgd_->config().learning_rate =
      static_cast<float>(schedule_.rate(state_.step, steps_per_epoch_, c_.epochs, state_));
  const StepContext ctx{.training = true,
                        .seed = c_.seed,
                        .step = static_cast<uint64_t>(state_.step),
                        .first_item = static_cast<uint64_t>(s_.grid.replica) * c_.batch};
  const double loss =
      net.forward(ConstView{batch.images, batch.shape, Device::cpu()}, batch.labels.data(), ctx);

  // This replica's errors come with the loss (on the loss's tower): nothing else is read back, so
  // the device runs on from here to the next step's forward without another wait.
  const double top1 = static_cast<double>(net.last_loss().top1_errors);
  const double top5 = static_cast<double>(net.last_loss().top5_errors);
  // One small all-reduce over every rank: the loss and errors, and whether to stop or checkpoint.
  const bool clock_due =
      s_.leader() && every_.seconds > 0 && seconds_since(checkpoint_time_) >= every_.seconds;
  std::vector<double> v = {net.holds_loss() ? loss : 0.0, net.holds_loss() ? 1.0 : 0.0, top1, top5,
                           clock_due ? 1.0 : 0.0};
  const Clock::time_point blocked = Clock::now();
  s_.world->all_reduce_host(v);
  blocked_seconds_ = seconds_since(blocked);
  Agreed a;
  a.loss = v[0] / v[1];  // NaN anywhere makes it NaN everywhere
  a.top1 = v[2];
  a.top5 = v[3];
  a.checkpoint_due = v[4] > 0;
  if (!std::isfinite(a.loss)) return a;
  // With replicas, each tower's gradients are summed over them in buckets while backward runs,
  // then divided by their number: the mean over the global batch (train/gradient_averager.h).
  if (averager_) {
    net.backward(ctx, [&](size_t node) { averager_->node_done(node); });
    const Clock::time_point finishing = Clock::now();
    averager_->finish();
    blocked_seconds_ += seconds_since(finishing);
    if (state_.step == checkpoint_step_) {
      LOG(INFO) << "gradient all-reduce over " << s_.grid.replicas << " replicas: " << averager_->buckets()
                << " bucket(s) in this run's first step (--bucket-kb " << c_.bucket_kb << ")";
    }
  } else {
    net.backward(ctx);
  }
  if (profiling_) {  // timed alone, as the nodes are
    net.synchronize();
    sgd_start_ms_ = host_clock_ms();
    sgd_->step();
    net.synchronize();
    sgd_ms_ = host_clock_ms() - sgd_start_ms_;
  } else {
    sgd_->step();
  }
  return a;
}

// Bookkeeping after a step: timing, the running totals, a metrics row every --log-every steps, and
// the progress line.
void Trainer::record(const Batch& batch, const Agreed& agreed, Clock::time_point started) {
  Net& net = *s_.net;
  const double wait = loader_->last_wait_seconds();
  if (profiling_) {
    if (timing_) {
      timing_->add(net.timing());
      timing_->add_input_copy(net.input_copy_ms());
    }
    if (trace_) {
      TraceExtras extras;
      extras.data_wait_start_ms = std::chrono::duration<double, std::milli>(started.time_since_epoch())
                                      .count();  // host_clock_ms()'s clock
      extras.data_wait_ms = wait * 1000;
      extras.batch = &batch;
      extras.sgd_start_ms = sgd_start_ms_;
      extras.sgd_ms = sgd_ms_;
      if (averager_) {
        for (const GradientAverager::BucketSpan& b : averager_->take_spans())
          extras.all_reduce.push_back({b.tower, b.bytes, b.start_ms, b.end_ms});
      }
      if (net.replicated_floats() > 0 && net.replicated_sum_ms() > 0) {  // hybrid's conv gradients
        for (int t : net.local_towers())
          extras.all_reduce.push_back({t, net.replicated_floats() * int64_t(sizeof(float)),
                                       net.replicated_sum_start_ms(),
                                       net.replicated_sum_start_ms() + net.replicated_sum_ms()});
      }
      trace_->add_step(state_.step, net, extras);
    }
    net.set_profiling(false);
  } else if (warm()) {
    unprofiled_step_ms_ += (seconds_since(started) - wait) * 1000;
    ++unprofiled_steps_;
  }
  const double busy = std::max(0.0, seconds_since(started) - wait - blocked_seconds_);
  for (Totals* t : {&window_, &epoch_}) {
    t->busy_seconds += busy;
    t->loss += agreed.loss;
    t->top1_errors += agreed.top1;
    t->top5_errors += agreed.top5;
    t->wait_seconds += wait;
    t->bad_images += batch.bad_images;
    ++t->steps;
  }
  ++state_.step;
  state_.position += global_batch_;
  const double this_step = seconds_since(started);
  step_seconds_ = step_seconds_ == 0 ? this_step : 0.95 * step_seconds_ + 0.05 * this_step;

  if (state_.step % c_.log_every == 0) {  // every rank: the ranks' figures are gathered
    const double images = double(window_.steps) * global_batch_;
    StepMetrics m{state_.step,
                  state_.epoch + 1,
                  window_.loss / window_.steps,
                  window_.top1_errors / images,
                  window_.top5_errors / images,
                  sgd_->config().learning_rate,
                  images / seconds_since(window_.start),
                  window_.wait_seconds};
    log_figures(m, window_.busy_seconds / window_.steps * 1000);
    if (metrics_) metrics_->log(m);
    window_ = Totals{};
  }
  char line[256], mfu[32] = "";
  const double rate = global_batch_ / std::max(step_seconds_, 1e-9);
  if (job_peak_flops_ > 0)
    std::snprintf(mfu, sizeof mfu, " MFU %.1f%%", 100 * rate * flops_per_image_ / job_peak_flops_);
  std::snprintf(line, sizeof line, "epoch %lld/%d step %lld/%lld loss %.4f %.0f img/s%s ETA %s",
                static_cast<long long>(state_.epoch + 1), c_.epochs,
                static_cast<long long>(state_.position / global_batch_),
                static_cast<long long>(steps_per_epoch_), agreed.loss, rate, mfu,
                format_duration((steps_per_epoch_ * c_.epochs - state_.step) * step_seconds_).c_str());
  progress_.show(line);
}

// The settings the HParams table compares runs by: the scheme, the placement, the processes, the
// recipe, and where it ran.
void Trainer::start_hparams() {
  using H = TensorBoardWriter::HParam;
  auto text = [](const char* name, std::string v) { return H{name, false, 0, std::move(v)}; };
  auto number = [](const char* name, double v) { return H{name, true, v, ""}; };
  const std::string stem = std::filesystem::path(c_.net).stem().string();
  metrics_->hparams_start(
      {text("net", stem.empty() ? s_.net->plan().net.name : stem), text("placement", c_.placement),
       text("parallel", parallel_name(s_.parallel)), number("processes", s_.grid.world_size),
       number("replicas", s_.grid.replicas), number("towers", s_.net->plan().towers),
       number("batch", c_.batch), number("global_batch", static_cast<double>(global_batch_)),
       number("lr", c_.lr), number("epochs", c_.epochs), text("schedule", c_.schedule),
       number("seed", c_.seed), text("devices", s_.devices.front().is_cuda() ? "cuda" : "cpu"),
       text("math", c_.math)},
      c_.out);
}

// MFU, memory (the largest over the ranks) and the ranks' step times: one gather over the world.
void Trainer::log_figures(StepMetrics& m, double busy_ms) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  m.mfu = job_peak_flops_ > 0 ? m.images_per_second * flops_per_image_ / job_peak_flops_ : nan;
  const MemoryNow mine = memory_now(s_.devices);
  m.host_rss_mib = mine.host_rss_mib;
  const bool gpu = s_.devices.front().is_cuda();
  m.device_mib = gpu ? mine.device_mib : nan;
  m.device_peak_mib = gpu ? mine.device_peak_mib : nan;
  m.step_ms_min = m.step_ms_median = m.step_ms_max = busy_ms;
  if (!s_.many()) return;
  char text[96];
  std::snprintf(text, sizeof text, "%.17g %.17g %.17g %.17g", busy_ms, mine.host_rss_mib, mine.device_mib,
                mine.device_peak_mib);
  const std::vector<std::string> all = s_.world->all_gather_host(text);
  std::vector<double> busy;
  for (size_t r = 0; r < all.size(); ++r) {
    std::istringstream in(all[r]);
    double b = 0, rss = 0, dev = 0, peak = 0;
    in >> b >> rss >> dev >> peak;
    busy.push_back(b);
    m.host_rss_mib = std::max(m.host_rss_mib, rss);
    if (gpu) {
      m.device_mib = std::max(m.device_mib, dev);
      m.device_peak_mib = std::max(m.device_peak_mib, peak);
    }
  }
  const auto slowest = std::max_element(busy.begin(), busy.end());
  m.slowest_rank = static_cast<int>(slowest - busy.begin());
  m.step_ms_max = *slowest;
  m.step_ms_min = *std::min_element(busy.begin(), busy.end());
  std::vector<double> sorted = busy;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  m.step_ms_median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// Rank 0 rewrites the manifest with every rank's algorithm choices after this process's first
// step, where every rank is together (it gathers over the world group). Validation runs the same
// net at the same batch, so no later shape appears; and each rewrite is a rename, which the crash
// tests count (core/crash_point.h).
void Trainer::record_algorithms() {
  std::string mine;
  for (const std::string& choice : s_.net->algorithm_choices())
    mine += (mine.empty() ? "" : ",\n    ") + choice;
  manifest_.algorithms = s_.world->all_gather_host(mine);
  on_leader(s_, [&] { dir_.write_manifest(c_, s_, manifest_); });
}

// The end of an epoch: validation, the epoch's metrics, the schedule, a checkpoint.
void Trainer::end_epoch() {
  ++state_.epoch;
  state_.position = 0;
  EpochMetrics em;
  em.step = state_.step;
  em.epoch = state_.epoch;
  em.train_loss = epoch_.loss / std::max<int64_t>(epoch_.steps, 1);
  em.lr = sgd_->config().learning_rate;
  em.seconds = seconds_since(epoch_.start);
  em.images_per_second = epoch_.steps * global_batch_ / em.seconds;
  em.data_wait_seconds = epoch_.wait_seconds;
  em.bad_images = epoch_.bad_images;
  {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    em.mfu = job_peak_flops_ > 0 ? em.images_per_second * flops_per_image_ / job_peak_flops_ : nan;
    const MemoryNow m = memory_now(s_.devices);
    std::vector<double> peaks = {m.host_peak_mib, m.device_peak_mib};
    if (s_.many()) {  // the largest over the ranks
      for (const std::string& r : s_.world->all_gather_host(std::to_string(m.host_peak_mib) + " " +
                                                            std::to_string(m.device_peak_mib))) {
        std::istringstream in(r);
        double host = 0, device = 0;
        in >> host >> device;
        peaks = {std::max(peaks[0], host), std::max(peaks[1], device)};
      }
    }
    em.host_peak_mib = peaks[0];
    em.device_peak_mib = s_.devices.front().is_cuda() ? peaks[1] : nan;
  }
  em.has_val = s_.data->has_split("val");
  if (em.has_val) {
    em.val = evaluate(*s_.net, s_.data, "val", 1, s_.crop, c_.loader_threads, nullptr, nullptr,
                      EvalShare{s_.shards(), s_.shard(), s_.world.get()});
  }
  if (metrics_) metrics_->log(em);
  last_epoch_ = em;

  char val[96] = "";
  if (em.has_val) {
    std::snprintf(val, sizeof val, "val top-1 error %.2f%%, top-5 %.2f%%, ", em.val.top1_error * 100,
                  em.val.top5_error * 100);
  }
  char line[256];
  std::snprintf(line, sizeof line, "epoch %lld/%d: train loss %.4f, %s%.0f img/s, data wait %.1f s, lr %g",
                static_cast<long long>(state_.epoch), c_.epochs, em.train_loss, val, em.images_per_second,
                em.data_wait_seconds, em.lr);
  LOG(INFO) << line;
  if (s_.leader()) progress_.message(line);

  // The schedule judges validation error, or the training loss when there is no val split.
  if (schedule_.end_epoch(state_.epoch, em.has_val ? em.val.top1_error : em.train_loss, state_)) {
    LOG(INFO) << "the learning-rate schedule drops lr to " << state_.lr;
  }
  sgd_->config().learning_rate = static_cast<float>(state_.lr);
  crash_point("epoch-end");
  checkpoint();
  epoch_ = Totals{};
}

void Trainer::checkpoint() {
  wait_for_checkpoint();
  // Replica 0's towers gather the logical tensors (the replicas hold the same weights) into host
  // memory; rank 0 writes that snapshot beside the next steps.
  const Clock::time_point started = Clock::now();
  CheckpointTensors tensors;
  if (s_.grid.replica == 0) tensors = collect_checkpoint(*s_.net, sgd_.get());
  const double copy = seconds_since(started);
  if (s_.leader()) {
    writing_ = std::async(
        std::launch::async, [this, tensors = std::move(tensors), state = state_, toml = to_toml(c_), copy] {
          const Clock::time_point began = Clock::now();
          dir_.save_checkpoint(*s_.net, tensors, state, c_.keep_checkpoints, toml);
          char line[160];
          std::snprintf(
              line, sizeof line,
              "checkpoint of step %lld: %.3f s to copy on the step's thread, %.3f s to write and verify "
              "beside training",
              static_cast<long long>(state.step), copy, seconds_since(began));
          LOG(INFO) << line;
          return copy + seconds_since(began);
        });
  }
  checkpoint_in_flight_ = true;
  checkpoint_step_ = state_.step;
  have_checkpoint_ = true;
  checkpoint_time_ = Clock::now();
}

void Trainer::wait_for_checkpoint() {
  if (!checkpoint_in_flight_) return;
  checkpoint_in_flight_ = false;
  on_leader(s_, [&] { checkpoint_seconds_ = std::max(checkpoint_seconds_, writing_.get()); });
}

// --- stopping ----------------------------------------------------------------------------------

int Trainer::stop_on_bad_loss(double loss) {
  progress_.end();
  wait_for_checkpoint();  // of a step before the bad loss: a good one
  const std::string kept = dir_.latest_checkpoint();
  const std::string message =
      "loss is " + std::to_string(loss) + " at step " + std::to_string(state_.step) + " (epoch " +
      std::to_string(state_.epoch + 1) + ", batch " + std::to_string(state_.position + 1) + "); stopping. " +
      (kept.empty() ? "No checkpoint was written yet" : "The last good checkpoint is " + kept) +
      "; try a smaller --lr.";
  LOG(ERROR) << message;
  if (s_.leader()) std::fprintf(stderr, "alexnet train: %s\n", message.c_str());
  if (metrics_) metrics_->hparams_end(state_.step, last_epoch_, 2);  // failure
  return 1;
}

// A stop before the last epoch ends: checkpoint the position reached (unless an epoch's end or
// --checkpoint-every just did) and say how to continue.
void Trainer::stop_early(const std::string& why) {
  progress_.end();
  // A fresh run stopped before its first step still leaves a checkpoint for --resume to start from.
  if (state_.step != checkpoint_step_ || !have_checkpoint_) checkpoint();
  wait_for_checkpoint();
  LOG(INFO) << "stopped by " << why << " at step " << state_.step;
  if (!s_.leader()) return;
  std::fprintf(
      stderr,
      "alexnet train: stopped by %s at step %lld; checkpoint written; continue with the same command, "
      "or alexnet train --resume %s\n",
      why.c_str(), static_cast<long long>(state_.step), c_.out.c_str());
}

void Trainer::write_trace() {
  const std::string about = "\"command\": " + json_quote(manifest_.command_line) +
                            ", \"net\": " + json_quote(c_.net) +
                            ", \"trace_warmup\": " + std::to_string(job_.trace.warmup) +
                            ", \"trace_steps\": " + std::to_string(trace_->recorded_steps());
  gather_and_write_trace(s_, *trace_, job_.trace_path, about);
  if (s_.leader()) {
    LOG(INFO) << "trace of " << trace_->recorded_steps() << " profiled step(s) written to "
              << job_.trace_path;
  }
  trace_.reset();
}

void Trainer::finish() {
  progress_.end();
  wait_for_checkpoint();
  if (trace_ && trace_->recorded_steps() > 0) write_trace();  // a run shorter than the trace
  // The HParams session ends with the run's last epoch (a stop leaves it open for the continuation).
  if (metrics_ && state_.epoch >= c_.epochs) metrics_->hparams_end(state_.step, last_epoch_, 1);
  if (flight_publishes_ > 0) {
    LOG(INFO) << "flight recorder: " << flight_publishes_
              << " step(s) handed their last collective to the store's "
              << "publisher, "
              << shortest_double(std::round(flight_publish_seconds_ / flight_publishes_ * 1e7) / 10)
              << " us each on the step's thread";
  }
  if (!timing_) return;
  timing_->set_full_step(unprofiled_steps_ ? unprofiled_step_ms_ / unprofiled_steps_ : 0, unprofiled_steps_);
  timing_->write(c_.out, "alexnet train " + c_.out + ": per-layer time over " +
                             std::to_string(timing_->profiled_steps()) + " profiled steps after " +
                             std::to_string(kWarmupSteps) + " warm-up steps, batch " +
                             std::to_string(c_.batch));
}

int run_training(const RunConfig& config, const std::string& command_line, bool resume,
                 const Processes& processes, const JobControl& job) {
  Trainer trainer(config, command_line, resume, processes, job);
  try {
    return trainer.run();
  } catch (const PeerLost& e) {  // a lost or hung rank: the flight records say who fell behind
    throw PeerLost(e.what() + trainer.flight_report());
  } catch (const GpuWaitExpired& e) {
    throw GpuWaitExpired(e.what() + trainer.flight_report());
  }
}

}  // namespace alexnet
