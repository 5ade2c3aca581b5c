#include <gtest/gtest.h>

#include <map>

#include "comm/launch_env.h"
#include "core/errors.h"

namespace alexnet {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(const Env& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

LaunchInfo resolve(const Env& env, const LaunchFlags& flags = {}) {
  return resolve_launch(flags, lookup(env));
}

// The UserError's message, or "" when it resolves.
std::string error_of(const Env& env, const LaunchFlags& flags = {}) {
  try {
    resolve(env, flags);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

const Env kTorchrun = {{"RANK", "3"},
                       {"WORLD_SIZE", "4"},
                       {"LOCAL_RANK", "1"},
                       {"MASTER_ADDR", "10.0.0.1"},
                       {"MASTER_PORT", "29500"}};
const Env kOpenMpi = {{"OMPI_COMM_WORLD_RANK", "2"},
                      {"OMPI_COMM_WORLD_SIZE", "4"},
                      {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                      {"MASTER_ADDR", "10.0.0.2"},
                      {"MASTER_PORT", "29600"}};
const Env kSlurm = {{"SLURM_PROCID", "5"},
                    {"SLURM_NTASKS", "8"},
                    {"SLURM_LOCALID", "1"},
                    {"SLURM_NODELIST", "gpu[07-10,12]"},
                    {"SLURM_JOB_ID", "1234567"}};

Env merged(Env a, const Env& b) {
  a.insert(b.begin(), b.end());
  return a;
}

// ---- each launcher ---------------------------------------------------------------------------

TEST(LaunchEnv, NothingSetIsOneProcess) {
  LaunchInfo info = resolve({{"MASTER_ADDR", "10.0.0.1"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_ID", "7"}});
  EXPECT_EQ(info.source, "single process");
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.local_rank, 0);
  EXPECT_EQ(info.store_host, "");
}

TEST(LaunchEnv, Torchrun) {
  LaunchInfo info = resolve(kTorchrun);
  EXPECT_EQ(info.source, "torchrun");
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.store_host, "10.0.0.1");
  EXPECT_EQ(info.store_port, 29500);
  EXPECT_EQ(info.describe(), "rank 3 of 4 (local rank 1) from torchrun, store 10.0.0.1:29500");
}

TEST(LaunchEnv, UnderTorchrunsOwnStoreOursTakesTheNextPort) {
  Env env = kTorchrun;
  env["TORCHELASTIC_USE_AGENT_STORE"] = "True";  // torchrun's static rendezvous holds MASTER_PORT
  EXPECT_EQ(resolve(env).store_port, 29501);
  env["TORCHELASTIC_USE_AGENT_STORE"] = "False";  // its c10d rendezvous: MASTER_PORT is free for us
  EXPECT_EQ(resolve(env).store_port, 29500);
  LaunchFlags flags;
  flags.store_port = 31000;  // a flag is taken as given
  env["TORCHELASTIC_USE_AGENT_STORE"] = "True";
  EXPECT_EQ(resolve(env, flags).store_port, 31000);
}

TEST(LaunchEnv, OpenMpiTakesTheAddressFromMasterVariablesOrFlags) {
  LaunchInfo info = resolve(kOpenMpi);
  EXPECT_EQ(info.source, "OpenMPI");
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 0);
  EXPECT_EQ(info.store_host, "10.0.0.2");
  EXPECT_EQ(info.store_port, 29600);

  LaunchFlags flags;
  flags.store_host = "192.168.1.5";
  flags.store_port = 4000;
  info = resolve(kOpenMpi, flags);
  EXPECT_EQ(info.source, "OpenMPI");
  EXPECT_EQ(info.store_host, "192.168.1.5");
  EXPECT_EQ(info.store_port, 4000);
}

TEST(LaunchEnv, OpenMpiWithoutAnAddressSaysWhatToSet) {
  Env env = {
      {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}};
  EXPECT_EQ(
      error_of(env),
      "launch from OpenMPI: no rendezvous host for 2 processes: set --store-host or MASTER_ADDR (the address "
      "of rank 0's machine)");
  env["MASTER_ADDR"] = "10.0.0.2";
  EXPECT_EQ(
      error_of(env),
      "launch from OpenMPI: no rendezvous port for 2 processes: set --store-port or MASTER_PORT (a free port "
      "on rank 0's machine)");
  // One process has no one to meet: no address needed.
  env = {{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}};
  EXPECT_EQ(resolve(env).source, "OpenMPI");
}

TEST(LaunchEnv, SlurmDerivesTheStoreFromTheNodeListAndJobId) {
  LaunchInfo info = resolve(kSlurm);
  EXPECT_EQ(info.source, "Slurm");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.store_host, "gpu07");
  EXPECT_EQ(info.store_port, 20000 + 1234567 % 10000);  // 24567
  // srun's step node list wins over the job's: rank 0 runs on the step's first node.
  EXPECT_EQ(resolve(merged({{"SLURM_STEP_NODELIST", "gpu[09-10]"}}, kSlurm)).store_host, "gpu09");
  // MASTER_ADDR / MASTER_PORT, as many Slurm scripts export them, win over the derived ones.
  info = resolve(merged({{"MASTER_ADDR", "10.1.1.1"}, {"MASTER_PORT", "31000"}}, kSlurm));
  EXPECT_EQ(info.store_host, "10.1.1.1");
  EXPECT_EQ(info.store_port, 31000);
}

TEST(LaunchEnv, SlurmPortStaysBetweenPrivilegedAndEphemeralPorts) {
  for (const char* job : {"0", "9999", "10000", "4294967295", "123456789012"}) {
    const int port = resolve(merged({{"SLURM_JOB_ID", job}}, kSlurm)).store_port;
    EXPECT_GE(port, 20000) << job;
    EXPECT_LT(port, 30000) << job;
  }
}

TEST(LaunchEnv, SlurmWithoutNodeListOrJobId) {
  Env env = kSlurm;
  env.erase("SLURM_NODELIST");
  EXPECT_EQ(
      error_of(env),
      "launch from Slurm: no rendezvous host: neither SLURM_STEP_NODELIST nor SLURM_NODELIST is set; set "
      "MASTER_ADDR or --store-host");
  env = kSlurm;
  env.erase("SLURM_JOB_ID");
  EXPECT_EQ(
      error_of(env),
      "launch from Slurm: no rendezvous port: SLURM_JOB_ID is not set; set MASTER_PORT or --store-port");
  env["SLURM_JOB_ID"] = "12x";
  EXPECT_EQ(error_of(env), "launch from Slurm: SLURM_JOB_ID='12x' is not a whole number");
}

TEST(LaunchEnv, FlagsAlone) {
  LaunchFlags flags;
  flags.rank = 1;
  flags.world_size = 2;
  flags.store_host = "127.0.0.1";
  flags.store_port = 29500;
  LaunchInfo info = resolve({}, flags);
  EXPECT_EQ(info.source, "flags");
  EXPECT_EQ(info.rank, 1);
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.local_rank, 1);  // --local-rank left out: one machine
  EXPECT_EQ(info.store_host, "127.0.0.1");
  flags.local_rank = 0;
  EXPECT_EQ(resolve({}, flags).local_rank, 0);
}

// ---- precedence: flags, torchrun, OpenMPI, Slurm ---------------------------------------------

TEST(LaunchEnv, Precedence) {
  const Env all = merged(merged(kTorchrun, kOpenMpi), kSlurm);
  LaunchFlags flags;
  flags.rank = 0;
  flags.world_size = 2;
  // Flags win over every launcher; the address, not given as flags, comes from MASTER_*.
  LaunchInfo info = resolve(all, flags);
  EXPECT_EQ(info.source, "flags");
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.store_host, "10.0.0.1");
  EXPECT_EQ(resolve(all).source, "torchrun");
  Env no_torchrun = all;
  for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK"}) no_torchrun.erase(v);
  EXPECT_EQ(resolve(no_torchrun).source, "OpenMPI");
  EXPECT_EQ(resolve(kSlurm).source, "Slurm");
  // A --store-host flag wins over MASTER_ADDR even under torchrun.
  LaunchFlags addr;
  addr.store_host = "10.9.9.9";
  EXPECT_EQ(resolve(kTorchrun, addr).store_host, "10.9.9.9");
  // Torchrun's rank variables with the address given only as flags: the flags supply it.
  Env ranks_only = kTorchrun;
  ranks_only.erase("MASTER_ADDR");
  ranks_only.erase("MASTER_PORT");
  addr.store_port = 29511;
  const LaunchInfo by_flags = resolve(ranks_only, addr);
  EXPECT_EQ(by_flags.source, "torchrun");
  EXPECT_EQ(by_flags.store_host + ":" + std::to_string(by_flags.store_port), "10.9.9.9:29511");
  // Only the port as a flag: MASTER_ADDR is still needed, and named.
  EXPECT_EQ(error_of(ranks_only, LaunchFlags{.store_port = 29511}),
            "launch from torchrun: partly set: RANK='3', WORLD_SIZE='4', LOCAL_RANK='1' but not MASTER_ADDR");
}

// ---- errors: each names the variable and its value -------------------------------------------

TEST(LaunchEnv, PartlySetLauncherNamesWhatIsMissing) {
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}),
            "launch from torchrun: partly set: RANK='0', WORLD_SIZE='2' but not LOCAL_RANK, MASTER_ADDR, "
            "MASTER_PORT");
  EXPECT_EQ(error_of({{"OMPI_COMM_WORLD_SIZE", "2"}}),
            "launch from OpenMPI: partly set: OMPI_COMM_WORLD_SIZE='2' but not OMPI_COMM_WORLD_RANK, "
            "OMPI_COMM_WORLD_LOCAL_RANK");
  EXPECT_EQ(error_of({{"SLURM_PROCID", "1"}, {"SLURM_LOCALID", "1"}}),
            "launch from Slurm: partly set: SLURM_PROCID='1', SLURM_LOCALID='1' but not SLURM_NTASKS");
  LaunchFlags flags;
  flags.rank = 1;
  EXPECT_EQ(error_of({}, flags),
            "launch from flags: --rank is given without --world-size; give --rank and --world-size together");
  flags = {};
  flags.local_rank = 0;
  EXPECT_NE(error_of({}, flags).find("without --rank"), std::string::npos);
}

