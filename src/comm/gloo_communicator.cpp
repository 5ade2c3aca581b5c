// The Gloo communicator: one member of a group of processes, on host memory, over Gloo's TCP mesh.
//
// Debian's Gloo (0.5.0) ships only the legacy halving-doubling reduce-scatter, bound to its buffers
// at construction, so reduce-scatter is an all-to-all (member r receives block r of every send
// buffer) followed by a local sum in member order 0, 1, 2, ...: the order the local communicator
// sums in, so a split across processes computes the very bits the same split computes in one
// process. All-reduce is that reduce-scatter followed by an all-gather, not Gloo's ring all-reduce,
// whose partial sums run around the ring starting from a different member for each chunk: the same
// bits on every member, but not the order 0, 1, 2, ... and so not the local communicator's bits once
// there are three or more members. The two steps move 2(n-1)/n of the buffer per member, as a ring
// does.
//
// Every operation takes a fresh tag from a counter that every member advances in the same order,
// and is bounded by the group's timeout. Any Gloo failure becomes PeerLost with one line naming the
// lost rank (see describe_peer_failure).
#include "comm/gloo_communicator.h"

#include <glog/logging.h>
#include <gloo/allgather.h>
#include <gloo/alltoall.h>
#include <gloo/broadcast.h>
#include <gloo/common/error.h>
#include <gloo/context.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <set>

#include "comm/process_groups.h"
#include "comm/rendezvous.h"
#include "core/device_ops.h"
#include "core/flight_recorder.h"

namespace alexnet {

namespace {

using std::chrono::milliseconds;

class GlooCommunicator final : public Communicator {
 public:
  explicit GlooCommunicator(GlooGroup group) : group_(std::move(group)) {}

  int size() const override { return group_.members.size(); }
  std::vector<int> local() const override { return {group_.members.index}; }
  const char* kind() const override { return "gloo"; }

  void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                  const std::vector<const Stream*>& streams) override {
    check_one(send.size(), recv.size(), streams.size(), send[0].device, recv[0].device);
    const int64_t count = send[0].numel();
    CHECK_EQ(recv[0].numel(), count * size()) << "all_gather: receive buffer";
    float* mine = recv[0].data + group_.members.index * count;
    if (size() == 1 || count == 0) {
      if (mine != send[0].data) std::memcpy(mine, send[0].data, count * sizeof(float));
      return;
    }
    run("all-gather", [&](uint32_t tag) {
      gloo::AllgatherOptions o(group_.context);
      if (mine != send[0].data) o.setInput(const_cast<float*>(send[0].data), count);  // else in place
      o.setOutput(recv[0].data, count * size());
      o.setTag(tag);
      o.setTimeout(group_.timeout);
      gloo::allgather(o);
    });
  }

  void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                      const std::vector<const Stream*>& streams) override {
    check_one(send.size(), recv.size(), streams.size(), send[0].device, recv[0].device);
    const int64_t count = recv[0].numel();
    CHECK_EQ(send[0].numel(), count * size()) << "reduce_scatter: send buffer";
    if (size() == 1 || count == 0) {
      copy_async(send[0], recv[0], *streams[0]);
      return;
    }
    blocks_.resize(count * size());
    all_to_all("reduce-scatter", send[0].data, blocks_.data(), count * size());
    sum_blocks(count, recv[0], *streams[0]);
  }

