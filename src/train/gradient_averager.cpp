#include "train/gradient_averager.h"

#include <glog/logging.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "comm/process_groups.h"
#include "core/device_ops.h"
#include "core/nvtx.h"
#include "net/net.h"
#include "train/timing_report.h"

namespace alexnet {

struct GradientAverager::Tower {
  int tower = 0;
  bool cuda = false;
  Stream grad_stream;  // GPU: the buckets' all-reduce
  Event ready, done;   // GPU: compute -> grad stream, grad stream -> compute
  int64_t sent = -1;   // [sent, end) of the flat buffer has been sent this step; -1: none yet
  std::string nvtx;    // each bucket's NVTX range: the all-reduce row's name for this tower
  // GPU, while recording: each bucket's bytes and timing events, read in finish().
  std::vector<std::pair<int64_t, std::pair<Event, Event>>> timed;
};

GradientAverager::GradientAverager(Net& net, Communicator& replica, int replicas, int64_t bucket_bytes)
    : net_(net),
      replica_(replica),
      scale_(1.0f / static_cast<float>(replicas)),
      bucket_floats_(std::max<int64_t>(bucket_bytes / static_cast<int64_t>(sizeof(float)), 1)) {
  CHECK_GT(replicas, 1);
  const ParamLayout& layout = net.layout();
  const Plan& plan = net.plan();
  bool any_cpu = false;
  for (int t : net.local_towers()) {
    auto s = std::make_unique<Tower>();
    s->tower = t;
    s->nvtx = nvtx_name(kAllReduceRow, "", t);
    const Device d = net.device(t);
    s->cuda = d.is_cuda();
    any_cpu = any_cpu || !s->cuda;
    if (s->cuda) {
      s->grad_stream = Stream(d);
      s->ready = Event(d);
      s->done = Event(d);
    }
    towers_.push_back(std::move(s));
  }
  // Where each node's slice starts on each tower held: its first parameter's offset, or (a node
  // without parameters there) where the next node's starts.
  node_start_.assign(plan.nodes.size(), std::vector<int64_t>(towers_.size(), -1));
  for (size_t p = 0; p < plan.params.size(); ++p) {
    for (size_t i = 0; i < towers_.size(); ++i) {
      int64_t& start = node_start_[plan.params[p].node][i];
      const int64_t at = layout.flat_offset(p, towers_[i]->tower);
      start = start < 0 ? at : std::min(start, at);
    }
  }
  for (size_t i = 0; i < towers_.size(); ++i) {
    int64_t next = layout.flat_size(towers_[i]->tower);
    for (size_t n = plan.nodes.size(); n-- > 0;) {
      if (node_start_[n][i] < 0) node_start_[n][i] = next;
      next = node_start_[n][i];
    }
  }
  if (any_cpu) thread_ = std::thread([this] { work(); });
}

GradientAverager::~GradientAverager() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GradientAverager::node_done(size_t node) {
  for (size_t i = 0; i < towers_.size(); ++i) {
    Tower& t = *towers_[i];
    if (t.sent < 0) t.sent = net_.layout().flat_size(t.tower);  // a new step
    const int64_t lo = node_start_[node][i];
    if (t.sent - lo >= bucket_floats_) send(t, lo, t.sent);
  }
}

void GradientAverager::finish() {
  for (auto& t : towers_) {
    if (t->sent < 0) t->sent = net_.layout().flat_size(t->tower);
    if (t->sent > 0) send(*t, 0, t->sent);  // what is left (none when the last bucket ended at 0)
    t->sent = -1;
  }
  // CPU: wait for the thread to drain the queue; GPU: the compute stream waits for the sends.
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
  if (!error_.empty()) {
    const std::string e = error_;
    error_.clear();
    throw PeerLost(e);
  }
  lock.unlock();
  for (auto& t : towers_) {
    if (!t->cuda) continue;
    t->done.record(t->grad_stream);
    t->done.make_wait(net_.stream(t->tower));
    for (auto& [bytes, events] : t->timed) {
      events.second.synchronize();
      std::lock_guard<std::mutex> guard(mutex_);
      spans_.push_back({t->tower, bytes, net_.event_host_ms(t->tower, events.first),
                        net_.event_host_ms(t->tower, events.second)});
    }
    t->timed.clear();
  }
}

std::vector<GradientAverager::BucketSpan> GradientAverager::take_spans() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(spans_, {});
}

void GradientAverager::send(Tower& t, int64_t lo, int64_t hi) {
  ++buckets_;
  t.sent = lo;
  View bucket{net_.grads(t.tower).data + lo, {hi - lo}, net_.device(t.tower)};
  const int64_t bytes = (hi - lo) * static_cast<int64_t>(sizeof(float));
  if (t.cuda) {
    NvtxRange range(t.nvtx);  // the queueing; Nsight shows the kernels under it on the GPU
    t.ready.record(net_.stream(t.tower));
    t.ready.make_wait(t.grad_stream);
    if (recording_) {
      const Device d = net_.device(t.tower);
      t.timed.emplace_back(bytes, std::make_pair(Event(d, true), Event(d, true)));
      t.timed.back().second.first.record(t.grad_stream);
    }
    replica_.all_reduce({bucket}, {&t.grad_stream});
    scale_async(bucket, scale_, t.grad_stream);
    if (recording_) t.timed.back().second.second.record(t.grad_stream);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back([this, bucket, bytes, tower = t.tower, name = &t.nvtx] {
      NvtxRange range(*name);  // on the communication thread, which does the work
      const double start = host_clock_ms();
      replica_.all_reduce({bucket}, {&cpu_stream_});
      scale_async(bucket, scale_, cpu_stream_);
      if (!recording_) return;
      const BucketSpan span{tower, bytes, start, host_clock_ms()};
      std::lock_guard<std::mutex> lock(mutex_);
      spans_.push_back(span);
    });
  }
  changed_.notify_all();
}

void GradientAverager::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    const bool skip = !error_.empty();  // after a failure the rest is skipped
    lock.unlock();
    std::string failure;
    try {
      if (!skip) task();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    lock.lock();
    --busy_;
    if (!failure.empty() && error_.empty()) error_ = failure;
    changed_.notify_all();
  }
}

}  // namespace alexnet