TEST(LaunchEnv, MalformedNumbers) {
  auto with = [](const std::string& name, const std::string& value) {
    Env env = kTorchrun;
    env[name] = value;
    return error_of(env);
  };
  EXPECT_EQ(with("RANK", "one"), "launch from torchrun: RANK='one' is not a whole number");
  EXPECT_EQ(with("RANK", ""), "launch from torchrun: RANK='' is not a whole number");
  EXPECT_EQ(with("RANK", "2 "), "launch from torchrun: RANK='2 ' is not a whole number");
  EXPECT_EQ(with("RANK", "1.0"), "launch from torchrun: RANK='1.0' is not a whole number");
  EXPECT_EQ(with("RANK", "99999999999999999999"),
            "launch from torchrun: RANK='99999999999999999999' is not a whole number");
  EXPECT_EQ(with("RANK", "-1"), "launch from torchrun: RANK='-1' is negative");
  EXPECT_EQ(with("LOCAL_RANK", "-2"), "launch from torchrun: LOCAL_RANK='-2' is negative");
  EXPECT_EQ(with("WORLD_SIZE", "0"), "launch from torchrun: WORLD_SIZE='0' must be at least 1");
}

TEST(LaunchEnv, InconsistentRanks) {
  Env env = kTorchrun;
  env["RANK"] = "4";
  EXPECT_EQ(error_of(env), "launch from torchrun: RANK='4' is not below WORLD_SIZE='4'");
  env = kOpenMpi;
  env["OMPI_COMM_WORLD_LOCAL_RANK"] = "4";
  EXPECT_EQ(error_of(env),
            "launch from OpenMPI: OMPI_COMM_WORLD_LOCAL_RANK='4' is not below OMPI_COMM_WORLD_SIZE='4'");
  env = kSlurm;
  env["SLURM_PROCID"] = "8";
  EXPECT_EQ(error_of(env), "launch from Slurm: SLURM_PROCID='8' is not below SLURM_NTASKS='8'");
  LaunchFlags flags;
  flags.rank = 2;
  flags.world_size = 2;
  EXPECT_EQ(error_of({}, flags), "launch from flags: --rank=2 is not below --world-size=2");
  flags.rank = -1;
  EXPECT_EQ(error_of({}, flags), "launch from flags: --rank=-1 is negative");
}

