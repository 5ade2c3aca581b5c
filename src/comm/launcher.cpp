#include "comm/launcher.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/errors.h"

extern char** environ;

namespace alexnet {

namespace {

using Clock = std::chrono::steady_clock;

// The signals the launcher passes on to its ranks, and the one that tells it a rank ended.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kHandled[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

// The variables each rank gets; any the launcher itself inherited are replaced.
constexpr const char* kRankVariables[] = {"RANK",        "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                                          "MASTER_ADDR", "MASTER_PORT"};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// Now plus `s` seconds; at most a few years ahead, where the clock's count would overflow.
Clock::time_point after(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::min(s, 1e8)));
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

// Writes all of `text`, giving up quietly when `fd` is gone: the ranks must still be waited for.
void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void say(const LaunchOptions& o, const std::string& line) {
  write_all(o.err_fd, "alexnet launch: " + line + "\n");
}

// ---- signals ----------------------------------------------------------------------------------

// Signal handlers write the signal's number into a pipe that the main loop polls (the self-pipe
// trick): nothing but a write happens inside the handler, and a signal arriving just before
// poll() still wakes it. One launcher at a time; the previous handlers come back afterwards.
int relay_write_fd = -1;

void relay_signal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(relay_write_fd, &byte, 1);
  errno = saved;
}

class SignalRelay {
 public:
  SignalRelay() {
    CHECK(relay_write_fd < 0) << "one launcher at a time";
    int fds[2];
    PCHECK(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read_fd_ = fds[0];
    relay_write_fd = fds[1];
    struct sigaction action {};
    action.sa_handler = relay_signal;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kHandled); ++i) sigaction(kHandled[i], &action, &old_[i]);
  }
  ~SignalRelay() {
    for (size_t i = 0; i < std::size(kHandled); ++i) sigaction(kHandled[i], &old_[i], nullptr);
    ::close(read_fd_);
    ::close(relay_write_fd);
    relay_write_fd = -1;
  }
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  int fd() const { return read_fd_; }
  // The signals received since the last call, in order.
  std::vector<int> take() {
    std::vector<int> sigs;
    unsigned char buf[64];
    ssize_t n;
    while ((n = ::read(read_fd_, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      for (ssize_t i = 0; i < n; ++i) sigs.push_back(buf[i]);
    return sigs;
  }

 private:
  int read_fd_ = -1;
  struct sigaction old_[std::size(kHandled)];
};

// ---- ranks ------------------------------------------------------------------------------------

struct Rank {
  int index = 0;
  pid_t pid = -1;
  bool running = false;
  int status = 0;                   // once ended: the exit status, or 128 + the signal that killed it
  int fd[2] = {-1, -1};             // read ends of the rank's stdout and stderr
  std::vector<LinePrefixer> lines;  // one per stream
};

// The launcher's environment without the rank variables, then those of rank `r`.
std::vector<std::string> rank_environment(int r, const LaunchOptions& o, int port) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool ours = false;
    for (const char* name : kRankVariables) ours |= entry.starts_with(std::string(name) + "=");
    if (!ours) env.push_back(entry);
  }
  const std::string values[] = {std::to_string(r),       std::to_string(o.nproc), std::to_string(r),
                                std::to_string(o.nproc), o.master_addr,           std::to_string(port)};
  for (size_t i = 0; i < std::size(kRankVariables); ++i)
    env.push_back(std::string(kRankVariables[i]) + "=" + values[i]);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (std::string& s : v) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Starts `rank` in a process group of its own (a terminal's Ctrl-C reaches the launcher alone,
// which passes it on once), with stdin from /dev/null, stdout and stderr into pipes, and SIGTERM
// should the launcher die. Returns the exec's errno, or 0 once the program runs.
int spawn(Rank& rank, const std::string& program, std::vector<std::string> argv,
          std::vector<std::string> env) {
  std::vector<char*> args = c_strings(argv), envp = c_strings(env);
  int out[2], err[2], exec_status[2];
  PCHECK(::pipe2(out, O_CLOEXEC) == 0);
  PCHECK(::pipe2(err, O_CLOEXEC) == 0);
  PCHECK(::pipe2(exec_status, O_CLOEXEC) == 0);
  const pid_t launcher = ::getpid();
  // Blocked across fork, so that no signal runs the launcher's handler inside the child.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) {  // the child: async-signal-safe calls only, until exec
    for (int sig : kHandled) ::signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != launcher) ::_exit(128 + SIGTERM);         // the launcher died before prctl
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // dup2 clears it on fd 0
    if (null >= 0) ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(program.c_str(), args.data(), envp.data());
    const int e = errno;
    [[maybe_unused]] ssize_t n = ::write(exec_status[1], &e, sizeof e);
    ::_exit(127);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);
  PCHECK(pid > 0) << "fork";
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_status[1]);
  // The status pipe closes on a successful exec (O_CLOEXEC) or carries exec's errno.
  int e = 0;
  ssize_t n;
  while ((n = ::read(exec_status[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  ::close(exec_status[0]);
  rank.pid = pid;
  rank.fd[0] = out[0];
  rank.fd[1] = err[0];
  for (int f : rank.fd) ::fcntl(f, F_SETFL, ::fcntl(f, F_GETFL) | O_NONBLOCK);
  rank.running = true;
  return n == sizeof e ? e : 0;
}

class Launch {
 public:
  Launch(const LaunchOptions& o, int restart) : o_(o), restart_(restart) {}

  // Whether a signal the launcher passed on (SIGINT, SIGTERM, SIGHUP) came before the failure.
  bool stopped_by_signal() const { return forwarded_; }

  // Starts every rank; on a program that cannot be executed, stops those started and throws.
  void start(const std::string& program, const std::vector<std::string>& argv, int port) {
    for (int r = 0; r < o_.nproc; ++r) {
      Rank& rank = ranks_.emplace_back();
      rank.index = r;
      const std::string prefix = "[rank " + std::to_string(r) + "] ";
      rank.lines = {LinePrefixer(prefix), LinePrefixer(prefix)};
      std::vector<std::string> env = rank_environment(r, o_, port);
      std::erase_if(env, [](const std::string& e) { return e.starts_with("TORCHELASTIC_RESTART_COUNT="); });
      env.push_back("TORCHELASTIC_RESTART_COUNT=" + std::to_string(restart_));  // as torchrun sets it
      if (const int e = spawn(rank, program, argv, env)) {
        // Those started have done nothing yet: no need to hear from them.
        for (Rank& started : ranks_) {
          ::kill(started.pid, SIGKILL);
          wait_for(started.pid);
          for (int f : started.fd) ::close(f);
        }
        throw std::runtime_error("cannot execute " + program + ": " + std::strerror(e));
      }
    }
  }

  // Relays output and signals until every rank has ended; returns the first failure's status.
  int run(SignalRelay& relay) {
    while (running() > 0) {
      std::vector<pollfd> fds = {{relay.fd(), POLLIN, 0}};
      for (const Rank& rank : ranks_)
        for (int f : rank.fd)
          if (f >= 0) fds.push_back({f, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), timeout_ms()) < 0 && errno != EINTR) PLOG(FATAL) << "poll";
      for (int sig : relay.take())
        if (sig != SIGCHLD) forward(sig);
      for (Rank& rank : ranks_) {
        for (int s = 0; s < 2; ++s)
          if (rank.fd[s] >= 0) read_some(rank, s);
        if (!rank.running) continue;
        int status = 0;
        const pid_t done = ::waitpid(rank.pid, &status, WNOHANG);
        if (done == rank.pid) end(rank, status);
      }
      escalate();
    }
    return first_failure_.value_or(0);
  }

 private:
  int running() const {
    int n = 0;
    for (const Rank& rank : ranks_) n += rank.running;
    return n;
  }

  static int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }

  void signal_all(int sig) {
    for (const Rank& rank : ranks_)
      if (rank.running) ::kill(rank.pid, sig);
  }

  // Reads what is there from stream `s` (0: stdout, 1: stderr); at its end, closes it.
  void read_some(Rank& rank, int s) {
    char buf[65536];
    const int to = s == 0 ? o_.out_fd : o_.err_fd;
    auto emit = [&](const std::string& line) { write_all(to, line); };
    for (;;) {
      const ssize_t n = ::read(rank.fd[s], buf, sizeof buf);
      if (n > 0) {
        rank.lines[s].feed(buf, static_cast<size_t>(n), emit);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      rank.lines[s].finish(emit);
      ::close(rank.fd[s]);
      rank.fd[s] = -1;
      return;
    }
  }

  // A rank has ended: what it wrote last comes out first, then the launcher's word on it.
  void end(Rank& rank, int wait_status) {
    rank.running = false;
    // Whatever the rank wrote is in the pipes now; a child of its own holding them open must
    // not keep the launcher waiting, so take what is there and stop listening.
    for (int s = 0; s < 2; ++s) {
      if (rank.fd[s] < 0) continue;
      read_some(rank, s);
      if (rank.fd[s] < 0) continue;
      auto emit = [&](const std::string& line) { write_all(s == 0 ? o_.out_fd : o_.err_fd, line); };
      rank.lines[s].finish(emit);
      ::close(rank.fd[s]);
      rank.fd[s] = -1;
    }
    std::string how;
    if (WIFSIGNALED(wait_status)) {
      rank.status = 128 + WTERMSIG(wait_status);
      how = "was killed by " + signal_name(WTERMSIG(wait_status)) + " (status " +
            std::to_string(rank.status) + ")";
    } else {
      rank.status = WEXITSTATUS(wait_status);
      how = "exited with status " + std::to_string(rank.status);
    }
    if (rank.status == 0) return;
    std::string line = "rank " + std::to_string(rank.index) + " " + how;
    if (!first_failure_) {
      first_failure_ = rank.status;
      if (running() > 0) {
        line += "; waiting for the others (--grace " + seconds(o_.grace_s) + ", then SIGTERM)";
        if (phase_ == Phase::kRunning) {
          phase_ = Phase::kGrace;
          deadline_ = after(o_.grace_s);
        }
      }
    }
    say(o_, line);
  }

  // SIGINT, SIGTERM, SIGHUP go to every running rank; a second SIGINT in quick succession means
  // "now": SIGKILL.
  void forward(int sig) {
    if (running() == 0) return;
    const Clock::time_point now = Clock::now();
    if (sig == SIGINT && last_interrupt_ &&
        now - *last_interrupt_ < std::chrono::duration<double>(o_.double_interrupt_s)) {
      say(o_, "second SIGINT: killing the ranks (SIGKILL)");
      signal_all(SIGKILL);
      return;
    }
    if (sig == SIGINT) last_interrupt_ = now;
    if (!first_failure_) forwarded_ = true;
    std::string line = "passing " + signal_name(sig) + " to the " + std::to_string(running()) +
                       " running rank" + (running() > 1 ? "s" : "");
    if (sig == SIGINT) line += " (another within " + seconds(o_.double_interrupt_s) + " kills them)";
    say(o_, line);
    signal_all(sig);
  }

  // After a failure: SIGTERM once the grace has run out, SIGKILL once the ranks have ignored it.
  void escalate() {
    if (!deadline_ || Clock::now() < *deadline_ || running() == 0) return;
    std::string names;
    for (const Rank& rank : ranks_)
      if (rank.running) names += (names.empty() ? "" : ", ") + std::to_string(rank.index);
    const std::string who = (running() > 1 ? "ranks " : "rank ") + names + " still running ";
    if (phase_ == Phase::kGrace) {
      say(o_, who + seconds(o_.grace_s) + " after the first failure; sending SIGTERM");
      signal_all(SIGTERM);
      phase_ = Phase::kTerminated;
      deadline_ = after(o_.kill_after_s);
    } else {
      say(o_, who + seconds(o_.kill_after_s) + " after SIGTERM; sending SIGKILL");
      signal_all(SIGKILL);
      deadline_.reset();
    }
  }

  int timeout_ms() const {
    if (!deadline_) return -1;
    const auto left = std::chrono::duration<double, std::milli>(*deadline_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::ceil(left));
  }

  enum class Phase { kRunning, kGrace, kTerminated };
  const LaunchOptions& o_;
  int restart_ = 0;
  bool forwarded_ = false;
  std::vector<Rank> ranks_;
  std::optional<int> first_failure_;
  Phase phase_ = Phase::kRunning;
  std::optional<Clock::time_point> deadline_;
  std::optional<Clock::time_point> last_interrupt_;
};

}  // namespace

int free_port(const std::string& addr) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int e = ::getaddrinfo(addr.c_str(), "0", &hints, &found))
    throw UserError("--master-addr '" + addr + "' does not resolve: " + ::gai_strerror(e));
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  int port = -1, e = 0;
  if (fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0)
      port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  e = errno;
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  if (port <= 0)
    throw UserError("--master-addr '" + addr + "': cannot find a free port on it (" + std::strerror(e) +
                    "); is it an address of this machine? (or give --master-port)");
  return port;
}

