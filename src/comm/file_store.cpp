// The rendezvous in a folder: arrival, the roster read from files and locks, the keys through
// Gloo's FileStore, and the goodbye.
#include "comm/file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <gloo/common/error.h>
#include <gloo/rendezvous/file_store.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/errors.h"

namespace alexnet {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

// How often a wait looks at the folder again (Gloo's FileStore polls at the same rate).
constexpr milliseconds kPoll(10);
// How long rank 0 waits, at most, for the other ranks' goodbyes at a normal end.
constexpr milliseconds kLinger(10000);

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Whether some process holds `path`'s lock. A shared probe: probes never block each other, only a
// rank's exclusive lock blocks them.
bool lock_held(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);  // drops the probe's lock
  return held;
}

// A flock() for as long as this lives, on a folder (arrivals take one at a time) or a file.
class Flock {
 public:
  explicit Flock(const std::string& path) : fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0 || flock(fd_, LOCK_EX) != 0)
      throw UserError("--store-dir: cannot lock " + path + ": " + std::strerror(errno));
  }
  ~Flock() { close(fd_); }
  Flock(const Flock&) = delete;
  Flock& operator=(const Flock&) = delete;

 private:
  int fd_;
};

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& e : fs::directory_iterator(dir, error)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// "rank-12.hello" -> 12 with kind "hello"; -1 for any other name.
int rank_of(const std::string& name, std::string& kind) {
  int rank = -1, used = 0;
  char what[16] = {};
  if (std::sscanf(name.c_str(), "rank-%d.%15s%n", &rank, what, &used) != 2 || used != int(name.size()))
    return -1;
  kind = what;
  return rank;
}

// Makes the temporary names of writes from threads of one process (tests) differ too.
std::atomic<int> writes{0};

