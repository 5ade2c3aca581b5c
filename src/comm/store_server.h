// The rendezvous store's server, run by rank 0's TcpStore (comm/tcp_store.h). Internal to src/comm.
//
// One thread polls the listening socket and every client connection; requests are answered in
// the order they arrive on a connection, and waits (for keys, for a change of the roster) are
// parked until they are satisfied or their deadline passes, so one slow rank never blocks another.
#pragma once

#include <netdb.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "comm/tcp_store.h"

namespace alexnet {

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const noexcept { freeaddrinfo(info); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// host:port resolved for TCP (IPv4 or IPv6). Throws UserError naming the host when it does not
// resolve.
AddrInfoList resolve_store_address(const std::string& host, int port);

class StoreServer {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds host:port (SO_REUSEADDR; port 0: the kernel chooses) and starts serving. Throws UserError
  // naming the address when it cannot be bound.
  StoreServer(const std::string& host, int port, std::chrono::milliseconds linger);
  // Stops after every registered rank's connection has closed, or after `linger`, whichever is first.
  // Once some rank has reported itself stuck, a rank that has not within the stuck patience
  // (min(linger, 2 s) after the latest report) is taken for hung: its goodbye is not awaited.
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  int port() const { return port_; }
  // Closes every connection now, without lingering: rank 0 crashing, for tests.
  void stop_now();

 private:
  struct Connection {
    std::string peer;  // host:port
    std::vector<char> in, out;
    int rank = -1;  // once registered
    bool said_goodbye = false;
  };
  // A request answered later: a wait for keys, or for the roster to change.
  struct Parked {
    int fd;
    bool roster;                    // else keys
    std::vector<std::string> keys;  // kWait
    int64_t after_version = 0;      // kRoster
    Clock::time_point deadline;
  };

  void serve();
  void wake();
  void accept_one();
  void read_from(int fd);
  void handle(int fd, const std::vector<char>& message);
  void reply(int fd, const std::vector<char>& frame);
  void flush(int fd);
  void close_connection(int fd);
  // Answers the parked requests now satisfied, or past their deadline when `expire`.
  void settle(bool expire);
  std::vector<char> roster_frame() const;
  std::vector<std::string> missing(const std::vector<std::string>& keys) const;
  // Whether a registered rank's connection is still open whose goodbye is worth waiting for.
  bool ranks_still_awaited(Clock::time_point now) const;
  // When ranks that never reported stuck stop being awaited; max() while no rank is stuck.
  Clock::time_point silent_after() const;

  int listen_fd_ = -1, port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe: writing to it wakes the poll loop
  std::chrono::milliseconds linger_, stuck_patience_;
  std::atomic<bool> stopping_{false}, stop_now_{false};
  Clock::time_point linger_deadline_;
  std::thread thread_;

  // Owned by the server thread alone.
  std::map<int, Connection> connections_;  // by file descriptor
  std::vector<Parked> parked_;
  std::map<std::string, std::vector<char>> values_;
  std::map<int, TcpStore::Member> members_;  // by rank
  std::set<int> lost_, departed_;
  std::vector<std::string> conflicts_;
  std::map<int, TcpStore::Roster::Stuck> stuck_;  // by rank
  Clock::time_point last_stuck_;                  // the latest report
  int64_t version_ = 0;
};

}  // namespace alexnet
