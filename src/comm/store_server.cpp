// The rendezvous store's server: one poll() loop over the listening socket and the clients.
#include "comm/store_server.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "comm/store_protocol.h"
#include "core/errors.h"

namespace alexnet {

using namespace store_protocol;

namespace {

std::string peer_of(const sockaddr_storage& addr) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), host, sizeof(host), port,
                  sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return std::string(host) + ":" + port;
}

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

AddrInfoList resolve_store_address(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    throw UserError("cannot resolve the rendezvous store's host '" + host +
                    "' (MASTER_ADDR/--store-host): " + gai_strerror(rc));
  }
  return AddrInfoList(found);
}

// ---------------------------------------------------------------------------------------------
// Start and stop

StoreServer::StoreServer(const std::string& host, int port, std::chrono::milliseconds linger)
    : linger_(linger), stuck_patience_(std::min(linger, std::chrono::milliseconds(kStuckPatienceMs))) {
  AddrInfoList addresses = resolve_store_address(host, port);
  std::string why;
  bool in_use = false;
  for (addrinfo* a = addresses.get(); a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 256) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      in_use = in_use || errno == EADDRINUSE;
      close(fd);
    }
  }
  const std::string where = host + ":" + std::to_string(port);
  if (listen_fd_ < 0) {
    throw UserError("rank 0 cannot serve the rendezvous store at " + where + ": " + why +
                    (in_use ? " (another job's store, or a second process that believes it is rank 0?)"
                            : " (is MASTER_ADDR/--store-host an address of this machine?)"));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  set_nonblocking(listen_fd_);
  CHECK_EQ(pipe2(wake_, O_CLOEXEC | O_NONBLOCK), 0) << std::strerror(errno);
  thread_ = std::thread([this] { serve(); });
}