// Gloo's FileStore, with its check for keys open to us: we wait ourselves (see file_store.h).
class KeyFiles : public gloo::rendezvous::FileStore {
 public:
  using FileStore::FileStore;
  std::vector<std::string> missing(const std::vector<std::string>& keys) {
    std::vector<std::string> absent;
    for (const std::string& k : keys)
      if (!check({k})) absent.push_back(k);
    return absent;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Arriving and leaving

FileRendezvous::FileRendezvous(const std::string& dir, int rank, int world_size, int towers,
                               milliseconds timeout, std::string host)
    : Rendezvous(rank, world_size, towers, timeout), dir_(dir), host_(host.empty() ? this_host() : host) {
  if (dir_.empty()) throw UserError("--store-dir is empty");
  std::error_code error;
  const bool created = fs::create_directories(dir_, error);
  if (error) throw UserError("--store-dir: cannot create the folder " + dir_ + ": " + error.message());
  if (!fs::is_directory(dir_)) throw UserError("--store-dir " + dir_ + " is not a folder");
  arrive(created);
  try {
    keys_ = std::make_unique<KeyFiles>(path("keys"));
  } catch (const std::exception& e) {  // Gloo's EnforceNotMet: realpath() failed
    vanish();
    throw UserError("--store-dir: cannot use " + path("keys") + ": " + e.what());
  }
}

// Under the folder's lock, so that arrivals (and their look for leftovers) come one at a time: a
// rank never sees another half arrived.
void FileRendezvous::arrive(bool created) {
  Flock arrivals(dir_);
  // An earlier job's leftovers, told from a rank of this job that died while starting (which leaves
  // the same files, its lock free): the job's other ranks hold their locks all along, so files in a
  // folder this rank did not create while no lock in it is held belong to no running job. The one
  // case read wrong, every rank that had arrived dying before the next came, ends the job either way.
  if (!created) {
    const std::vector<std::string> names = entries(dir_);
    bool in_use = false;
    for (const std::string& n : names) {
      std::string kind;
      if (rank_of(n, kind) >= 0 && kind == "lock" && lock_held(path(n))) in_use = true;
    }
    if (!names.empty() && !in_use) {
      // Name a rank's file rather than Gloo's keys/ folder, where there is one.
      const auto shown =
          std::find_if(names.begin(), names.end(), [](const std::string& n) { return n != "keys"; });
      throw UserError("--store-dir " + dir_ + " already holds files (" +
                      (shown != names.end() ? *shown : names.front()) + (names.size() > 1 ? ", ..." : "") +
                      ") that no running rank holds: an earlier job's? Give each job a fresh folder "
                      "(e.g. mktemp -d), or remove it");
    }
  }
  const std::string me = "rank-" + std::to_string(rank_);
  const std::string claimant = "pid " + std::to_string(getpid()) + " on " + host_;
  lock_fd_ = open(path(me + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    throw UserError("--store-dir: cannot create " + path(me + ".lock") + ": " + std::strerror(errno));
  // Taken: by a live process (its lock), or by one that arrived and ended (its hello).
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0 || fs::exists(path(me + ".hello"))) {
    close(lock_fd_);
    lock_fd_ = -1;
    std::istringstream hello(read_file(path(me + ".hello")));
    int world = 0, towers = 0, pid = 0;
    std::string host;
    hello >> world >> towers >> pid >> host;
    const std::string holder = pid > 0 ? "pid " + std::to_string(pid) + " on " + host : "another process";
    const std::string conflict = "two processes claim rank " + std::to_string(rank_) + " (from " + holder +
                                 " and " + claimant + "): give each process its own --rank or launcher rank";
    write_atomically(
        "conflict-" + std::to_string(rank_) + "-" + std::to_string(getpid()) + "-" + std::to_string(writes++),
        conflict);
    throw UserError(conflict);
  }
  try {
    write_atomically(me + ".hello", std::to_string(world_size_) + " " + std::to_string(towers_) + " " +
                                        std::to_string(getpid()) + " " + host_ + "\n");
  } catch (...) {
    vanish();
    throw;
  }
  std::error_code error;
  fs::create_directory(path("keys"), error);
}

FileRendezvous::~FileRendezvous() {
  if (lock_fd_ < 0) return;  // vanished
  try {
    write_atomically("rank-" + std::to_string(rank_) + ".bye", "");
    if (rank_ == 0) linger_then_clean_up();
  } catch (const std::exception& e) {
    LOG(WARNING) << "rank " << rank_ << " could not say goodbye in " << dir_ << ": " << e.what();
  }
  close(lock_fd_);  // after the goodbye: a free lock with no goodbye means lost
}

// Waits (bounded) until every rank that arrived has said goodbye, then, if all world_size ranks
// did, removes the folder. A job where some rank was lost, is stuck or never came did not end
// normally: its folder stays (the next job there is refused), and no rank is waited for then.
void FileRendezvous::linger_then_clean_up() {
  const Clock::time_point deadline = Clock::now() + std::min(timeout_, kLinger);
  const auto all_gone = [](const Roster& r) { return r.departed.size() == r.members.size(); };
  Roster r = roster();
  while (!all_gone(r) && r.lost.empty() && r.stuck.empty() && Clock::now() < deadline)
    r = roster(r.version, left_until(deadline));
  if (!all_gone(r) || static_cast<int>(r.departed.size()) < world_size_) return;
  std::error_code error;
  for (const std::string& n : entries(path("keys"))) fs::remove(path("keys/" + n), error);
  fs::remove(path("keys"), error);
  for (const std::string& n : entries(dir_)) {
    std::string kind;
    if (rank_of(n, kind) >= 0 || n.starts_with("conflict-") || n.starts_with(".tmp-"))
      fs::remove(path(n), error);
  }
  if (!fs::remove(dir_, error)) LOG(WARNING) << "rank 0 left " << dir_ << ": " << error.message();
}

void FileRendezvous::vanish() {
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

void FileRendezvous::write_atomically(const std::string& name, const std::string& text) const {
  const std::string tmp = path(".tmp-" + std::to_string(getpid()) + "-" + std::to_string(writes++));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw UserError("--store-dir: cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path(name).c_str()) != 0)
    throw UserError("--store-dir: cannot write " + path(name) + ": " + std::strerror(errno));
}

// ---------------------------------------------------------------------------------------------
// Keys, through Gloo's FileStore

void FileRendezvous::set(const std::string& key, const std::vector<char>& data) {
  keys_->set(key, data);
}

std::vector<char> FileRendezvous::get(const std::string& key) {
  wait({key});
  return keys_->get(key);
}

void FileRendezvous::wait(const std::vector<std::string>& keys) {
  wait(keys, timeout_);
}

void FileRendezvous::wait(const std::vector<std::string>& keys, const milliseconds& timeout) {
  auto& files = static_cast<KeyFiles&>(*keys_);
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    const std::vector<std::string> absent = files.missing(keys);
    if (absent.empty()) return;
    if (Clock::now() >= deadline) {
      std::string names;
      for (const std::string& k : absent) names += (names.empty() ? "" : ", ") + k;
      throw StoreTimeout("no answer within " + seconds_text(timeout) + " (--timeout): " + where() +
                         " still lacks " + names);
    }
    std::this_thread::sleep_for(std::min(kPoll, left_until(deadline)));
  }
}

// ---------------------------------------------------------------------------------------------
// The roster, from the files

void FileRendezvous::announce_stuck(const Roster::Stuck& stuck, milliseconds) {
  std::string text = stuck.group + "\n" + stuck.operation + "\n";
  for (int rank : stuck.members) text += std::to_string(rank) + " ";
  write_atomically("rank-" + std::to_string(rank_) + ".stuck", text + "\n");
}

Rendezvous::Roster FileRendezvous::scan() const {
  Roster r;
  std::map<int, std::string> hosts;
  for (const std::string& n : entries(dir_)) {
    std::string kind;
    const int rank = rank_of(n, kind);
    if (n.starts_with("conflict-")) r.conflicts.push_back(read_file(path(n)));
    if (rank < 0) continue;
    if (kind == "hello") {
      std::istringstream hello(read_file(path(n)));
      Member m;
      int pid = 0;
      std::string host;
      m.rank = rank;
      hello >> m.world_size >> m.towers >> pid >> host;
      m.address = "pid " + std::to_string(pid) + " on " + host;
      r.members.push_back(m);
      hosts[rank] = host;
      // The lock first, then the goodbye: a rank writes its goodbye before it lets go of its lock.
      if (!lock_held(path("rank-" + std::to_string(rank) + ".lock"))) {
        if (fs::exists(path("rank-" + std::to_string(rank) + ".bye"))) {
          r.departed.push_back(rank);
        } else {
          r.lost.push_back(rank);
        }
      }
    } else if (kind == "bye" && lock_held(path("rank-" + std::to_string(rank) + ".lock"))) {
      r.departed.push_back(rank);  // said goodbye, not yet gone
    } else if (kind == "stuck") {
      std::istringstream text(read_file(path(n)));
      Roster::Stuck s;
      s.rank = rank;
      std::getline(text, s.group);
      std::getline(text, s.operation);
      for (int m; text >> m;) s.members.push_back(m);
      r.stuck.push_back(std::move(s));
    }
  }
  // Ranks on another host: the folder cannot tell whether their processes live (a lock on a shared
  // filesystem need not reach across machines).
  for (const auto& [rank, host] : hosts) {
    if (host != host_) {
      r.conflicts.push_back("the file store (--store-dir " + dir_ + ") is for the ranks of one host: rank " +
                            std::to_string(rank) + " runs on " + host + ", rank " + std::to_string(rank_) +
                            " on " + host_ +
                            "; use the TCP store for several hosts (MASTER_ADDR / --store-host)");
      break;
    }
  }
  std::sort(r.members.begin(), r.members.end(),
            [](const Member& a, const Member& b) { return a.rank < b.rank; });
  std::sort(r.lost.begin(), r.lost.end());
  std::sort(r.departed.begin(), r.departed.end());
  r.departed.erase(std::unique(r.departed.begin(), r.departed.end()), r.departed.end());
  std::sort(r.stuck.begin(), r.stuck.end(),
            [](const Roster::Stuck& a, const Roster::Stuck& b) { return a.rank < b.rank; });
  // Each of these only grows over a job, so their sum does too.
  r.version = static_cast<int64_t>(r.members.size() + r.lost.size() + r.departed.size() + r.conflicts.size() +
                                   r.stuck.size());
  return r;
}

Rendezvous::Roster FileRendezvous::roster(int64_t after_version, milliseconds wait) {
  const Clock::time_point deadline = Clock::now() + wait;
  for (;;) {
    Roster r = scan();
    if (r.version > after_version || Clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::min(kPoll, left_until(deadline)));
  }
}

}  // namespace alexnet
