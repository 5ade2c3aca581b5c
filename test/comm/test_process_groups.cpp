// The process groups on Gloo, with every rank a thread of this test over 127.0.0.1: each collective
// of each group against a direct computation and, for the sums, bit for bit against the local
// communicator; then the ways a job goes wrong (a rank that never comes, two processes on one rank,
// ranks that disagree, an unknown interface, a rank that vanishes or hangs), each of which must end
// in one message naming what went wrong, within the timeout. The tests that hold for any
// rendezvous run over both stores: the TCP store and the file store (--store-dir); those of one
// store alone say which in their name.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "comm/file_store.h"
#include "comm/process_groups.h"
#include "comm/tcp_store.h"
#include "core/errors.h"
#include "core/tensor.h"
#include "data/data_testing.h"
#include "testing.h"

namespace alexnet {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const Stream kCpu;

// A port nobody listens on just now: the kernel's choice for a socket bound to port 0.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

LaunchInfo launch_of(int rank, int world_size, int port) {
  LaunchInfo launch;
  launch.rank = rank;
  launch.world_size = world_size;
  launch.local_rank = rank;
  launch.store_host = "127.0.0.1";
  launch.store_port = port;
  launch.source = "test";
  return launch;
}

// Where one test's ranks meet: a free port for the TCP store, or a folder not yet made for the file
// store (the first rank to arrive creates it).
enum class StoreKind { kTcp, kFile };

struct Meeting {
  StoreKind kind;
  int port = 0;
  testing::TempDir temp;  // holds the file store's folder
  std::string dir;

