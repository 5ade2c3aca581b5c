#include "comm/launch_env.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <vector>

#include "core/errors.h"

namespace alexnet {

namespace {

// The port a Slurm job's ranks meet on when MASTER_PORT is not set (see launch_env.h).
constexpr long long kSlurmPortBase = 20000, kSlurmPortSpan = 10000;

// One value as the user wrote it, with where it came from: a flag ("--rank") or a variable.
struct Value {
  std::string name, text;
  std::string shown() const { return name.starts_with("--") ? name + "=" + text : name + "='" + text + "'"; }
};

// Reads launch values for one source; every message starts with the source it blames.
class Reader {
 public:
  Reader(std::string source, const EnvLookup& env) : source_(std::move(source)), env_(env) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw UserError("launch from " + source_ + ": " + what);
  }

  std::optional<Value> var(const std::string& name) const {
    auto v = env_(name);
    if (!v) return std::nullopt;
    return Value{name, *v};
  }

  // Every one of `names`, or an error naming those set and those missing.
  std::vector<Value> all_of(const std::vector<std::string>& names) const {
    std::vector<Value> values;
    std::string set, missing;
    for (const auto& n : names) {
      if (auto v = var(n)) {
        set += (set.empty() ? "" : ", ") + v->shown();
        values.push_back(*v);
      } else {
        missing += (missing.empty() ? "" : ", ") + n;
      }
    }
    if (!missing.empty()) fail("partly set: " + set + " but not " + missing);
    return values;
  }

  long long number(const Value& v, long long min) const {
    long long n = 0;
    const char* end = v.text.data() + v.text.size();
    auto [stop, err] = std::from_chars(v.text.data(), end, n);
    if (v.text.empty() || err != std::errc() || stop != end) fail(v.shown() + " is not a whole number");
    if (n < min) fail(v.shown() + (min == 0 ? " is negative" : " must be at least " + std::to_string(min)));
    return n;
  }

  // Rank, world size and local rank, checked against each other.
  void ranks(LaunchInfo& info, const Value& rank, const Value& world, const Value& local) const {
    const long long w = number(world, 1), r = number(rank, 0), l = number(local, 0);
    if (w > 1 << 20) fail(world.shown() + " is implausibly large");
    if (r >= w) fail(rank.shown() + " is not below " + world.shown());
    if (l >= w) fail(local.shown() + " is not below " + world.shown());
    info.rank = static_cast<int>(r);
    info.world_size = static_cast<int>(w);
    info.local_rank = static_cast<int>(l);
    info.source = source_;
  }

