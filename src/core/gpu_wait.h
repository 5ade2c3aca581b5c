// Every host wait on GPU work has a deadline.
//
// A collective whose peer never arrives (a lost rank, a hung GPU, an NCCL bug) leaves its stream
// waiting forever, and a host blocked in cudaEventSynchronize or cudaStreamSynchronize behind it
// with no word. So no host waits that way: cuda_backend.cpp polls the event or stream through
// wait_until(), which between polls runs the checks the communicators registered (NCCL's
// asynchronous errors: an aborted communicator releases its kernels) and, once the run's
// --timeout passes with the work still unfinished, throws GpuWaitExpired naming what it waited for
// and what each tower queued last (its node and, for an exchange or all-reduce, the collective).
// Plain C++: CPU tests drive it with a wait that never completes.
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

namespace alexnet {

class GpuWaitExpired : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The deadline of every wait from now on (the run's --timeout; 5 minutes until set).
void set_gpu_wait_timeout(std::chrono::milliseconds timeout);
std::chrono::milliseconds gpu_wait_timeout();

// What `tower` queued last, its node and phase ("fc6 forward, tower 1"), and what a group
// queued last, its collective ("all-gather #12 of 4.2 MB"); kept for the message of a wait that
// expires. Cheap: a short string under a lock.
void note_queued(int tower, const std::string& node);
void note_collective(const std::string& group, const std::string& collective);
// "tower 0: fc6 forward; tower 1: fc6 forward; NCCL towers: all-gather #12 of 4.2 MB", or
// "nothing noted".
std::string last_queued();

// A check run between polls, about every 100 ms, from the waiting thread: it throws to end the
// wait (NCCL reported an error, a peer was lost). The handle removes it.
int add_wait_check(std::function<void()> check);
void remove_wait_check(int handle);

// Returns once `ready()` is true. Polls it (spinning briefly, then sleeping up to a millisecond
// between polls), runs the registered checks about every 100 ms, and throws GpuWaitExpired once
// gpu_wait_timeout() has passed: "no progress for 5m 0s while waiting for WHAT; last queued:
// ...". `what` names the wait ("the loss on tower 0 (cuda:0)").
void wait_until(const std::function<bool()>& ready, const std::string& what);

}  // namespace alexnet
