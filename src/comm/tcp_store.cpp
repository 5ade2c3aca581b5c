// The rendezvous store's client (every rank), and rank 0's server started beside it.
#include "comm/tcp_store.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "comm/process_groups.h"
#include "comm/store_protocol.h"
#include "comm/store_server.h"
#include "core/errors.h"

namespace alexnet {

using namespace store_protocol;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// The server enforces a wait's deadline and answers when it passes; the client allows this much
// more for that answer to travel before it calls the server silent.
constexpr milliseconds kGrace(5000);
// How long rank 0's server waits, at most, for the other ranks' goodbyes at a normal end.
constexpr milliseconds kLinger(10000);

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Connects within `within`; -1 when refused, unreachable or too slow.
int connect_within(const addrinfo* a, milliseconds within) {
  const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof(error);
    if (errno != EINPROGRESS || poll(&p, 1, static_cast<int>(within.count())) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      close(fd);
      return -1;
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connecting and leaving

TcpStore::TcpStore(const std::string& host, int port, int rank, int world_size, int towers,
                   milliseconds timeout)
    : Rendezvous(rank, world_size, towers, timeout), host_(host), port_(port) {
  if (rank == 0) {
    server_ = std::make_unique<StoreServer>(host, port, std::min(timeout, kLinger));
    port_ = server_->port();
  }
  try {
    connect_with_retry();
    const std::vector<char> answer =
        request(Writer().u8(static_cast<uint8_t>(Op::kHello)).i32(rank).i32(world_size).i32(towers).frame(),
                timeout_ + kGrace);
    Reader r(answer);
    if (static_cast<Reply>(r.u8()) == Reply::kError) throw UserError(r.str());
  } catch (...) {
    close_connection();
    if (server_) server_->stop_now();  // no rank can use a store whose own rank failed to join
    throw;
  }
}

TcpStore::~TcpStore() {
  if (fd_ >= 0) {
    try {
      request(Writer().u8(static_cast<uint8_t>(Op::kBye)).frame(), std::min(timeout_, milliseconds(2000)));
    } catch (const std::exception& e) {
      LOG(WARNING) << "rank " << rank_ << " could not say goodbye to the rendezvous store: " << e.what();
    }
    close_connection();
  }
  server_.reset();  // lingers for the others' goodbyes
}

void TcpStore::connect_with_retry() {
  const Clock::time_point deadline = Clock::now() + timeout_;
  milliseconds pause(10);
  for (;;) {
    AddrInfoList addresses = resolve_store_address(host_, port_);
    for (addrinfo* a = addresses.get(); a != nullptr && fd_ < 0; a = a->ai_next)
      fd_ = connect_within(a, std::max(milliseconds(1), left_until(deadline)));
    if (fd_ >= 0) break;
    if (Clock::now() >= deadline) {
      throw UserError("cannot reach the rendezvous store at " + address() + " within " +
                      seconds_text(timeout_) +
                      " (rank 0 serves it: is it running, and is MASTER_ADDR/--store-host an address of its "
                      "machine?)");
    }
    // Rank 0 may not be listening yet: retry, backing off.
    std::this_thread::sleep_for(std::min(pause, left_until(deadline)));
    pause = std::min(pause * 2, milliseconds(250));
  }
  // A server that takes no data must not block a send forever.
  timeval tv{static_cast<time_t>(timeout_.count() / 1000),
             static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void TcpStore::close_connection() noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void TcpStore::vanish() {
  std::lock_guard<std::mutex> lock(mutex_);
  close_connection();
  if (server_) server_->stop_now();
}

// ---------------------------------------------------------------------------------------------
// One request, one reply

std::vector<char> TcpStore::request(const std::vector<char>& frame, milliseconds reply_within) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string lost = "rank 0 was lost (the rendezvous store at " + address() +
                           ", which it serves, closed "
                           "the connection)";
  // A connection this rank closed because the store went silent stays silent: a later request (from
  // another thread, or a second look at the roster) must not read that as rank 0 being lost.
  if (fd_ < 0 && !silent_.empty()) throw StoreSilent(silent_);
  if (fd_ < 0) throw PeerLost(lost);
  for (size_t sent = 0; sent < frame.size();) {
    const ssize_t n = send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_connection();
      throw PeerLost(lost);
    }
    sent += n;
  }
  // Read the 4-byte length, then the message, within the deadline.
  const Clock::time_point deadline = Clock::now() + reply_within;
  std::vector<char> buffer(4);
  size_t have = 0;
  bool header = true;
  while (have < buffer.size() || header) {
    if (have == buffer.size()) {  // the header is complete
      uint32_t length;
      std::memcpy(&length, buffer.data(), 4);
      length = ntohl(length);
      if (length > kMaxFrame) {  // not our protocol: another service holds the port
        close_connection();
        throw UserError("what answers at " + address() +
                        " is not alexnet's rendezvous store (another service on that port? check "
                        "MASTER_ADDR/MASTER_PORT or --store-host/--store-port)");
      }
      buffer.assign(length, 0);
      have = 0;
      header = false;
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left_until(deadline).count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      close_connection();  // a late reply would put the stream out of step
      silent_ = "no answer from the rendezvous store at " + address() + " (rank 0) within " +
                seconds_text(timeout_) + " (--timeout)";
      throw StoreSilent(silent_);
    }
    const ssize_t n = recv(fd_, buffer.data() + have, buffer.size() - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_connection();
      throw PeerLost(lost);
    }
    have += n;
  }
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// gloo::rendezvous::Store

void TcpStore::set(const std::string& key, const std::vector<char>& data) {
  request(Writer().u8(static_cast<uint8_t>(Op::kSet)).str(key).blob(data).frame(), timeout_ + kGrace);
}

double TcpStore::server_clock_ms() {
  const std::vector<char> answer =
      request(Writer().u8(static_cast<uint8_t>(Op::kClock)).frame(), timeout_ + kGrace);
  Reader r(answer);
  CHECK(static_cast<Reply>(r.u8()) == Reply::kValue) << "rendezvous store: no clock";
  const std::vector<char> text = r.blob();
  return std::stod(std::string(text.begin(), text.end())) / 1e6;
}

std::vector<char> TcpStore::get(const std::string& key) {
  wait({key});
  const std::vector<char> answer =
      request(Writer().u8(static_cast<uint8_t>(Op::kGet)).str(key).frame(), timeout_ + kGrace);
  Reader r(answer);
  CHECK(static_cast<Reply>(r.u8()) == Reply::kValue) << "rendezvous store: key '" << key << "' vanished";
  return r.blob();
}

void TcpStore::wait(const std::vector<std::string>& keys) {
  wait(keys, timeout_);
}

void TcpStore::wait(const std::vector<std::string>& keys, const milliseconds& timeout) {
  Writer w;
  w.u8(static_cast<uint8_t>(Op::kWait)).u32(static_cast<uint32_t>(keys.size()));
  for (const std::string& k : keys) w.str(k);
  w.i64(timeout.count());
  const std::vector<char> answer = request(w.frame(), timeout + kGrace);
  Reader r(answer);
  if (static_cast<Reply>(r.u8()) == Reply::kOk) return;
  std::string absent;
  for (uint32_t n = r.u32(); n > 0; --n) absent += (absent.empty() ? "" : ", ") + r.str();
  throw StoreTimeout("no answer within " + seconds_text(timeout) + " (--timeout): the rendezvous store at " +
                     address() + " still lacks " + absent);
}

// ---------------------------------------------------------------------------------------------
// Who is there, who is lost

TcpStore::Roster TcpStore::roster(int64_t after_version, milliseconds wait) {
  const std::vector<char> answer =
      request(Writer().u8(static_cast<uint8_t>(Op::kRoster)).i64(after_version).i64(wait.count()).frame(),
              wait + kGrace);
  Reader r(answer);
  CHECK(static_cast<Reply>(r.u8()) == Reply::kRoster);
  Roster roster;
  roster.version = r.i64();
  for (uint32_t n = r.u32(); n > 0; --n) {
    Member m;
    m.rank = r.i32();
    m.world_size = r.i32();
    m.towers = r.i32();
    m.address = r.str();
    roster.members.push_back(m);
  }
  for (uint32_t n = r.u32(); n > 0; --n) roster.lost.push_back(r.i32());
  for (uint32_t n = r.u32(); n > 0; --n) roster.departed.push_back(r.i32());
  for (uint32_t n = r.u32(); n > 0; --n) roster.conflicts.push_back(r.str());
  for (uint32_t n = r.u32(); n > 0; --n) {
    Roster::Stuck s;
    s.rank = r.i32();
    s.group = r.str();
    s.operation = r.str();
    for (uint32_t m = r.u32(); m > 0; --m) s.members.push_back(r.i32());
    roster.stuck.push_back(std::move(s));
  }
  return roster;
}

void TcpStore::announce_stuck(const Roster::Stuck& stuck, milliseconds within) {
  Writer w;
  w.u8(static_cast<uint8_t>(Op::kStuck)).str(stuck.group).str(stuck.operation);
  w.u32(static_cast<uint32_t>(stuck.members.size()));
  for (int rank : stuck.members) w.i32(rank);
  request(w.frame(), within);  // answered at once by a store that is alive
}

}  // namespace alexnet