  explicit Meeting(StoreKind k) : kind(k), port(free_port()), dir(temp.file("store")) {}
  LaunchInfo launch(int rank, int world_size) const {
    LaunchInfo launch = launch_of(rank, world_size, port);
    if (kind == StoreKind::kFile) {
      launch.store_host.clear();
      launch.store_port = 0;
      launch.store_dir = dir;
    }
    return launch;
  }
  // The store as messages name it.
  std::string where() const {
    return kind == StoreKind::kTcp ? "the rendezvous store at 127.0.0.1:" + std::to_string(port)
                                   : "the rendezvous store in " + dir;
  }
};

std::string kind_name(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kTcp ? "Tcp" : "File";
}

// The tests that run over each store.
class EveryStore : public ::testing::TestWithParam<StoreKind> {};
INSTANTIATE_TEST_SUITE_P(ProcessGroups, EveryStore, ::testing::Values(StoreKind::kTcp, StoreKind::kFile),
                         kind_name);

ProcessOptions options_of(milliseconds timeout, std::string iface = "") {
  ProcessOptions options;
  options.timeout = timeout;
  options.iface = std::move(iface);
  return options;
}

// What each rank's thread ended with: "" when it returned, else the exception's message.
struct Outcome {
  std::string error;
  bool user_error = false, peer_lost = false;
};

// Runs body(rank) on one thread per rank and waits for them all.
std::vector<Outcome> run_ranks(int ranks, const std::function<void(int rank)>& body) {
  std::vector<Outcome> outcomes(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const UserError& e) {
        outcomes[r] = {e.what(), true, false};
      } catch (const PeerLost& e) {
        outcomes[r] = {e.what(), false, true};
      } catch (const std::exception& e) {
        outcomes[r] = {e.what(), false, false};
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
}

// ---------------------------------------------------------------------------------------------
// Every collective of every group

// Values whose float sum depends on the order of adding: magnitudes from 2^-12 to 2^12.
std::vector<float> order_sensitive(int64_t n, uint64_t seed) {
  std::vector<float> v = testing::uniform(n, seed);
  for (int64_t i = 0; i < n; ++i) v[i] *= std::ldexp(1.0f, static_cast<int>((i * 7 + seed * 5) % 25) - 12);
  return v;
}

uint64_t seed_of(const std::string& group, int rank, int purpose) {
  return std::hash<std::string>{}(group) % 1000 * 100 + rank * 10 + purpose;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The local communicator's answer for the group's members, each sending `inputs[r]`.
std::vector<std::vector<float>> local_reduce_scatter(const std::vector<std::vector<float>>& inputs,
                                                     int64_t count) {
  const int size = static_cast<int>(inputs.size());
  auto comm = make_local_communicator(std::vector<Device>(size, Device::cpu()));
  std::vector<Tensor> send, recv;
  std::vector<ConstView> s;
  std::vector<View> r;
  for (int m = 0; m < size; ++m) {
    send.push_back(Tensor::from_host({count * size}, inputs[m]));
    recv.emplace_back(Shape{count});
  }
  for (int m = 0; m < size; ++m) {
    s.push_back(send[m].view());
    r.push_back(recv[m].view());
  }
  comm->reduce_scatter(s, r, std::vector<const Stream*>(size, &kCpu));
  std::vector<std::vector<float>> out;
  for (const Tensor& t : recv) out.push_back(t.to_host());
  return out;
}

std::vector<float> local_all_reduce(const std::vector<std::vector<float>>& inputs) {
  const int size = static_cast<int>(inputs.size());
  auto comm = make_local_communicator(std::vector<Device>(size, Device::cpu()));
  std::vector<Tensor> buffers;
  std::vector<View> views;
  for (int m = 0; m < size; ++m) buffers.push_back(Tensor::from_host({int64_t(inputs[m].size())}, inputs[m]));
  for (Tensor& t : buffers) views.push_back(t.view());
  comm->all_reduce(views, std::vector<const Stream*>(size, &kCpu));
  return buffers[0].to_host();
}

// Each collective of one group, as seen by this rank.
void exercise(const std::string& name, const RankGroup& group, Communicator& comm) {
  SCOPED_TRACE(name + " group, member " + std::to_string(group.index));
  const int size = group.size(), me = group.index;
  ASSERT_EQ(comm.size(), size);
  ASSERT_EQ(comm.local(), std::vector<int>{me});
  auto input = [&](int member, int purpose, int64_t n) {
    return order_sensitive(n, seed_of(name, group.ranks[member], purpose));
  };

  // all-gather: the members' sends, in member order.
  const int64_t count = 5;
  {
    Tensor send = Tensor::from_host({count}, input(me, 0, count)), recv({count * size});
    comm.all_gather({send.view()}, {recv.view()}, {&kCpu});
    std::vector<float> expected;
    for (int m = 0; m < size; ++m) {
      const std::vector<float> v = input(m, 0, count);
      expected.insert(expected.end(), v.begin(), v.end());
    }
    EXPECT_EQ(recv.to_host(), expected);
  }
  // reduce-scatter and all-reduce: the very bits the local communicator computes.
  {
    std::vector<std::vector<float>> inputs;
    for (int m = 0; m < size; ++m) inputs.push_back(input(m, 1, count * size));
    Tensor send = Tensor::from_host({count * size}, inputs[me]), recv({count});
    comm.reduce_scatter({send.view()}, {recv.view()}, {&kCpu});
    const std::vector<float> expected = local_reduce_scatter(inputs, count)[me];
    EXPECT_TRUE(same_bits(recv.to_host(), expected));
    for (int64_t i = 0; i < count; ++i) {
      double sum = 0;
      for (int m = 0; m < size; ++m) sum += inputs[m][me * count + i];
      EXPECT_NEAR(recv.to_host()[i], sum, 1e-5 * (1 + std::abs(sum)));
    }
  }
  {
    const int64_t n = 7;  // not a multiple of the group's size: the last block is padded
    std::vector<std::vector<float>> inputs;
    for (int m = 0; m < size; ++m) inputs.push_back(input(m, 2, n));
    Tensor buffer = Tensor::from_host({n}, inputs[me]);
    comm.all_reduce({buffer.view()}, {&kCpu});
    EXPECT_TRUE(same_bits(buffer.to_host(), local_all_reduce(inputs)));
  }
  // broadcast from the last member.
  {
    Tensor buffer = Tensor::from_host({count}, input(me, 3, count));
    comm.broadcast(size - 1, {buffer.view()}, {&kCpu});
    EXPECT_EQ(buffer.to_host(), input(size - 1, 3, count));
  }
  // Host operations: sums of doubles, a string of the root's length, strings of any length.
  {
    std::vector<double> values = {0.5 + group.ranks[me], 1e-3 * group.ranks[me]};
    comm.all_reduce_host(values);
    double ranks = 0;
    for (int r : group.ranks) ranks += r;
    EXPECT_DOUBLE_EQ(values[0], 0.5 * size + ranks);
    EXPECT_DOUBLE_EQ(values[1], 1e-3 * ranks);

    std::string bytes = me == 0 ? std::string("checkpoint\0bytes", 16) : std::string(3 + me, 'x');
    comm.broadcast_host(0, bytes);
    EXPECT_EQ(bytes, std::string("checkpoint\0bytes", 16));

    const std::vector<std::string> all = comm.all_gather_host(std::string(me * 3, char('a' + me)));
    ASSERT_EQ(static_cast<int>(all.size()), size);
    for (int m = 0; m < size; ++m) EXPECT_EQ(all[m], std::string(m * 3, char('a' + m)));
  }
}

void exercise_grid(StoreKind kind, int world_size, int towers) {
  const Meeting meeting(kind);
  const auto outcomes = run_ranks(world_size, [&](int rank) {
    // Rank 1 names the loopback interface; the others take the route to the store.
    const ProcessOptions options = options_of(milliseconds(3000), rank == 1 ? "lo" : "");
    ProcessGroups groups = connect_cpu_groups(meeting.launch(rank, world_size),
                                              make_rank_grid(world_size, rank, rank, towers), options);
    exercise("tower", groups.grid.tower_group, *groups.tower);
    exercise("replica", groups.grid.replica_group, *groups.replica);
    exercise("world", groups.grid.world_group, *groups.world);
    EXPECT_TRUE(groups.store->lost_ranks().empty());
  });
  for (int r = 0; r < world_size; ++r) EXPECT_EQ(outcomes[r].error, "") << "rank " << r;
  // After a normal end rank 0 removes the file store's folder.
  if (kind == StoreKind::kFile) EXPECT_FALSE(std::filesystem::exists(meeting.dir));
}

TEST(ProcessGroups, TheTestValuesAreOrderSensitive) {
  // Otherwise the bit-for-bit checks below would pass with any order of adding.
  const std::vector<float> a = order_sensitive(64, 1), b = order_sensitive(64, 2), c = order_sensitive(64, 3);
  int differ = 0;
  for (int i = 0; i < 64; ++i) differ += ((a[i] + b[i]) + c[i]) != (a[i] + (b[i] + c[i]));
  EXPECT_GT(differ, 0);
}

TEST_P(EveryStore, TwoRanksTwoTowersEveryCollective) {
  exercise_grid(GetParam(), 2, 2);
}

TEST_P(EveryStore, FourRanksTwoReplicasOfTwoTowersEveryCollective) {
  exercise_grid(GetParam(), 4, 2);
}

TEST_P(EveryStore, ANormalEndIsNoLoss) {
  const Meeting meeting(GetParam());
  std::promise<void> rank1_done;
  const auto outcomes = run_ranks(2, [&](int rank) {
    ProcessGroups groups = connect_cpu_groups(meeting.launch(rank, 2), make_rank_grid(2, rank, rank, 2),
                                              options_of(milliseconds(3000)));
    if (rank == 1) {
      groups = ProcessGroups();  // says goodbye
      rank1_done.set_value();
      return;
    }
    ASSERT_EQ(rank1_done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_TRUE(groups.store->lost_ranks().empty());
  });
  for (const Outcome& o : outcomes) EXPECT_EQ(o.error, "");
}

// ---------------------------------------------------------------------------------------------
// Arrival

TEST_P(EveryStore, ARankThatNeverArrivesIsNamed) {
  const Meeting meeting(GetParam());
  const std::string message = testing::error_of([&] {
    connect_cpu_groups(meeting.launch(0, 3), make_rank_grid(3, 0, 0, 1), options_of(milliseconds(1000)));
  });
  EXPECT_EQ(message, "ranks 1, 2 never reached " + meeting.where() + " within 1 s (--timeout)");
}

TEST(ProcessGroups, AnUnreachableStoreIsNamed) {
  const int port = free_port();
  const auto start = Clock::now();
  const std::string message = testing::error_of([&] {
    connect_cpu_groups(launch_of(1, 2, port), make_rank_grid(2, 1, 1, 2), options_of(milliseconds(500)));
  });
  EXPECT_EQ(message, "cannot reach the rendezvous store at 127.0.0.1:" + std::to_string(port) +
                         " within 0.5 s (rank 0 serves it: is it running, and is MASTER_ADDR/--store-host an "
                         "address of its machine?)");
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
}

TEST_P(EveryStore, TwoProcessesClaimingOneRank) {
  const Meeting meeting(GetParam());
  // Thread 2 is a second rank 1.
  const auto outcomes = run_ranks(3, [&](int thread) {
    const int rank = thread == 2 ? 1 : thread;
    connect_cpu_groups(meeting.launch(rank, 2), make_rank_grid(2, rank, rank, 2),
                       options_of(milliseconds(2000)));
  });
  const std::string from = GetParam() == StoreKind::kTcp ? "127.0.0.1:" : "pid " + std::to_string(getpid());
  int named = 0;
  for (const Outcome& o : outcomes) {
    if (o.error.find("two processes claim rank 1 (from " + from) == std::string::npos) continue;
    EXPECT_TRUE(o.user_error) << o.error;
    ++named;
  }
  EXPECT_GE(named, 1);  // the process turned away; the others too when they saw it before meeting
}

TEST_P(EveryStore, RanksThatDisagreeOnTheWorldSize) {
  const Meeting meeting(GetParam());
  const auto outcomes = run_ranks(2, [&](int rank) {
    const int world = rank == 0 ? 2 : 3;
    connect_cpu_groups(meeting.launch(rank, world), make_rank_grid(world, rank, rank, 1),
                       options_of(milliseconds(2000)));
  });
  EXPECT_TRUE(outcomes[0].user_error);
  EXPECT_NE(
      outcomes[0].error.find("the ranks disagree on the grid: rank 0 says world size 2, towers 1; rank 1 "),
      std::string::npos)
      << outcomes[0].error;
  EXPECT_NE(outcomes[0].error.find("says world size 3, towers 1"), std::string::npos) << outcomes[0].error;
  EXPECT_TRUE(outcomes[1].user_error);
  EXPECT_NE(outcomes[1].error.find("rank 1 says world size 3, towers 1; rank 0 "), std::string::npos)
      << outcomes[1].error;
}

TEST(ProcessGroups, AnUnknownInterfaceIsNamed) {
  const std::string message = testing::error_of([&] {
    connect_cpu_groups(launch_of(0, 2, free_port()), make_rank_grid(2, 0, 0, 2),
                       options_of(milliseconds(1000), "nosuchif0"));
  });
  EXPECT_NE(
      message.find("--iface / GLOO_SOCKET_IFNAME: no network interface 'nosuchif0' on this machine (it has "),
      std::string::npos)
      << message;
}

// ---------------------------------------------------------------------------------------------
// Lost ranks

// Rank `vanishing` of two (two towers) disappears after one all-gather, as if killed or (with
// `goodbye`) ending on an error of its own; the other rank's next all-gather must name it within
// the timeout.
void expect_vanished_rank_named(StoreKind kind, int vanishing, bool goodbye, const std::string& expected) {
  const Meeting meeting(kind);
  const milliseconds timeout(3000);
  std::promise<void> gone;
  std::string survivor_error;
  Clock::duration survivor_took{};
  const auto outcomes = run_ranks(2, [&](int rank) {
    ProcessGroups groups =
        connect_cpu_groups(meeting.launch(rank, 2), make_rank_grid(2, rank, rank, 2), options_of(timeout));
    Tensor send = Tensor::from_host({3}, {1, 2, 3}), recv({6});
    groups.tower->all_gather({send.view()}, {recv.view()}, {&kCpu});
    if (rank == vanishing) {
      if (!goodbye) groups.store->vanish();  // as if killed
      groups = ProcessGroups();
      gone.set_value();
      return;
    }
    ASSERT_EQ(gone.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
    const auto start = Clock::now();
    try {
      groups.tower->all_gather({send.view()}, {recv.view()}, {&kCpu});
    } catch (const PeerLost& e) {
      survivor_error = e.what();
    }
    survivor_took = Clock::now() - start;
  });
  for (const Outcome& o : outcomes) EXPECT_EQ(o.error, "");
  EXPECT_EQ(survivor_error, expected);
  EXPECT_LT(survivor_took, timeout);
}

TEST_P(EveryStore, AVanishedRankIsNamed) {
  expect_vanished_rank_named(GetParam(), 1, false,
                             "rank 1 was lost (its connection closed) during the tower group's all-gather");
}

TEST_P(EveryStore, AVanishedRankZeroIsNamed) {
  expect_vanished_rank_named(GetParam(), 0, false,
                             "rank 0 was lost (its connection closed) during the tower group's all-gather");
}

TEST_P(EveryStore, ARankThatEndedOnItsOwnErrorIsNamed) {
  expect_vanished_rank_named(GetParam(), 1, true,
                             "rank 1 had ended (see its own message) during the tower group's all-gather");
}

// Rank `hung` of a grid connects, then never calls another collective (as if stopped with
// SIGSTOP: its connections stay open) until every other rank has run `wait_on` (which must fail)
// and closed its groups. Each other rank's message, the time its operation took to fail, and, for
// rank 0, the time closing its groups took (its store server must not wait for the hung rank).
struct HungRun {
  std::vector<std::string> errors;
  std::vector<Clock::duration> failed_after;
  Clock::duration rank0_closed_after{};
};

HungRun run_with_a_hung_rank(StoreKind kind, int world_size, int towers, int hung, milliseconds timeout,
                             const std::function<void(int rank, ProcessGroups&)>& wait_on) {
  const Meeting meeting(kind);
  HungRun run;
  run.errors.resize(world_size);
  run.failed_after.resize(world_size);
  std::vector<std::promise<void>> ended(world_size);
  const auto outcomes = run_ranks(world_size, [&](int rank) {
    ProcessGroups groups =
        connect_cpu_groups(meeting.launch(rank, world_size), make_rank_grid(world_size, rank, rank, towers),
                           options_of(timeout));
    if (rank == hung) {
      for (int r = 0; r < world_size; ++r)
        if (r != hung)
          EXPECT_EQ(ended[r].get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
      return;
    }
    const auto start = Clock::now();
    try {
      wait_on(rank, groups);
    } catch (const PeerLost& e) {
      run.errors[rank] = e.what();
    }
    run.failed_after[rank] = Clock::now() - start;
    const auto closing = Clock::now();
    groups = ProcessGroups();  // says goodbye; rank 0's server lingers for the others'
    if (rank == 0) run.rank0_closed_after = Clock::now() - closing;
    ended[rank].set_value();
  });
  for (const Outcome& o : outcomes) EXPECT_EQ(o.error, "");
  return run;
}

TEST_P(EveryStore, AHungRankIsNamedAndTheOthersEndWithinTheTimeout) {
  // Three replicas of one tower; rank 2 never joins the world group's host all-reduce.
  const milliseconds timeout(2000);
  const HungRun run = run_with_a_hung_rank(GetParam(), 3, 1, 2, timeout, [](int, ProcessGroups& groups) {
    std::vector<double> values = {1.0};
    groups.world->all_reduce_host(values);
  });
  for (int rank : {0, 1}) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    EXPECT_EQ(run.errors[rank],
              "rank 2 did not answer within 2 s during the world group's host all-reduce (hung? --timeout)");
    // The timeout, then at most the 2 s the stuck wait for each other, and a margin.
    EXPECT_GE(run.failed_after[rank], timeout);
    EXPECT_LT(run.failed_after[rank], timeout + milliseconds(2000) + milliseconds(1500));
  }
  // Without waiting for the hung rank's goodbye (a linger of min(timeout, 10 s) otherwise).
  EXPECT_LT(run.rank0_closed_after, milliseconds(1000));
}

TEST_P(EveryStore, ARankHoldingUpAnotherGroupThroughAStuckOneIsNamed) {
  // Two replicas of two towers: rank 2 hangs; rank 3 waits on it in their tower group, rank 1 on
  // rank 3 in their replica group, rank 0 on rank 2 in theirs.
  const milliseconds timeout(2000);
  const HungRun run = run_with_a_hung_rank(GetParam(), 4, 2, 2, timeout, [](int rank, ProcessGroups& groups) {
    Tensor send = Tensor::from_host({2}, {1, 2}), recv({4});
    if (rank == 3) {
      groups.tower->all_gather({send.view()}, {recv.view()}, {&kCpu});
    } else {
      groups.replica->all_gather({send.view()}, {recv.view()}, {&kCpu});
    }
  });
  EXPECT_EQ(run.errors[0],
            "rank 2 did not answer within 2 s during the replica group's all-gather (hung? --timeout)");
  EXPECT_EQ(run.errors[3],
            "rank 2 did not answer within 2 s during the tower group's all-gather (hung? --timeout)");
  EXPECT_EQ(run.errors[1],
            "rank 2 did not answer within 2 s, holding up the replica group's all-gather (hung? --timeout)");
  for (int rank : {0, 1, 3})
    EXPECT_LT(run.failed_after[rank], timeout + milliseconds(3500)) << "rank " << rank;
  EXPECT_LT(run.rank0_closed_after, milliseconds(1000));
}

TEST_P(EveryStore, AGroupWhoseMembersWaitElsewhereIsNamedAfterTheTimeout) {
  // Both ranks are alive and stuck, each in another group's operation (mismatched collectives):
  // nobody is silent, so the group is named.
  const Meeting meeting(GetParam());
  std::vector<std::string> errors(2);
  const auto outcomes = run_ranks(2, [&](int rank) {
    ProcessGroups groups = connect_cpu_groups(meeting.launch(rank, 2), make_rank_grid(2, rank, rank, 2),
                                              options_of(milliseconds(1000)));
    Tensor buffer = Tensor::from_host({4}, {1, 2, 3, 4});
    try {
      (rank == 0 ? groups.world : groups.tower)->all_reduce({buffer.view()}, {&kCpu});
    } catch (const PeerLost& e) {
      errors[rank] = e.what();
    }
  });
  for (const Outcome& o : outcomes) EXPECT_EQ(o.error, "");
  EXPECT_EQ(errors[0], "no answer from the world group (ranks 0,1) within 1 s during all-reduce (--timeout)");
  EXPECT_EQ(errors[1], "no answer from the tower group (ranks 0,1) within 1 s during all-reduce (--timeout)");
}

}  // namespace
}  // namespace alexnet

namespace alexnet {
namespace {

// Gloo writes with writev(), which raises SIGPIPE on a connection its peer has closed; a rank whose
// peer was killed must end with PeerLost and its message, not die of the signal with none (a
// survivor of `kill -9` once did in CI, and rank 0 then reported two lost ranks). So once the
// groups are connected, a writev() to a closed socket in this process fails with EPIPE instead of
// ending the process.
TEST(ProcessGroups, AWriteToAClosedConnectionFailsInsteadOfKillingTheRank) {
  const int port = free_port();
  const auto outcomes = run_ranks(2, [&](int rank) {
    ProcessGroups groups = connect_cpu_groups(launch_of(rank, 2, port), make_rank_grid(2, rank, rank, 2),
                                              options_of(milliseconds(5000)));
    std::vector<double> together = {1};  // neither closes its groups while the other still connects
    groups.world->all_reduce_host(together);
  });
  for (const Outcome& o : outcomes) EXPECT_EQ(o.error, "");
  int ends[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
  close(ends[1]);
  char byte = 0;
  iovec piece{&byte, 1};
  errno = 0;
  EXPECT_EQ(writev(ends[0], &piece, 1), -1);  // without SIGPIPE ignored, the test ends here
  EXPECT_EQ(errno, EPIPE);
  close(ends[0]);
}

}  // namespace
}  // namespace alexnet