  void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) override {
    check_one(buffers.size(), buffers.size(), streams.size(), buffers[0].device, buffers[0].device);
    const int64_t n = buffers[0].numel();
    if (size() == 1 || n == 0) return;
    // Reduce-scatter blocks of ceil(n / size) (the last padded with zeros), then all-gather them.
    const int64_t count = (n + size() - 1) / size();
    padded_.assign(count * size(), 0.0f);
    std::memcpy(padded_.data(), buffers[0].data, n * sizeof(float));
    blocks_.resize(count * size());
    all_to_all("all-reduce", padded_.data(), blocks_.data(), count * size());
    float* mine = padded_.data() + group_.members.index * count;
    sum_blocks(count, View{mine, {count}, Device::cpu()}, *streams[0]);
    run("all-reduce", [&](uint32_t tag) {
      gloo::AllgatherOptions o(group_.context);
      o.setOutput(padded_.data(), count * size());  // in place: this member's block is `mine`
      o.setTag(tag);
      o.setTimeout(group_.timeout);
      gloo::allgather(o);
    });
    std::memcpy(buffers[0].data, padded_.data(), n * sizeof(float));
  }

  void broadcast(int root, const std::vector<View>& buffers,
                 const std::vector<const Stream*>& streams) override {
    check_one(buffers.size(), buffers.size(), streams.size(), buffers[0].device, buffers[0].device);
    CHECK(root >= 0 && root < size()) << "broadcast: root " << root << " of " << size();
    if (size() == 1 || buffers[0].numel() == 0) return;
    broadcast_bytes("broadcast", root, buffers[0].data, buffers[0].numel() * sizeof(float));
  }

  // Every member's `n` values of `in`, in member order, into `out` (size() * n).
  template <class T>
  void gather_all(const char* operation, T* in, size_t n, T* out) {
    run(operation, [&](uint32_t tag) {
      gloo::AllgatherOptions o(group_.context);
      o.setInput(in, n);
      o.setOutput(out, n * size());
      o.setTag(tag);
      o.setTimeout(group_.timeout);
      gloo::allgather(o);
    });
  }

  void all_reduce_host(std::vector<double>& values) override {
    if (size() == 1 || values.empty()) return;
    // Gather every member's values and sum them in member order, so that every member holds the
    // same bits.
    const size_t n = values.size();
    std::vector<double> all(n * size());
    gather_all("host all-reduce", values.data(), n, all.data());
    for (size_t i = 0; i < n; ++i) {
      values[i] = all[i];
      for (int r = 1; r < size(); ++r) values[i] += all[r * n + i];
    }
  }

  void broadcast_host(int root, std::string& bytes) override {
    CHECK(root >= 0 && root < size()) << "broadcast_host: root " << root << " of " << size();
    if (size() == 1) return;
    uint64_t length = bytes.size();  // the root's length first, so the others can make room
    broadcast_bytes("host broadcast", root, &length, sizeof(length));
    bytes.resize(length);
    if (length > 0) broadcast_bytes("host broadcast", root, bytes.data(), length);
  }

  std::vector<std::string> all_gather_host(const std::string& mine) override {
    if (size() == 1) return {mine};
    // Lengths first, then every string padded to the longest.
    std::vector<uint64_t> lengths(size());
    uint64_t my_length = mine.size();
    gather_all("host all-gather", &my_length, 1, lengths.data());
    const uint64_t longest = *std::max_element(lengths.begin(), lengths.end());
    std::vector<std::string> strings(size());
    if (longest == 0) return strings;
    std::string padded = mine;
    padded.resize(longest);
    std::string all(longest * size(), '\0');
    gather_all("host all-gather", padded.data(), longest, all.data());
    for (int r = 0; r < size(); ++r) strings[r] = all.substr(r * longest, lengths[r]);
    return strings;
  }

 private:
  void check_one(size_t a, size_t b, size_t s, Device da, Device db) const {
    CHECK_EQ(a, 1u) << group_.name << " group: one buffer, for this process's one member";
    CHECK_EQ(b, 1u) << group_.name << " group: one buffer, for this process's one member";
    CHECK_EQ(s, 1u) << group_.name << " group: one stream, for this process's one member";
    CHECK(da.is_cpu() && db.is_cpu()) << group_.name << " group: Gloo moves host memory, not " << da.str();
  }

  // blocks_ holds block `index` of every member's buffer, member r's at r * count; recv = their sum,
  // added in member order exactly as the local communicator adds.
  void sum_blocks(int64_t count, View recv, const Stream& stream) {
    auto block = [&](int r) { return ConstView{blocks_.data() + r * count, {count}, Device::cpu()}; };
    copy_async(block(0), recv, stream);
    for (int r = 1; r < size(); ++r) add_into_async(recv, block(r), stream);
  }

  void all_to_all(const char* operation, const float* in, float* out, int64_t total) {
    run(operation, [&](uint32_t tag) {
      gloo::AlltoallOptions o(group_.context);
      o.setInput(const_cast<float*>(in), total);
      o.setOutput(out, total);
      o.setTag(tag);
      o.setTimeout(group_.timeout);
      gloo::alltoall(o);
    });
  }

  void broadcast_bytes(const char* operation, int root, void* data, size_t bytes) {
    run(operation, [&](uint32_t tag) {
      gloo::BroadcastOptions o(group_.context);
      o.setOutput(static_cast<char*>(data), bytes);
      o.setRoot(root);
      o.setTag(tag);
      o.setTimeout(group_.timeout);
      gloo::broadcast(o);
    });
  }

  // Runs one Gloo operation under the next tag; a failure becomes PeerLost.
  // Each is recorded in the flight recorder (core/flight_recorder.h), begun and ended.
  template <typename F>
  void run(const std::string& operation, F&& f) {
    const uint32_t tag = next_tag_++;
    const int64_t seq = flight_begin(group_.name, operation, 0);
    try {
      f(tag);
      flight_end(seq, true);
    } catch (const gloo::Exception& e) {
      flight_end(seq, false);
      std::string what = e.what();
      std::transform(what.begin(), what.end(), what.begin(), [](unsigned char c) { return std::tolower(c); });
      const bool timed_out =
          what.find("timed out") != std::string::npos || what.find("timeout") != std::string::npos;
      throw PeerLost(describe_peer_failure(*group_.store, group_, operation, timed_out, e.what()));
    }
  }

  GlooGroup group_;
  uint32_t next_tag_ = 1;
  std::vector<float> blocks_, padded_;  // scratch, kept between calls
};

