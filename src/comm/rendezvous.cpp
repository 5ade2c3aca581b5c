// What every rendezvous store does alike, over its roster: waiting for every rank to arrive,
// waiting for a departure, and the stuck reports.
#include "comm/rendezvous.h"

#include <algorithm>
#include <sstream>

#include "core/errors.h"

namespace alexnet {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

}  // namespace

std::string seconds_text(milliseconds timeout) {
  std::ostringstream s;
  if (timeout.count() % 1000 == 0) {
    s << timeout.count() / 1000;
  } else {
    s.precision(3);
    s << std::fixed << timeout.count() / 1000.0;
    std::string t = s.str();
    t.erase(t.find_last_not_of('0') + 1);
    return t + " s";
  }
  return s.str() + " s";
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
}

const Rendezvous::Roster::Stuck* Rendezvous::Roster::stuck_of(int rank) const {
  for (const Stuck& s : stuck)
    if (s.rank == rank) return &s;
  return nullptr;
}

bool Rendezvous::Roster::is_lost_or_departed(int rank) const {
  return std::count(lost.begin(), lost.end(), rank) || std::count(departed.begin(), departed.end(), rank);
}

milliseconds Rendezvous::stuck_patience() const {
  return std::min(timeout_, milliseconds(kStuckPatienceMs));
}

Rendezvous::Roster Rendezvous::report_stuck(const std::string& group, const std::string& operation,
                                            const std::vector<int>& members) {
  const milliseconds patience = stuck_patience();
  const Clock::time_point deadline = Clock::now() + patience;
  announce_stuck(Roster::Stuck{rank_, group, operation, members}, patience);
  auto everyone_else_accounted = [&](const Roster& r) {
    for (int rank : members)
      if (rank != rank_ && !r.stuck_of(rank) && !r.is_lost_or_departed(rank)) return false;
    return true;
  };
  Roster r = roster(-1, milliseconds(0));
  while (!everyone_else_accounted(r) && left_until(deadline).count() > 0)
    r = roster(r.version, left_until(deadline));
  return r;
}

std::vector<int> Rendezvous::lost_ranks() {
  return roster_after_a_departure(milliseconds(0)).lost;
}

Rendezvous::Roster Rendezvous::roster_after_a_departure(milliseconds patience) {
  const Clock::time_point deadline = Clock::now() + patience;
  try {
    Roster r = roster();
    while (r.lost.empty() && r.departed.empty() && r.stuck.empty() && left_until(deadline).count() > 0)
      r = roster(r.version, left_until(deadline));
    return r;
  } catch (const StoreSilent&) {
    throw;  // rank 0 is hung, not gone: the caller says so
  } catch (const PeerLost&) {
    Roster gone;  // the TCP store is gone, and with it rank 0, which serves it
    gone.lost = {0};
    return gone;
  }
}

void Rendezvous::wait_for_all_ranks() {
  const Clock::time_point deadline = Clock::now() + timeout_;
  Roster r = roster();
  for (;;) {
    if (!r.conflicts.empty()) throw UserError(r.conflicts.front());
    for (const Member& m : r.members) {
      if (m.world_size != world_size_ || m.towers != towers_) {
        throw UserError("the ranks disagree on the grid: rank " + std::to_string(rank_) +
                        " says world size " + std::to_string(world_size_) + ", towers " +
                        std::to_string(towers_) + "; rank " + std::to_string(m.rank) + " (" + m.address +
                        ") says world size " + std::to_string(m.world_size) + ", towers " +
                        std::to_string(m.towers) + " (every rank needs the same world size and towers)");
      }
    }
    if (!r.lost.empty()) {
      throw PeerLost((r.lost.size() == 1
                          ? "rank " + rank_list(r.lost) + " was lost (its connection closed)"
                          : "ranks " + rank_list(r.lost) + " were lost (their connections closed)") +
                     " before every rank reached " + where());
    }
    if (static_cast<int>(r.members.size()) == world_size_) return;
    if (left_until(deadline).count() == 0) {
      std::vector<int> absent;
      for (int rank = 0, i = 0; rank < world_size_; ++rank) {
        if (i < static_cast<int>(r.members.size()) && r.members[i].rank == rank) {
          ++i;
        } else {
          absent.push_back(rank);
        }
      }
      throw UserError((absent.size() == 1 ? "rank " : "ranks ") + rank_list(absent) + " never reached " +
                      where() + " within " + seconds_text(timeout_) + " (--timeout)");
    }
    r = roster(r.version, left_until(deadline));
  }
}

}  // namespace alexnet