TEST(LaunchEnv, BadAddresses) {
  Env env = kTorchrun;
  env["MASTER_PORT"] = "70000";
  EXPECT_EQ(error_of(env), "launch from torchrun: MASTER_PORT='70000' is not a port number (1-65535)");
  env["MASTER_PORT"] = "0";
  EXPECT_EQ(error_of(env), "launch from torchrun: MASTER_PORT='0' is not a port number (1-65535)");
  env["MASTER_PORT"] = "http";
  EXPECT_EQ(error_of(env), "launch from torchrun: MASTER_PORT='http' is not a whole number");
  env = kTorchrun;
  env["MASTER_ADDR"] = "";
  EXPECT_EQ(error_of(env), "launch from torchrun: MASTER_ADDR is set but empty");
  LaunchFlags flags;
  flags.store_port = 65536;
  EXPECT_EQ(error_of(kOpenMpi, flags),
            "launch from OpenMPI: --store-port=65536 is not a port number (1-65535)");
}

// ---- Slurm's host lists ----------------------------------------------------------------------

TEST(SlurmHostList, FirstHost) {
  EXPECT_EQ(first_slurm_host("V", "node[01-04,07]"), "node01");
  EXPECT_EQ(first_slurm_host("V", "a,b"), "a");
  EXPECT_EQ(first_slurm_host("V", "gpu-[3-5]x"), "gpu-3x");
  EXPECT_EQ(first_slurm_host("V", "node7"), "node7");
  EXPECT_EQ(first_slurm_host("V", "node[7]"), "node7");
  EXPECT_EQ(first_slurm_host("V", "node[010-012]"), "node010");  // zero padding kept as written
  EXPECT_EQ(first_slurm_host("V", "node[5,1-3]"), "node5");      // the list's order, not the smallest
  EXPECT_EQ(first_slurm_host("V", "rack[1-2]-n[05-06]"), "rack1-n05");
  EXPECT_EQ(first_slurm_host("V", "node[01-02],login[1-3].cluster.org"), "node01");
  EXPECT_EQ(first_slurm_host("V", "n_1.example.com,n_2"), "n_1.example.com");
}

