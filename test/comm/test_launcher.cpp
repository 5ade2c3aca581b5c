// The launcher core (comm/launcher.h) with /bin/sh scripts as its ranks. Each launch runs in a
// child of the test process, so that its signal handlers and children stay out of the test, and
// signals can be sent to it as to `alexnet launch`. Ranks and test synchronise through files and
// the launcher's own messages, never through sleeps.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "comm/launcher.h"
#include "core/errors.h"
#include "data_testing.h"
#include "testing.h"

namespace alexnet {
namespace {

using testing::TempDir;

struct Launched {
  int status = -1;  // the launcher's exit status (128 + s when signal s killed it)
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs launch_ranks(program, argv, o) in a child process with its output in `dir`; `meanwhile`
// gets the launcher's pid while it runs. A launcher still running after 120 s dies of SIGALRM
// (its ranks follow by their parent-death signal), so a hang fails the test instead of stalling it.
Launched launch(const std::string& program, const std::vector<std::string>& argv, LaunchOptions o,
                const TempDir& dir, const std::function<void(pid_t)>& meanwhile = {}) {
  const std::string out = dir.file("out"), err = dir.file("err");
  const pid_t pid = ::fork();
  if (pid == 0) {
    o.out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    o.err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ::alarm(120);
    int status = 250;
    try {
      status = launch_ranks(program, argv, o);
    } catch (const std::exception& e) {
      const std::string line = std::string("threw: ") + e.what() + "\n";
      [[maybe_unused]] ssize_t n = ::write(o.err_fd, line.data(), line.size());
    }
    ::_exit(status);
  }
  if (meanwhile) meanwhile(pid);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  Launched r;
  r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

Launched launch_sh(const std::string& script, LaunchOptions o, const TempDir& dir,
                   const std::function<void(pid_t)>& meanwhile = {}) {
  return launch("/bin/sh", {"sh", "-c", script}, o, dir, meanwhile);
}

LaunchOptions ranks(int n) {
  LaunchOptions o;
  o.nproc = n;
  return o;
}

// Waits (up to a minute) until `path` exists: what a rank writes once it is ready.
void wait_for_file(const std::string& path) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(path)) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << path << " never appeared";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The lines of `text` that carry `prefix`, each kept with its '\n' or '\r'.
std::string lines_of(const std::string& text, const std::string& prefix) {
  std::string kept;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of("\n\r", start);
    end = end == std::string::npos ? text.size() : end + 1;
    const std::string line = text.substr(start, end - start);
    if (line.starts_with(prefix)) kept += line;
    start = end;
  }
  return kept;
}

// ---- lines ------------------------------------------------------------------------------------

TEST(LinePrefixer, KeepsEachLineEndAndEndsTheLastLine) {
  LinePrefixer p("[rank 3] ");
  std::vector<std::string> lines;
  auto emit = [&](const std::string& line) { lines.push_back(line); };
  p.feed("a", 1, emit);
  EXPECT_TRUE(lines.empty()) << "a line is held until it ends";
  p.feed("\nstep 1\rstep 2\r\nta", 18, emit);
  p.feed("il", 2, emit);
  p.finish(emit);
  EXPECT_EQ(lines, (std::vector<std::string>{"[rank 3] a\n", "[rank 3] step 1\r", "[rank 3] step 2\r",
                                             "[rank 3] \n", "[rank 3] tail\n"}));
  p.finish(emit);
  EXPECT_EQ(lines.size(), 5u) << "nothing pending, nothing more";
}

// ---- what each rank gets ----------------------------------------------------------------------

TEST(Launcher, EveryRankGetsTorchrunsVariablesAndOnePort) {
  TempDir dir;
  ::setenv("RANK", "99", 1);  // the launcher's own are replaced, not passed on
  Launched r = launch_sh(
      "echo \"R=$RANK W=$WORLD_SIZE L=$LOCAL_RANK LW=$LOCAL_WORLD_SIZE A=$MASTER_ADDR P=$MASTER_PORT\"",
      ranks(3), dir);
  ::unsetenv("RANK");
  EXPECT_EQ(r.status, 0) << r.err;
  std::set<std::string> ports;
  for (int k = 0; k < 3; ++k) {
    const std::string prefix = "[rank " + std::to_string(k) + "] ";
    const std::string line = lines_of(r.out, prefix);
    const std::string want =
        prefix + "R=" + std::to_string(k) + " W=3 L=" + std::to_string(k) + " LW=3 A=127.0.0.1 P=";
    ASSERT_TRUE(line.starts_with(want)) << r.out;
    const int port = std::stoi(line.substr(want.size()));
    EXPECT_GT(port, 0);
    EXPECT_LE(port, 65535);
    ports.insert(line.substr(want.size()));
  }
  EXPECT_EQ(ports.size(), 1u) << "every rank meets on one port: " << r.out;
  EXPECT_NE(r.err.find("3 ranks of -c"), std::string::npos) << r.err;
}

TEST(Launcher, GivenAddressAndPortArePassedOn) {
  TempDir dir;
  LaunchOptions o = ranks(2);
  o.master_addr = "localhost";
  o.master_port = 29517;
  Launched r = launch_sh("echo \"$MASTER_ADDR:$MASTER_PORT\"", o, dir);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(r.out, "[rank 1] "), "[rank 1] localhost:29517\n");
}

TEST(Launcher, PrefixesEveryLineOfBothStreams) {
  TempDir dir;
  Launched r = launch_sh("printf 'out one\\nprogress 1\\rprogress 2\\rlast'; printf 'err one\\nerr tail' >&2",
                         ranks(2), dir);
  EXPECT_EQ(r.status, 0) << r.err;
  for (int k = 0; k < 2; ++k) {
    const std::string p = "[rank " + std::to_string(k) + "] ";
    EXPECT_EQ(lines_of(r.out, p), p + "out one\n" + p + "progress 1\r" + p + "progress 2\r" + p + "last\n")
        << r.out;
    EXPECT_EQ(lines_of(r.err, p), p + "err one\n" + p + "err tail\n") << r.err;
  }
  EXPECT_EQ(lines_of(r.out, "[rank ").size(), r.out.size()) << "no line without its prefix: " << r.out;
}

// More than a pipe holds (64 KiB): every line arrives once, whole, in order.
TEST(Launcher, RelaysLargeOutputWhole) {
  TempDir dir;
  Launched r = launch_sh("seq 1 30000", ranks(2), dir);
  EXPECT_EQ(r.status, 0) << r.err;
  for (int k = 0; k < 2; ++k) {
    const std::string p = "[rank " + std::to_string(k) + "] ";
    std::string want;
    for (int i = 1; i <= 30000; ++i) want += p + std::to_string(i) + "\n";
    EXPECT_TRUE(lines_of(r.out, p) == want) << "rank " << k << "'s 30000 lines differ";
  }
}

// ---- exit status ------------------------------------------------------------------------------

// Rank 1 fails first; rank 0 fails too, but only once the launcher has said a rank failed (the
// [f] keeps grep from finding its own words in the launcher's first line, which shows the script).
TEST(Launcher, ExitsWithTheFirstFailuresStatus) {
  TempDir dir;
  const std::string script = "case $RANK in 1) exit 3;; esac; until grep -q 'waiting [f]or the others' " +
                             dir.file("err") + "; do sleep 0.02; done; [ $RANK = 0 ] && exit 7; exit 0";
  Launched r = launch_sh(script, ranks(3), dir);
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("rank 1 exited with status 3; waiting for the others (--grace 360 s, then SIGTERM)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("rank 0 exited with status 7\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("rank 2 exited"), std::string::npos)
      << "a rank that succeeds is not reported: " << r.err;
}

TEST(Launcher, RankKilledBySignalCountsAs128PlusSignal) {
  TempDir dir;
  Launched r = launch_sh("[ $RANK = 1 ] && kill -9 $$; exit 0", ranks(2), dir);
  EXPECT_EQ(r.status, 137) << r.err;
  EXPECT_NE(r.err.find("rank 1 was killed by SIGKILL (status 137)"), std::string::npos) << r.err;
}

// Rank 0 fails once the others are ready; rank 1 dies of the SIGTERM that follows the grace,
// rank 2 ignores it and is killed.
TEST(Launcher, AfterTheGraceSendsSigtermThenSigkill) {
  TempDir dir;
  LaunchOptions o = ranks(3);
  o.grace_s = 0.2;
  o.kill_after_s = 0.5;
  const std::string ready = dir.file("ready");
  const std::string script = "case $RANK in 0) until [ -e " + ready + ".1 ] && [ -e " + ready +
                             ".2 ]; do sleep 0.02; done; exit 4;; 1) touch " + ready +
                             ".1; exec sleep 600;; 2) trap '' TERM; touch " + ready +
                             ".2; exec sleep 600;; esac";
  const auto start = std::chrono::steady_clock::now();
  Launched r = launch_sh(script, o, dir);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_LT(took, 60) << "the ranks that never end were not stopped";
  for (const char* line :
       {"rank 0 exited with status 4; waiting for the others (--grace 0.2 s, then SIGTERM)",
        "ranks 1, 2 still running 0.2 s after the first failure; sending SIGTERM",
        "rank 1 was killed by SIGTERM (status 143)",
        "rank 2 still running 0.5 s after SIGTERM; sending SIGKILL",
        "rank 2 was killed by SIGKILL (status 137)"})
    EXPECT_NE(r.err.find(line), std::string::npos) << line << " missing from:\n" << r.err;
}

// ---- signals ----------------------------------------------------------------------------------

TEST(Launcher, PassesSigintSigtermAndSighupToEveryRank) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    TempDir dir;
    const std::string name = sigabbrev_np(sig), ready = dir.file("ready");
    const std::string script = "trap 'echo got " + name + "; exit 5' " + name + "; touch " + ready +
                               ".$RANK; while :; do sleep 0.02; done";
    Launched r = launch_sh(script, ranks(2), dir, [&](pid_t launcher) {
      wait_for_file(ready + ".0");
      wait_for_file(ready + ".1");
      ::kill(launcher, sig);
    });
    EXPECT_EQ(r.status, 5) << name << ": " << r.err;
    EXPECT_NE(r.out.find("[rank 0] got " + name + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[rank 1] got " + name + "\n"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("passing SIG" + name + " to the 2 running ranks"), std::string::npos) << r.err;
  }
}

// Ranks that shrug off SIGINT: a second one soon after the first kills them.
TEST(Launcher, SecondSigintKillsTheRanks) {
  TempDir dir;
  LaunchOptions o = ranks(2);
  o.double_interrupt_s = 600;  // "soon" however slow the machine
  const std::string mark = dir.file("int"), ready = dir.file("ready");
  const std::string script =
      "trap 'touch " + mark + ".$RANK' INT; touch " + ready + ".$RANK; while :; do sleep 0.02; done";
  Launched r = launch_sh(script, o, dir, [&](pid_t launcher) {
    wait_for_file(ready + ".0");
    wait_for_file(ready + ".1");
    ::kill(launcher, SIGINT);
    wait_for_file(mark + ".0");  // the first was passed on (and not merged with the second)
    wait_for_file(mark + ".1");
    ::kill(launcher, SIGINT);
  });
  EXPECT_EQ(r.status, 137) << r.err;
  EXPECT_NE(r.err.find("second SIGINT: killing the ranks (SIGKILL)"), std::string::npos) << r.err;
}

// Past the window, a second SIGINT is passed on like the first (train takes it as "stop now").
TEST(Launcher, LateSecondSigintIsPassedOn) {
  TempDir dir;
  LaunchOptions o = ranks(2);
  o.double_interrupt_s = 0;
  const std::string mark = dir.file("int"), ready = dir.file("ready");
  const std::string script = "trap 'if [ -e " + mark + ".$RANK ]; then exit 6; fi; touch " + mark +
                             ".$RANK' INT; touch " + ready + ".$RANK; while :; do sleep 0.02; done";
  Launched r = launch_sh(script, o, dir, [&](pid_t launcher) {
    wait_for_file(ready + ".0");
    wait_for_file(ready + ".1");
    ::kill(launcher, SIGINT);
    wait_for_file(mark + ".0");
    wait_for_file(mark + ".1");
    ::kill(launcher, SIGINT);
  });
  EXPECT_EQ(r.status, 6) << r.err;
  EXPECT_EQ(r.err.find("killing"), std::string::npos) << r.err;
}

// ---- bad input --------------------------------------------------------------------------------

TEST(Launcher, ProgramThatCannotRunIsNamed) {
  TempDir dir;
  Launched r = launch("/nonexistent/alexnet", {"alexnet", "version"}, ranks(2), dir);
  EXPECT_NE(r.err.find("threw: cannot execute /nonexistent/alexnet: No such file or directory"),
            std::string::npos)
      << r.err;
}

TEST(Launcher, RefusesBadOptions) {
  EXPECT_EQ(alexnet::testing::error_of([] { launch_ranks("/bin/true", {"true"}, ranks(0)); }),
            "--nproc 0: give at least 1 process");
  EXPECT_EQ(alexnet::testing::error_of([] { launch_ranks("/bin/true", {}, ranks(1)); }),
            "nothing to launch: give the command after '--'");
  const std::string foreign = alexnet::testing::error_of([] { free_port("192.0.2.1"); });  // TEST-NET-1
  EXPECT_NE(foreign.find("--master-addr '192.0.2.1': cannot find a free port on it"), std::string::npos)
      << foreign;
  EXPECT_GT(free_port("127.0.0.1"), 0);
}

}  // namespace
}  // namespace alexnet
