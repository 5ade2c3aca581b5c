#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <sstream>
#include <string>

namespace alexnet {

namespace {

// One armed point: what to send (SIGKILL for ALEXNET_TEST_CRASH_AT) at which pass.
struct Target {
  std::string point;
  long count = 1;
  int signal = SIGKILL;
  std::atomic<long> passed{0};
};

// "<point>[:<n>]" into t.point and t.count.
void parse_point(const std::string& text, Target& t) {
  t.point = text;
  if (size_t colon = text.find(':'); colon != std::string::npos) {
    t.count = std::max(1L, std::strtol(text.c_str() + colon + 1, nullptr, 10));
    t.point.resize(colon);
  }
}

// A test that misspells its hook must not pass by never firing it.
[[noreturn]] void bad_value(const char* variable, const std::string& value) {
  std::fprintf(stderr, "alexnet: %s: cannot read '%s'; expected <point>[:<n>]=SIGINT|SIGTERM[,...]\n",
               variable, value.c_str());
  std::_Exit(2);
}

// A deque, because a Target (its atomic counter) cannot move.
std::deque<Target> parse_targets() {
  std::deque<Target> targets;
  if (const char* text = std::getenv("ALEXNET_TEST_SIGNAL_AT"); text && *text) {
    std::stringstream list(text);
    std::string item;
    while (std::getline(list, item, ',')) {
      const size_t equals = item.rfind('=');
      const std::string name = equals == std::string::npos ? "" : item.substr(equals + 1);
      Target& t = targets.emplace_back();
      t.signal = name == "SIGINT" ? SIGINT : name == "SIGTERM" ? SIGTERM : 0;
      if (t.signal == 0 || equals == 0) bad_value("ALEXNET_TEST_SIGNAL_AT", item);
      parse_point(item.substr(0, equals), t);
    }
  }
  if (const char* text = std::getenv("ALEXNET_TEST_CRASH_AT"); text && *text)
    parse_point(text, targets.emplace_back());
  return targets;
}

}  // namespace

void crash_point(const char* name) {
  static std::deque<Target> targets = parse_targets();
  for (Target& t : targets) {
    if (t.point != name || t.passed.fetch_add(1) + 1 != t.count) continue;
    if (t.signal == SIGKILL) {
      // As `kill -9` would: no handler, no flushing of stdio or destructors.
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);  // not reached
    }
    // Said first, so that a test can tell the signal came from here, at this pass.
    std::fprintf(stderr, "alexnet: ALEXNET_TEST_SIGNAL_AT: raising %s at %s (pass %ld)\n",
                 t.signal == SIGINT ? "SIGINT" : "SIGTERM", name, t.count);
    std::raise(t.signal);
  }
}

}  // namespace alexnet