  int port(const Value& v) const {
    const long long p = number(v, 0);
    if (p < 1 || p > 65535) fail(v.shown() + " is not a port number (1-65535)");
    return static_cast<int>(p);
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  const EnvLookup& env_;
};

std::optional<Value> flag(const char* name, const std::optional<int>& v) {
  if (!v) return std::nullopt;
  return Value{name, std::to_string(*v)};
}

// The store's host and port, each from its flag, then MASTER_ADDR / MASTER_PORT, then (Slurm
// only) the step's first host and the job id's port.
void resolve_store(LaunchInfo& info, const LaunchFlags& flags, const Reader& in) {
  const bool slurm = in.source() == "Slurm";
  if (flags.store_dir) {
    if (flags.store_host || flags.store_port)
      in.fail("--store-dir and --store-host/--store-port name two rendezvous stores: give one");
    if (flags.store_dir->empty()) in.fail("--store-dir is empty");
    info.store_dir = *flags.store_dir;
    return;
  }
  if (flags.store_host) {
    if (flags.store_host->empty()) in.fail("--store-host is empty");
    info.store_host = *flags.store_host;
  } else if (auto addr = in.var("MASTER_ADDR")) {
    if (addr->text.empty()) in.fail("MASTER_ADDR is set but empty");
    info.store_host = addr->text;
  } else if (slurm) {
    auto list = in.var("SLURM_STEP_NODELIST");
    if (!list) list = in.var("SLURM_NODELIST");
    if (!list)
      in.fail(
          "no rendezvous host: neither SLURM_STEP_NODELIST nor SLURM_NODELIST is set; set MASTER_ADDR or "
          "--store-host");
    info.store_host = first_slurm_host(list->name, list->text);
  } else {
    in.fail("no rendezvous host for " + std::to_string(info.world_size) +
            " processes: set --store-host or MASTER_ADDR (the address of rank 0's machine)");
  }

  if (auto p = flag("--store-port", flags.store_port)) {
    info.store_port = in.port(*p);
  } else if (auto p = in.var("MASTER_PORT")) {
    info.store_port = in.port(*p);
    // torchrun's static rendezvous (its default) serves PyTorch's own store on MASTER_PORT and
    // says so with TORCHELASTIC_USE_AGENT_STORE=True; ours, which speaks another protocol, takes
    // the next port.
    if (in.var("TORCHELASTIC_USE_AGENT_STORE") && in.var("TORCHELASTIC_USE_AGENT_STORE")->text == "True") {
      if (info.store_port == 65535)
        in.fail("MASTER_PORT is 65535: under torchrun the store takes the next port");
      ++info.store_port;
    }
  } else if (slurm) {
    auto job = in.var("SLURM_JOB_ID");
    if (!job) in.fail("no rendezvous port: SLURM_JOB_ID is not set; set MASTER_PORT or --store-port");
    info.store_port = static_cast<int>(kSlurmPortBase + in.number(*job, 0) % kSlurmPortSpan);
  } else {
    in.fail("no rendezvous port for " + std::to_string(info.world_size) +
            " processes: set --store-port or MASTER_PORT (a free port on rank 0's machine)");
  }
}

bool any_set(const EnvLookup& env, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (env(n)) return true;
  }
  return false;
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LaunchInfo resolve_launch(const LaunchFlags& flags, const EnvLookup& env) {
  LaunchInfo info;
  if (flags.rank || flags.world_size || flags.local_rank) {
    Reader in("flags", env);
    if (!flags.rank || !flags.world_size) {
      in.fail(std::string(flags.rank ? "--rank is given without --world-size"
                                     : "--world-size or --local-rank is given without --rank") +
              "; give --rank and --world-size together");
    }
    // One machine when --local-rank is left out: the local rank is the rank.
    auto local = flag("--local-rank", flags.local_rank ? flags.local_rank : flags.rank);
    in.ranks(info, *flag("--rank", flags.rank), *flag("--world-size", flags.world_size), *local);
    if (info.world_size > 1) resolve_store(info, flags, in);
    return info;
  }
  if (any_set(env, {"RANK", "WORLD_SIZE", "LOCAL_RANK"})) {
    Reader in("torchrun", env);
    // torchrun sets the address too; a process started by hand with these variables may give it
    // as --store-host / --store-port instead (e.g. under `ip netns exec`).
    std::vector<std::string> names = {"RANK", "WORLD_SIZE", "LOCAL_RANK"};
    if (!flags.store_host && !flags.store_dir) names.push_back("MASTER_ADDR");
    if (!flags.store_port && !flags.store_dir) names.push_back("MASTER_PORT");
    auto v = in.all_of(names);
    in.ranks(info, v[0], v[1], v[2]);
    if (info.world_size > 1) resolve_store(info, flags, in);
    return info;
  }
  if (any_set(env, {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"})) {
    Reader in("OpenMPI", env);
    auto v = in.all_of({"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"});
    in.ranks(info, v[0], v[1], v[2]);
    if (info.world_size > 1) resolve_store(info, flags, in);
    return info;
  }
  // SLURM_NTASKS alone is set in any allocation (salloc, a batch script); only srun's tasks have
  // SLURM_PROCID and SLURM_LOCALID. (A batch script itself runs as SLURM_PROCID=0: start the
  // ranks with srun.)
  if (any_set(env, {"SLURM_PROCID", "SLURM_LOCALID"})) {
    Reader in("Slurm", env);
    auto v = in.all_of({"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"});
    in.ranks(info, v[0], v[1], v[2]);
    if (info.world_size > 1) resolve_store(info, flags, in);
    return info;
  }
  info.source = "single process";
  return info;
}

std::string LaunchInfo::describe() const {
  std::string s = "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (local rank " +
                  std::to_string(local_rank) + ") from " + source;
  if (!store_host.empty()) s += ", store " + store_host + ":" + std::to_string(store_port);
  if (!store_dir.empty()) s += ", store folder " + store_dir;
  return s;
}

// ---- Slurm host lists -----------------------------------------------------------------------

namespace {

// "007" < "12" by value, without overflow: compare without leading zeros, by length, then text.
bool not_above(const std::string& a, const std::string& b) {
  auto strip = [](const std::string& s) { return s.substr(std::min(s.find_first_not_of('0'), s.size())); };
  const std::string x = strip(a), y = strip(b);
  return x.size() != y.size() ? x.size() < y.size() : x <= y;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string first_slurm_host(const std::string& variable, const std::string& hostlist) {
  auto fail = [&](const std::string& why) {
    throw UserError("launch from Slurm: " + variable + "='" + hostlist + "': cannot read its first host (" +
                    why +
                    "); expected a host list such as node[01-04,07] or a,b; set MASTER_ADDR or --store-host");
  };
  std::string host, bracket;
  bool in_bracket = false;
  for (char c : hostlist) {
    if (in_bracket) {
      if (c == '[') fail("nested '['");
      if (c != ']') {
        bracket += c;
        continue;
      }
      // A bracket holds ranges "a-b" or numbers, comma-separated; its first number is the first host's.
      std::string first;
      size_t start = 0;
      while (start <= bracket.size()) {
        const size_t comma = std::min(bracket.find(',', start), bracket.size());
        const std::string item = bracket.substr(start, comma - start);
        const size_t dash = item.find('-');
        const std::string lo = item.substr(0, dash),
                          hi = dash == std::string::npos ? lo : item.substr(dash + 1);
        if (!all_digits(lo) || !all_digits(hi))
          fail("'[" + bracket + "]' holds '" + item + "', not a number or range");
        if (!not_above(lo, hi)) fail("the range '" + item + "' runs backwards");
        if (first.empty()) first = lo;
        start = comma + 1;
      }
      host += first;
      bracket.clear();
      in_bracket = false;
    } else if (c == ',') {
      break;  // the first host ends here; the rest of the list does not matter
    } else if (c == '[') {
      in_bracket = true;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') {
      host += c;
    } else {
      fail(c == ']' ? "a ']' without its '['" : std::string("unexpected character '") + c + "'");
    }
  }
  if (in_bracket) fail("a '[' without its ']'");
  if (host.empty()) fail("no host name");
  return host;
}

}  // namespace alexnet
