// Where the ranks of a job meet: a key-value store with timeouts (what Gloo connects its meshes
// through) that also keeps a roster of the ranks, from which a surviving rank learns which rank was
// lost, ended or hung. Two kinds:
//   TcpStore        (comm/tcp_store.h)  served by rank 0 over TCP; ranks on any hosts.
//   FileRendezvous  (comm/file_store.h) files and locks in one folder; ranks on one host.
// ProcessGroups and the Gloo communicator's fault messages see only this interface.
//
// The roster: the ranks that arrived (rank, world size, towers, where from), those lost (gone
// without a goodbye: a crash, kill -9, a lost machine), those departed (said goodbye, normally or
// on an error of their own), conflicts (two processes claiming one rank), and the ranks stuck in an
// operation that ran out of time. A hung rank (SIGSTOP, a deadlock) is neither lost nor departed:
// it is found as the one that never reports itself stuck (report_stuck).
#pragma once

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "comm/process_groups.h"

namespace alexnet {

// Keys that did not appear in the store within a wait's timeout: a rank is silent, or gone.
class StoreTimeout : public PeerLost {
 public:
  using PeerLost::PeerLost;
};

// The store itself did not answer in time: rank 0, which serves the TCP store, is hung or unreachable.
class StoreSilent : public PeerLost {
 public:
  using PeerLost::PeerLost;
};

class Rendezvous : public gloo::rendezvous::Store {
 public:
  // A rank as the store saw it arrive.
  struct Member {
    int rank = 0, world_size = 0, towers = 0;
    std::string address;  // where it came from (host:port, or host and pid), for messages
  };
  struct Roster {
    int64_t version = 0;          // grows with every arrival, loss, departure, conflict or stuck report
    std::vector<Member> members;  // ascending by rank
    std::vector<int> lost;        // ranks gone without a goodbye, ascending
    std::vector<int> departed;    // ranks that said goodbye (ended, normally or not), ascending
    std::vector<std::string> conflicts;  // e.g. two processes claiming one rank
    // Ranks whose operation ran out of time, by rank; each waits on `members` (ranks) in `group`.
    struct Stuck {
      int rank = 0;
      std::string group, operation;
      std::vector<int> members;
    };
    std::vector<Stuck> stuck;
    const Stuck* stuck_of(int rank) const;  // null when `rank` never reported itself stuck
    bool is_lost_or_departed(int rank) const;
  };

  Rendezvous(int rank, int world_size, int towers, std::chrono::milliseconds timeout)
      : rank_(rank), world_size_(world_size), towers_(towers), timeout_(timeout) {}

  // Until every one of world_size ranks has arrived. Throws UserError naming the ranks that never
  // arrived within the timeout, two processes claiming one rank, or ranks that disagree on the world
  // size or the towers; PeerLost when a rank that had arrived is lost meanwhile.
  virtual void wait_for_all_ranks();

  // The roster once its version exceeds `after_version`, or after `wait`, whichever is first.
  virtual Roster roster(int64_t after_version = -1,
                        std::chrono::milliseconds wait = std::chrono::milliseconds(0)) = 0;

  // The ranks lost so far, ascending; {0} when the TCP store itself (rank 0) cannot be reached.
  std::vector<int> lost_ranks();
  // The roster once some rank is lost, has departed or is stuck, waiting up to `patience` for that:
  // a peer's Gloo connection and its store connection close at about the same moment, in either
  // order (and Gloo closes a pair whose operation timed out, before that rank reports it). When the
  // store closed the connection, a roster whose only lost rank is 0; StoreSilent when it stopped
  // answering (rank 0 hung: its connections stay open).
  Roster roster_after_a_departure(std::chrono::milliseconds patience);

  // Tells the store that this rank's `operation` of `group` (its member ranks: `members`) ran out of
  // time, then waits until every other member has said the same or is lost or departed, or for
  // stuck_patience(); returns the roster then. Throws StoreSilent when the store does not answer
  // within that patience either (rank 0, which serves the TCP store, is hung too), PeerLost when it
  // closed the connection (rank 0 is gone).
  Roster report_stuck(const std::string& group, const std::string& operation,
                      const std::vector<int>& members);
  // min(timeout, 2 s): how long report_stuck waits for the others.
  std::chrono::milliseconds stuck_patience() const;

  std::chrono::milliseconds timeout() const { return timeout_; }
  // The store for messages: "the rendezvous store at 10.0.0.1:29500", "... in /tmp/job".
  virtual std::string where() const = 0;
  // The clock of the process that serves the store, on its host's steady clock in ms, where there
  // is one (a TCP store); -1 otherwise (a file store: every rank is on one host, with one clock).
  virtual double server_clock_ms() { return -1; }

  // Test hook: behave as if this process died (no goodbye).
  virtual void vanish() = 0;

 protected:
  // Records this rank's stuck report; report_stuck then waits on the roster. `within`: how long the
  // store has to take it.
  virtual void announce_stuck(const Roster::Stuck& stuck, std::chrono::milliseconds within) = 0;

  int rank_, world_size_, towers_;
  std::chrono::milliseconds timeout_;
};

// How long a rank whose operation ran out of time waits for the group's other members to say the
// same (or to be lost) before naming the rest silent, and how long rank 0 waits at the end for a
// rank that never said so. A member that entered the operation later times out later: by the gap
// between the members' entries, normally a small part of a step.
constexpr int64_t kStuckPatienceMs = 2000;

// "1 s", "1.5 s", "300 s": a timeout as messages show it.
std::string seconds_text(std::chrono::milliseconds timeout);

// "1", "1, 2": ranks as messages list them.
std::string rank_list(const std::vector<int>& ranks);

}  // namespace alexnet
