// The rendezvous store: a small key-value store over TCP, served by rank 0, with timeouts (the role
// PyTorch's TCPStore plays; Debian's Gloo ships none). Gloo connects its meshes through it, and it
// is how a surviving rank learns which rank was lost.
//
// Rank 0 runs the server (a thread polling every connection) at the launch's store address; every
// rank, rank 0 included, connects to it as a client and says which rank it is and what grid it
// believes in (world size, towers). The server remembers each rank's connection: one that closes
// without a goodbye (a crash, kill -9, a lost machine) marks its rank lost. A clean end says
// goodbye, and rank 0's server lingers (bounded) for the other ranks' goodbyes, so that a normal end
// does not look like a loss to a rank still finishing.
//
// A rank that hangs (SIGSTOP, a deadlock) keeps its connections open, so the store cannot see it go.
// Instead each rank whose operation runs out of time reports itself stuck in it (report_stuck):
// the ranks that never do are the silent ones, and rank 0's server does not linger for their
// goodbyes.
//
// Every call is bounded by the timeout given at construction. A wait that runs out throws
// StoreTimeout; a store that stops answering throws StoreSilent, one that closes the connection
// PeerLost, both naming rank 0, which serves it.
#pragma once

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comm/process_groups.h"

namespace alexnet {

class StoreServer;

// Keys that did not appear in the store within a wait's timeout: a rank is silent, or gone.
class StoreTimeout : public PeerLost {
 public:
  using PeerLost::PeerLost;
};

// The store itself did not answer in time: rank 0, which serves it, is hung or unreachable.
class StoreSilent : public PeerLost {
 public:
  using PeerLost::PeerLost;
};

class TcpStore : public gloo::rendezvous::Store {
 public:
  // A rank as the store saw it arrive.
  struct Member {
    int rank = 0, world_size = 0, towers = 0;
    std::string address;  // the client's host:port, for messages about duplicate ranks
  };
  struct Roster {
    int64_t version = 0;  // grows with every arrival, loss or conflict
    std::vector<Member> members;
    std::vector<int> lost;               // ranks whose connection closed without a goodbye, ascending
    std::vector<int> departed;           // ranks that said goodbye (ended, normally or not), ascending
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

  // Serves the store when rank == 0 (binding host:port; port 0 lets the kernel choose, see port()),
  // then connects, retrying until `timeout`, and registers this rank. Throws UserError when the
  // store cannot be served or reached, or another process already holds this rank.
  TcpStore(const std::string& host, int port, int rank, int world_size, int towers,
           std::chrono::milliseconds timeout);
  ~TcpStore() override;  // says goodbye; rank 0 then lingers for the others' goodbyes
  TcpStore(const TcpStore&) = delete;
  TcpStore& operator=(const TcpStore&) = delete;

  // gloo::rendezvous::Store. wait() without a timeout uses the store's.
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

  // Until every one of world_size ranks has registered. Throws UserError naming the ranks that never
  // arrived within the timeout, two processes claiming one rank, or ranks that disagree on the world
  // size or the towers; PeerLost when a rank that had arrived is lost meanwhile.
  void wait_for_all_ranks();

  // The ranks lost so far, ascending; {0} when the store itself (rank 0) cannot be reached.
  std::vector<int> lost_ranks();
  // The roster once some rank is lost, has departed or is stuck, waiting up to `patience` for that:
  // a peer's Gloo connection and its store connection close at about the same moment, in either
  // order (and Gloo closes a pair whose operation timed out, before that rank reports it). When the
  // store cannot be reached, a roster whose only lost rank is 0.
  Roster roster_after_a_departure(std::chrono::milliseconds patience);

  Roster roster(int64_t after_version = -1, std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // Tells the store that this rank's `operation` of `group` (its member ranks: `members`) ran out of
  // time, then waits until every other member has said the same or is lost or departed, or for
  // min(timeout, 2 s) (store_protocol::kStuckPatienceMs); returns the roster then. Throws
  // StoreSilent when the store does not answer within that patience either (rank 0, which serves it,
  // is hung too), PeerLost when it closed the connection (rank 0 is gone).
  Roster report_stuck(const std::string& group, const std::string& operation,
                      const std::vector<int>& members);
  // min(timeout, 2 s): how long report_stuck waits for the others.
  std::chrono::milliseconds stuck_patience() const;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Test hook: behave as if this process died. The connection closes without a goodbye, and on
  // rank 0 the server stops at once, closing every connection.
  void vanish();

 private:
  std::vector<char> request(const std::vector<char>& frame, std::chrono::milliseconds reply_within);
  void connect_with_retry();
  void close_connection() noexcept;

  std::string host_;
  int port_, rank_, world_size_, towers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<StoreServer> server_;  // rank 0 only
  std::mutex mutex_;                     // one request at a time on the connection
  int fd_ = -1;
};

// "1 s", "1.5 s", "300 s": a timeout as messages show it.
std::string seconds_text(std::chrono::milliseconds timeout);

}  // namespace alexnet