std::string joined(const std::vector<int>& ranks, const char* separator) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i ? separator : "") + std::to_string(ranks[i]);
  return s;
}

std::string ranks_text(const std::vector<int>& ranks, const char* one, const char* many) {
  return (ranks.size() == 1 ? "rank " : "ranks ") + joined(ranks, ", ") + (ranks.size() == 1 ? one : many);
}

// Who holds up an operation of `members` once the stuck have had their say. A member stuck in an
// operation of its own waits on that operation's members in turn, so follow them: the ranks reached
// that are connected but never said they were stuck are silent (hung); those that ended without
// being stuck ended on an error of their own. Both ascending.
struct Culprits {
  std::vector<int> silent, ended;
  bool all_members = true;  // every silent rank is one of `members`
};

Culprits holding_up(const Rendezvous::Roster& roster, const std::vector<int>& members, int self) {
  Culprits c;
  std::set<int> seen = {self};
  std::vector<int> todo(members.begin(), members.end());
  const std::set<int> direct(members.begin(), members.end());
  while (!todo.empty()) {
    const int rank = todo.back();
    todo.pop_back();
    if (!seen.insert(rank).second) continue;
    if (const Rendezvous::Roster::Stuck* s = roster.stuck_of(rank)) {
      todo.insert(todo.end(), s->members.begin(), s->members.end());
    } else if (std::count(roster.departed.begin(), roster.departed.end(), rank)) {
      c.ended.push_back(rank);
    } else if (!std::count(roster.lost.begin(), roster.lost.end(), rank)) {
      c.silent.push_back(rank);
      c.all_members = c.all_members && direct.count(rank);
    }
  }
  std::sort(c.silent.begin(), c.silent.end());
  std::sort(c.ended.begin(), c.ended.end());
  return c;
}

}  // namespace