int launch_ranks(const std::string& program, const std::vector<std::string>& argv,
                 const LaunchOptions& options) {
  if (options.nproc < 1)
    throw UserError("--nproc " + std::to_string(options.nproc) + ": give at least 1 process");
  if (argv.empty()) throw UserError("nothing to launch: give the command after '--'");
  if (options.master_addr.empty()) throw UserError("--master-addr is empty");
  std::string command;
  for (size_t i = 1; i < argv.size(); ++i) command += " " + argv[i];
  SignalRelay relay;  // before the first fork: a signal during the start reaches every rank started
  for (int restart = 0;; ++restart) {
    const int port = options.master_port ? options.master_port : free_port(options.master_addr);
    say(options, std::to_string(options.nproc) + " rank" + (options.nproc > 1 ? "s" : "") + " of" + command +
                     ", MASTER_ADDR=" + options.master_addr + " MASTER_PORT=" + std::to_string(port) +
                     (restart ? " (restart " + std::to_string(restart) + " of " +
                                    std::to_string(options.max_restarts) + ")"
                              : ""));
    Launch launch(options, restart);
    const Clock::time_point started = Clock::now();
    launch.start(program, argv, port);
    const int status = launch.run(relay);
    if (status == 0 || restart >= options.max_restarts) return status;
    if (launch.stopped_by_signal()) return status;  // the user's stop, passed on: not a failure to heal
    if (status == 2) {
      say(options, "not restarting: status 2 is bad input, which a restart would meet again");
      return status;
    }
    say(options, "restarting all " + std::to_string(options.nproc) + " ranks in " +
                     seconds(options.restart_delay_s) + " (restart " + std::to_string(restart + 1) + " of " +
                     std::to_string(options.max_restarts) + "; the failed start ran " +
                     seconds(std::chrono::duration<double>(Clock::now() - started).count()) + ")");
    const Clock::time_point resume_at = after(options.restart_delay_s);
    while (Clock::now() < resume_at) {
      for (int sig : relay.take()) {
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
          say(options, signal_name(sig) + " during the restart delay: not restarting");
          return status;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace alexnet
