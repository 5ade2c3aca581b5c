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

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comm/rendezvous.h"

namespace alexnet {

class StoreServer;

class TcpStore : public Rendezvous {
 public:
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

  Roster roster(int64_t after_version = -1,
                std::chrono::milliseconds wait = std::chrono::milliseconds(0)) override;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  std::string where() const override { return "the rendezvous store at " + address(); }
  double server_clock_ms() override;

  // Test hook: behave as if this process died. The connection closes without a goodbye, and on
  // rank 0 the server stops at once, closing every connection.
  void vanish() override;

 protected:
  void announce_stuck(const Roster::Stuck& stuck, std::chrono::milliseconds within) override;

 private:
  std::vector<char> request(const std::vector<char>& frame, std::chrono::milliseconds reply_within);
  void connect_with_retry();
  void close_connection() noexcept;

  std::string host_;
  int port_;
  std::unique_ptr<StoreServer> server_;  // rank 0 only
  std::mutex mutex_;                     // one request at a time on the connection
  int fd_ = -1;
  std::string silent_;  // why the connection was closed when the store stopped answering, if it was
};

}  // namespace alexnet