std::unique_ptr<Communicator> make_gloo_communicator(GlooGroup group) {
  CHECK(group.members.size() == 1 || group.context) << group.name << " group: no Gloo context";
  return std::make_unique<GlooCommunicator>(std::move(group));
}

std::string describe_peer_failure(Rendezvous& store, const GlooGroup& group, const std::string& operation,
                                  bool timed_out, const std::string& what) {
  const std::string during = " during the " + group.name + " group's " + operation;
  const std::string limit = seconds_text(group.timeout);
  const auto lost_text = [&](const std::vector<int>& lost) {
    return ranks_text(lost, " was lost (its connection closed)", " were lost (their connections closed)") +
           during;
  };
  // A member that ended on an error of its own says goodbye, closing its Gloo connections. One that
  // had reported itself stuck closes them the same way, but it is a victim: the cause is a silent
  // rank.
  const auto ended_text = [&](const std::vector<int>& ended) {
    return ranks_text(ended, " had ended (see its own message)", " had ended (see their own messages)") +
           during;
  };
  const auto left_unstuck = [&](const Rendezvous::Roster& roster) {
    std::vector<int> left;
    for (int rank : group.members.ranks)
      if (std::count(roster.departed.begin(), roster.departed.end(), rank) && !roster.stuck_of(rank))
        left.push_back(rank);
    return left;
  };

  const std::string rank0_silent = "rank 0 did not answer within " + limit + during +
                                   ", nor did the rendezvous store it serves (hung? --timeout)";
  bool stuck = timed_out;
  if (!timed_out) {
    // A closed connection is seen by Gloo and by the store at about the same moment, in either
    // order: give the store a moment to notice. (With rank 0 hung, the others that timed out close
    // their connections to this rank, and the store it serves does not answer.)
    Rendezvous::Roster roster;
    try {
      roster = store.roster_after_a_departure(std::min(group.timeout, milliseconds(2000)));
    } catch (const StoreSilent&) {
      return rank0_silent;
    }
    if (!roster.lost.empty()) return lost_text(roster.lost);
    if (const std::vector<int> left = left_unstuck(roster); !left.empty()) return ended_text(left);
    // Gloo closes the connections of an operation that timed out: a member stuck in one is a
    // victim that just reported it (or left after), and so is this rank.
    for (int rank : group.members.ranks) stuck = stuck || roster.stuck_of(rank);
  }
  if (stuck) {
    // A hung rank keeps its connections open, so the store cannot see it go: the members that
    // never say they are stuck too are the silent ones. A store that is silent as well is rank 0's.
    Rendezvous::Roster roster;
    try {
      roster = store.report_stuck(group.name, operation, group.members.ranks);
    } catch (const StoreSilent&) {
      return rank0_silent;
    } catch (const PeerLost&) {
      return lost_text({0});
    }
    if (!roster.lost.empty()) return lost_text(roster.lost);
    if (const std::vector<int> left = left_unstuck(roster); !left.empty()) return ended_text(left);
    const Culprits c = holding_up(roster, group.members.ranks, group.members.ranks[group.members.index]);
    if (!c.silent.empty()) {
      return ranks_text(c.silent, " did not answer", " did not answer") + " within " + limit +
             (c.all_members ? during : ", holding up the " + group.name + " group's " + operation) +
             " (hung? --timeout)";
    }
    if (!c.ended.empty()) return ended_text(c.ended);
  }
  const std::string members = "the " + group.name + " group (ranks " + joined(group.members.ranks, ",") + ")";
  if (timed_out)
    return "no answer from " + members + " within " + limit + " during " + operation + " (--timeout)";
  return members + " failed during " + operation +
         ", and the rendezvous store knows of no lost rank: " + what.substr(0, what.find('\n'));
}

}  // namespace alexnet