TEST(SlurmHostList, RefusesWhatItCannotRead) {
  auto error = [](const std::string& list) {
    try {
      first_slurm_host("SLURM_NODELIST", list);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(
      error("node[01-04"),
      "launch from Slurm: SLURM_NODELIST='node[01-04': cannot read its first host (a '[' without its ']'); "
      "expected a host list such as node[01-04,07] or a,b; set MASTER_ADDR or --store-host");
  EXPECT_NE(error("node01]").find("a ']' without its '['"), std::string::npos);
  EXPECT_NE(error("node[[1]]").find("nested '['"), std::string::npos);
  EXPECT_NE(error("node[a-c]").find("holds 'a-c', not a number or range"), std::string::npos);
  EXPECT_NE(error("node[]").find("holds '', not a number or range"), std::string::npos);
  EXPECT_NE(error("node[1,]").find("holds ''"), std::string::npos);
  EXPECT_NE(error("node[1-2-3]").find("holds '1-2-3'"), std::string::npos);
  EXPECT_NE(error("node[9-3]").find("the range '9-3' runs backwards"), std::string::npos);
  EXPECT_NE(error("").find("no host name"), std::string::npos);
  EXPECT_NE(error(",a").find("no host name"), std::string::npos);
  EXPECT_NE(error("node 1").find("unexpected character ' '"), std::string::npos);
}

// Through resolve_launch the message names the variable it read.
TEST(SlurmHostList, ErrorNamesTheVariable) {
  Env env = kSlurm;
  env["SLURM_STEP_NODELIST"] = "gpu[1-";
  EXPECT_NE(error_of(env).find("SLURM_STEP_NODELIST='gpu[1-'"), std::string::npos);
}

}  // namespace
}  // namespace alexnet