StoreServer::~StoreServer() {
  linger_deadline_ = Clock::now() + linger_;
  stopping_ = true;
  wake();
  thread_.join();
  for (auto& [fd, connection] : connections_) close(fd);
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void StoreServer::stop_now() {
  stop_now_ = true;
  wake();
  thread_.join();
  thread_ = std::thread([] {});  // the destructor joins it
  for (auto& [fd, connection] : connections_) {
    shutdown(fd, SHUT_RDWR);
    close(fd);
  }
  connections_.clear();
  shutdown(listen_fd_, SHUT_RDWR);
}

void StoreServer::wake() {
  // A full pipe has already woken the loop, so a failed write needs nothing more.
  [[maybe_unused]] const ssize_t n = write(wake_[1], "x", 1);
}

StoreServer::Clock::time_point StoreServer::silent_after() const {
  return stuck_.empty() ? Clock::time_point::max() : last_stuck_ + stuck_patience_;
}

bool StoreServer::ranks_still_awaited(Clock::time_point now) const {
  // A rank stuck in an operation ends within the patience and says goodbye; one that never said it
  // was stuck while the others did is hung, and may never say anything.
  const bool silent_known = now >= silent_after();
  for (const auto& [fd, connection] : connections_)
    if (connection.rank >= 0 && !(silent_known && !connection.said_goodbye && !stuck_.count(connection.rank)))
      return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The loop

void StoreServer::serve() {
  std::vector<pollfd> fds;
  while (!stop_now_) {
    if (stopping_ && (!ranks_still_awaited(Clock::now()) || Clock::now() >= linger_deadline_)) return;
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& [fd, connection] : connections_)
      fds.push_back({fd, static_cast<short>(POLLIN | (connection.out.empty() ? 0 : POLLOUT)), 0});

    // Sleep until a descriptor is ready or the earliest parked request (or the linger) expires.
    Clock::time_point until = Clock::time_point::max();
    for (const Parked& p : parked_) until = std::min(until, p.deadline);
    if (stopping_) {
      until = std::min(until, linger_deadline_);
      if (silent_after() > Clock::now()) until = std::min(until, silent_after());
    }
    int timeout_ms = -1;
    if (until != Clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left + 1, 0, 60000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) PLOG(FATAL) << "store: poll";

    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (read(wake_[0], drain, sizeof(drain)) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) accept_one();
    for (size_t i = 2; i < fds.size(); ++i) {
      const int fd = fds[i].fd;
      if (connections_.count(fd) && (fds[i].revents & POLLOUT)) flush(fd);
      if (connections_.count(fd) && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) read_from(fd);
    }
    settle(/*expire=*/true);
  }
}

void StoreServer::accept_one() {
  sockaddr_storage addr{};
  socklen_t length = sizeof(addr);
  const int fd =
      accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;  // the client gave up already; it will retry
  connections_[fd].peer = peer_of(addr);
}

void StoreServer::read_from(int fd) {
  Connection& c = connections_.at(fd);
  char chunk[65536];
  for (;;) {
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      c.in.insert(c.in.end(), chunk, chunk + n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    close_connection(fd);  // closed by the peer, or reset
    return;
  }
  // Handle every complete frame; a frame that claims too much is not one of ours.
  size_t at = 0;
  while (c.in.size() - at >= 4) {
    uint32_t length;
    std::memcpy(&length, c.in.data() + at, 4);
    length = ntohl(length);
    if (length > kMaxFrame) {
      LOG(WARNING) << "rendezvous store: dropping " << c.peer << ", which sent a frame of " << length
                   << " bytes";
      close_connection(fd);
      return;
    }
    if (c.in.size() - at - 4 < length) break;
    const std::vector<char> message(c.in.begin() + at + 4, c.in.begin() + at + 4 + length);
    at += 4 + length;
    try {
      handle(fd, message);
    } catch (const std::runtime_error& e) {  // a truncated message
      LOG(WARNING) << "rendezvous store: dropping " << c.peer << ": " << e.what();
      close_connection(fd);
      return;
    }
  }
  c.in.erase(c.in.begin(), c.in.begin() + at);
}

void StoreServer::close_connection(int fd) {
  const Connection& c = connections_.at(fd);
  if (c.rank >= 0 && !c.said_goodbye) {
    lost_.insert(c.rank);
    ++version_;
  }
  close(fd);
  connections_.erase(fd);
  parked_.erase(std::remove_if(parked_.begin(), parked_.end(), [fd](const Parked& p) { return p.fd == fd; }),
                parked_.end());
  settle(/*expire=*/false);
}

void StoreServer::reply(int fd, const std::vector<char>& frame) {
  Connection& c = connections_.at(fd);
  c.out.insert(c.out.end(), frame.begin(), frame.end());
  flush(fd);
}

void StoreServer::flush(int fd) {
  Connection& c = connections_.at(fd);
  while (!c.out.empty()) {
    const ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return;  // EAGAIN: poll says when; an error: the read side sees the close
    c.out.erase(c.out.begin(), c.out.begin() + n);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

void StoreServer::handle(int fd, const std::vector<char>& message) {
  Reader r(message);
  Connection& c = connections_.at(fd);
  const auto op = static_cast<Op>(r.u8());
  switch (op) {
    case Op::kHello: {
      TcpStore::Member m;
      m.rank = r.i32();
      m.world_size = r.i32();
      m.towers = r.i32();
      m.address = c.peer;
      auto it = members_.find(m.rank);
      if (it != members_.end()) {
        const std::string conflict = "two processes claim rank " + std::to_string(m.rank) + " (from " +
                                     it->second.address + " and " + m.address +
                                     "): give each process its own --rank or launcher rank";
        conflicts_.push_back(conflict);
        ++version_;
        reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kError)).str(conflict).frame());
      } else {
        members_[m.rank] = m;
        c.rank = m.rank;
        ++version_;
        reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kOk)).frame());
      }
      break;
    }
    case Op::kSet: {
      const std::string key = r.str();
      values_[key] = r.blob();
      reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kOk)).frame());
      break;
    }
    case Op::kGet: {
      auto it = values_.find(r.str());
      if (it == values_.end()) {
        reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kError)).str("no such key").frame());
      } else {
        reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kValue)).blob(it->second).frame());
      }
      break;
    }
    case Op::kWait: {
      Parked p{fd, false, {}, 0, {}};
      for (uint32_t n = r.u32(); n > 0; --n) p.keys.push_back(r.str());
      p.deadline = Clock::now() + std::chrono::milliseconds(r.i64());
      parked_.push_back(std::move(p));
      break;
    }
    case Op::kRoster: {
      Parked p{fd, true, {}, r.i64(), {}};
      p.deadline = Clock::now() + std::chrono::milliseconds(r.i64());
      parked_.push_back(std::move(p));
      break;
    }
    case Op::kClock: {  // for aligning the ranks' traces (train/trace.h)
      const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
      reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kValue)).str(std::to_string(ns)).frame());
      break;
    }
    case Op::kBye:
      c.said_goodbye = true;
      if (c.rank >= 0) {
        departed_.insert(c.rank);
        ++version_;
      }
      reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kOk)).frame());
      break;
    case Op::kStuck: {
      TcpStore::Roster::Stuck s;
      s.rank = c.rank;
      s.group = r.str();
      s.operation = r.str();
      for (uint32_t n = r.u32(); n > 0; --n) s.members.push_back(r.i32());
      if (c.rank >= 0) {
        stuck_[c.rank] = std::move(s);
        last_stuck_ = Clock::now();
        ++version_;
      }
      reply(fd, Writer().u8(static_cast<uint8_t>(Reply::kOk)).frame());
      break;
    }
    default:
      throw std::runtime_error("unknown request " + std::to_string(static_cast<int>(op)));
  }
  settle(/*expire=*/false);
}

