// The replicas' gradient all-reduce, in buckets overlapped with the backward pass.
//
// Each tower's flat gradient buffer is laid out node by node in plan order (net/param_layout.h),
// and backward runs the nodes in reverse, so the gradients become final from the buffer's end
// towards its start. After each node, what has become final since the last bucket was sent is
// sent once it reaches the bucket size (the rest at the end of backward): summed over the replica
// group and divided by the replicas, the mean over the global batch. The all-reduce adds in member
// order element by element (comm/gloo_communicator.cpp), so the buckets' boundaries do not change
// a bit of the result.
//
// CPU ranks send on a communication thread, beside the backward pass on the main thread (the
// replica group's Gloo mesh is its own, apart from the tower group's exchanges). GPU ranks queue
// each bucket on a gradient stream per tower that waits for the compute stream (an event), and
// the compute stream waits for the gradient stream before SGD. Every rank cuts the same buckets
// in the same order, as NCCL requires of operations on several communicators.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.h"
#include "core/stream.h"

namespace alexnet {

class Net;

class GradientAverager {
 public:
  // replicas > 1; bucket_bytes > 0.
  GradientAverager(Net& net, Communicator& replica, int replicas, int64_t bucket_bytes);
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  // Net::backward's hook: node `node`'s gradients are final (queued) on every tower held.
  void node_done(size_t node);
  // After backward: sends the rest and waits (CPU) or orders the compute streams after it (GPU).
  // Rethrows what a send threw (PeerLost).
  void finish();
  // Buckets sent since construction (for logs and tests).
  int64_t buckets() const { return buckets_; }

  // For traces: while on, each bucket's tower, bytes and span on host_clock_ms() (core/stream.h)
  // are kept (on a GPU from timing events on the gradient stream, read in finish(), which then
  // waits for them: only in the steps traced). take_spans() hands them over and clears them.
  struct BucketSpan {
    int tower = 0;
    int64_t bytes = 0;
    double start_ms = 0, end_ms = 0;
  };
  void set_recording(bool on) { recording_ = on; }
  std::vector<BucketSpan> take_spans();

 private:
  struct Tower;
  void send(Tower& t, int64_t lo, int64_t hi);
  void work();

  Net& net_;
  Communicator& replica_;
  float scale_;
  int64_t bucket_floats_;
  std::vector<std::unique_ptr<Tower>> towers_;    // the towers held
  std::vector<std::vector<int64_t>> node_start_;  // [node][i]: where node's slice starts on towers_[i]
  int64_t buckets_ = 0;
  Stream cpu_stream_;

  // The CPU's communication thread and its queue of sends.
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  int busy_ = 0;
  bool stopping_ = false;
  std::string error_;
  std::atomic<bool> recording_{false};  // read on the CPU's thread
  std::vector<BucketSpan> spans_;       // under mutex_ (the CPU's thread adds them)
};

}  // namespace alexnet
