// Host waits on the GPU (core/gpu_wait.h), driven on the CPU by a wait that never completes: it
// ends at the deadline with a message naming what it waited for, each tower's last node and the
// last collective; a registered check that throws (NCCL's asynchronous error) ends it at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

#include "core/gpu_wait.h"

namespace alexnet {
namespace {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

struct TimeoutFor {  // sets the deadline for one test, then restores it
  milliseconds before = gpu_wait_timeout();
  explicit TimeoutFor(milliseconds t) { set_gpu_wait_timeout(t); }
  ~TimeoutFor() { set_gpu_wait_timeout(before); }
};

TEST(GpuWait, AWaitThatNeverCompletesEndsAtTheDeadlineNamingTowerNodeAndCollective) {
  TimeoutFor t(milliseconds(300));
  note_queued(0, "fc6 forward, tower 0");
  note_queued(1, "exchange before fc6 forward, tower 1");
  note_collective("NCCL towers", "all-gather #12 of 9437184 bytes per tower");
  const auto start = clock_type::now();
  std::string message;
  try {
    wait_until([] { return false; }, "the loss on tower 0 (cuda:0)");
  } catch (const GpuWaitExpired& e) {
    message = e.what();
  }
  const double s = std::chrono::duration<double>(clock_type::now() - start).count();
  EXPECT_GE(s, 0.3);
  EXPECT_LT(s, 5.0);  // at the deadline, not long after (a loaded machine may add a little)
  EXPECT_NE(message.find("no progress on the GPU for 300 ms (--timeout)"), std::string::npos) << message;
  EXPECT_NE(message.find("waiting for the loss on tower 0 (cuda:0)"), std::string::npos) << message;
  EXPECT_NE(message.find("tower 0: fc6 forward, tower 0"), std::string::npos) << message;
  EXPECT_NE(message.find("tower 1: exchange before fc6 forward, tower 1"), std::string::npos) << message;
  EXPECT_NE(message.find("NCCL towers: all-gather #12 of 9437184 bytes per tower"), std::string::npos)
      << message;
}

TEST(GpuWait, ACheckThatThrowsEndsTheWaitWithItsError) {
  TimeoutFor t(milliseconds(60000));
  std::atomic<int> calls{0};
  const int handle = add_wait_check([&] {
    if (++calls == 2) throw std::runtime_error("NCCL error on tower 1 (cuda:1): remote process exited");
  });
  const auto start = clock_type::now();
  std::string message;
  try {
    wait_until([] { return false; }, "an event's work");
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  remove_wait_check(handle);
  EXPECT_EQ(message, "NCCL error on tower 1 (cuda:1): remote process exited");
  EXPECT_LT(std::chrono::duration<double>(clock_type::now() - start).count(), 10.0);  // not the 60 s deadline
}

TEST(GpuWait, WorkThatFinishesReturnsAndRemovedChecksAreNotRun) {
  TimeoutFor t(milliseconds(60000));
  const int handle = add_wait_check([] { throw std::runtime_error("removed, so never run"); });
  remove_wait_check(handle);
  int polls = 0;
  const auto start = clock_type::now();
  EXPECT_NO_THROW(wait_until([&] { return ++polls > 20; }, "work that ends"));
  EXPECT_GT(polls, 20);
  // A wait that becomes ready after a while (300 ms) returns then, checks and all.
  EXPECT_NO_THROW(wait_until([&] { return clock_type::now() - start > milliseconds(300); }, "a slower end"));
}

}  // namespace
}  // namespace alexnet