std::vector<std::string> StoreServer::missing(const std::vector<std::string>& keys) const {
  std::vector<std::string> absent;
  for (const std::string& k : keys)
    if (!values_.count(k)) absent.push_back(k);
  return absent;
}

std::vector<char> StoreServer::roster_frame() const {
  Writer w;
  w.u8(static_cast<uint8_t>(Reply::kRoster)).i64(version_).u32(static_cast<uint32_t>(members_.size()));
  for (const auto& [rank, m] : members_) w.i32(m.rank).i32(m.world_size).i32(m.towers).str(m.address);
  w.u32(static_cast<uint32_t>(lost_.size()));
  for (int rank : lost_) w.i32(rank);
  w.u32(static_cast<uint32_t>(departed_.size()));
  for (int rank : departed_) w.i32(rank);
  w.u32(static_cast<uint32_t>(conflicts_.size()));
  for (const std::string& c : conflicts_) w.str(c);
  w.u32(static_cast<uint32_t>(stuck_.size()));
  for (const auto& [rank, s] : stuck_) {
    w.i32(rank).str(s.group).str(s.operation).u32(static_cast<uint32_t>(s.members.size()));
    for (int m : s.members) w.i32(m);
  }
  return w.frame();
}

void StoreServer::settle(bool expire) {
  const Clock::time_point now = Clock::now();
  std::vector<Parked> still;
  std::vector<Parked> parked;
  parked.swap(parked_);
  for (Parked& p : parked) {
    if (!connections_.count(p.fd)) continue;
    if (p.roster) {
      if (version_ > p.after_version || (expire && now >= p.deadline)) {
        reply(p.fd, roster_frame());
        continue;
      }
    } else {
      const std::vector<std::string> absent = missing(p.keys);
      if (absent.empty()) {
        reply(p.fd, Writer().u8(static_cast<uint8_t>(Reply::kOk)).frame());
        continue;
      }
      if (expire && now >= p.deadline) {
        Writer w;
        w.u8(static_cast<uint8_t>(Reply::kTimeout)).u32(static_cast<uint32_t>(absent.size()));
        for (const std::string& k : absent) w.str(k);
        reply(p.fd, w.frame());
        continue;
      }
    }
    still.push_back(std::move(p));
  }
  // reply() never parks, so parked_ is still empty here.
  parked_ = std::move(still);
}

}  // namespace alexnet
