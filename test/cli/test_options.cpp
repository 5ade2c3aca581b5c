// Each subcommand's options: only its own groups in --help, defaults as written, shared run files
// (keys another subcommand owns are skipped, keys nobody knows are errors), config.toml round trip.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/options.h"
#include "core/errors.h"
#include "data_testing.h"
#include "train/run_config.h"

namespace alexnet {
namespace {

std::string help_text(const cli::po::options_description& desc) {
  std::ostringstream o;
  o << desc;
  return o.str();
}

bool has_flag(const std::string& help, const std::string& flag) {
  return help.find("--" + flag + " ") != std::string::npos;
}

TEST(Options, EachSubcommandShowsOnlyItsOwnFlags) {
  RunConfig c;
  cli::TrainFlags tr;
  cli::EvalFlags ev;
  cli::TimeFlags ti;
  const std::string train = help_text(cli::train_options(c, tr));
  const std::string eval = help_text(cli::eval_options(c, ev));
  const std::string time = help_text(cli::time_options(c, ti));
  for (const char* common : {"net", "placement", "devices", "exchange", "batch", "crop", "threads", "math"}) {
    EXPECT_TRUE(has_flag(train, common)) << common;
    EXPECT_TRUE(has_flag(eval, common)) << common;
    EXPECT_TRUE(has_flag(time, common)) << common;
  }
  for (const char* training :
       {"epochs", "lr", "momentum", "weight-decay", "schedule", "patience", "step-epochs", "lr-factor",
        "lighting", "out", "keep-checkpoints", "max-steps"}) {
    EXPECT_TRUE(has_flag(train, training)) << training;
    EXPECT_FALSE(has_flag(eval, training)) << training;
    EXPECT_FALSE(has_flag(time, training)) << training;
  }
  for (const char* own : {"checkpoint", "views", "predictions", "logits"}) {
    EXPECT_TRUE(has_flag(eval, own)) << own;
    EXPECT_FALSE(has_flag(train, own)) << own;
    EXPECT_FALSE(has_flag(time, own)) << own;
  }
  for (const char* own : {"iterations", "warmup", "classes", "write"}) {
    EXPECT_TRUE(has_flag(time, own)) << own;
    EXPECT_FALSE(has_flag(train, own)) << own;
    EXPECT_FALSE(has_flag(eval, own)) << own;
  }
  EXPECT_TRUE(has_flag(eval, "data"));
  EXPECT_FALSE(has_flag(time, "data"));  // time draws random images
}

TEST(Options, DefaultsPrintAsWritten) {
  RunConfig c;
  cli::TrainFlags f;
  const std::string help = help_text(cli::train_options(c, f));
  EXPECT_NE(help.find("--momentum arg (=0.9)"), std::string::npos) << help;
  EXPECT_NE(help.find("--weight-decay arg (=5e-4)"), std::string::npos) << help;
  EXPECT_NE(help.find("--lr arg (=0.01)"), std::string::npos) << help;
  EXPECT_NE(help.find("--lr-factor arg (=0.1)"), std::string::npos) << help;
  EXPECT_NE(help.find("--deterministic [=arg(=true)] (=false)"), std::string::npos) << help;
  EXPECT_EQ(help.find("0000"), std::string::npos) << help;  // no float noise, anywhere
}

// Every boolean flag takes the bare form (`--deterministic` = `--deterministic true`) beside the
// spaced and `=` forms, on the command line, in run files and in ALEXNET_* variables; a bare flag
// before another flag or a positional argument does not swallow it.
TEST(Options, BooleanFlagsTakeTheBareForm) {
  auto parse = [](std::vector<std::string> args, RunConfig& c) {
    cli::TimeFlags f;
    auto desc = cli::time_options(c, f);
    args.insert(args.begin(), "time");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    cli::parse_options("time", static_cast<int>(argv.size()), argv.data(), desc, nullptr, {});
  };
  struct Case {
    std::vector<std::string> args;
    bool deterministic, nvtx;
    int batch;
  };
  const std::vector<Case> cases = {
      {{"--deterministic"}, true, false, RunConfig().batch},
      {{"--deterministic", "--batch", "8"}, true, false, 8},
      {{"--deterministic", "true", "--nvtx"}, true, true, RunConfig().batch},
      {{"--deterministic", "false", "--nvtx", "0"}, false, false, RunConfig().batch},
      {{"--deterministic=yes", "--nvtx=off", "--batch", "3"}, true, false, 3},
      {{"--nccl-multi-rank-gpu", "--nvtx", "--deterministic", "on"}, true, true, RunConfig().batch},
  };
  for (const Case& k : cases) {
    RunConfig c;
    std::string joined;
    for (const auto& a : k.args) joined += a + " ";
    ASSERT_NO_THROW(parse(k.args, c)) << joined;
    EXPECT_EQ(c.deterministic, k.deterministic) << joined;
    EXPECT_EQ(c.nvtx, k.nvtx) << joined;
    EXPECT_EQ(c.batch, k.batch) << joined;
  }
  {
    RunConfig c;
    parse({"--nccl-multi-rank-gpu"}, c);
    EXPECT_TRUE(c.nccl_multi_rank_gpu);
  }
  {
    RunConfig c;  // a word that is not a boolean is the flag's value, and refused
    EXPECT_THROW(parse({"--deterministic=maybe"}, c), UserError);
  }
  {
    testing::TempDir dir;  // run files write `key = true`: the spaced form
    std::ofstream(dir.file("run.toml")) << "deterministic = true\nnvtx = false\nbatch = 5\n";
    RunConfig c;
    cli::TimeFlags f;
    auto desc = cli::time_options(c, f);
    cli::po::variables_map vm;
    cli::store_run_file(dir.file("run.toml"), desc, vm);
    EXPECT_TRUE(c.deterministic);
    EXPECT_FALSE(c.nvtx);
    EXPECT_EQ(c.batch, 5);
  }
  // The joining leaves everything else alone: values of other flags, '=' forms, and all after "--".
  cli::TimeFlags f;
  RunConfig c;
  auto desc = cli::time_options(c, f);
  EXPECT_EQ(cli::join_boolean_values({"--batch", "true", "--nvtx", "true", "--", "--nvtx", "1"}, desc),
            (std::vector<std::string>{"--batch", "true", "--nvtx=true", "--", "--nvtx", "1"}));
}

TEST(Options, ConfigTomlIsCleanAndReadsBackExactly) {
  RunConfig c;
  c.lr = 0.05;
  c.out = "runs/a \"quoted\" name";
  const std::string toml = to_toml(c);
  EXPECT_NE(toml.find("lr = 0.05\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("momentum = 0.9\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("weight-decay = 5e-4\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("lighting = 0.1\n"), std::string::npos) << toml;
  EXPECT_EQ(toml.find("0000"), std::string::npos) << toml;

  testing::TempDir dir;
  std::ofstream(dir.file("config.toml")) << toml;
  RunConfig back;
  back.lr = back.momentum = back.weight_decay = back.lr_factor = back.lighting = 7;
  cli::TrainFlags f;
  auto desc = cli::train_options(back, f);
  cli::po::variables_map vm;
  cli::store_run_file(dir.file("config.toml"), desc, vm);
  EXPECT_EQ(back.lr, c.lr);
  EXPECT_EQ(back.momentum, c.momentum);
  EXPECT_EQ(back.weight_decay, c.weight_decay);
  EXPECT_EQ(back.lr_factor, c.lr_factor);
  EXPECT_EQ(back.lighting, c.lighting);
  EXPECT_EQ(back.out, c.out);
  EXPECT_EQ(to_toml(back), toml);
}

TEST(Options, RunFilesSkipOtherSubcommandsKeysButNotUnknownOnes) {
  testing::TempDir dir;
  std::ofstream(dir.file("train.toml")) << "net = \"n.toml\"\nbatch = 32\nepochs = 7\nlr = 0.5\n"
                                           "momentum = 0.8\nout = \"runs/x\"\ndata = \"d.h5\"\n";
  std::ofstream(dir.file("bad.toml")) << "batch = 32\nepochs = 7\nbogus = 1\n";
  std::ofstream(dir.file("nested.toml")) << "batch = 32\nconfig = \"other.toml\"\n";
  {
    RunConfig c;
    cli::TimeFlags f;
    auto desc = cli::time_options(c, f);
    cli::po::variables_map vm;
    cli::store_run_file(dir.file("train.toml"), desc, vm);
    EXPECT_EQ(c.net, "n.toml");
    EXPECT_EQ(c.batch, 32);
    EXPECT_EQ(c.epochs, RunConfig().epochs);  // a training key: skipped by time
    EXPECT_EQ(c.data, "");
  }
  {
    RunConfig c;
    cli::EvalFlags f;
    auto desc = cli::eval_options(c, f);
    cli::po::variables_map vm;
    cli::store_run_file(dir.file("train.toml"), desc, vm);
    EXPECT_EQ(c.data, "d.h5");  // eval reads data
    EXPECT_EQ(c.momentum, RunConfig().momentum);
  }
  RunConfig c;
  cli::TrainFlags tr;
  cli::EvalFlags ev;
  cli::TimeFlags ti;
  for (const auto& desc : {cli::train_options(c, tr), cli::eval_options(c, ev), cli::time_options(c, ti)}) {
    cli::po::variables_map vm;
    try {
      cli::store_run_file(dir.file("bad.toml"), desc, vm);
      ADD_FAILURE() << "an unknown run-file key was accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.toml:3: unknown key 'bogus'"), std::string::npos) << e.what();
    }
    // A run file does not name another run file (nor --resume): that is the command line's job.
    EXPECT_THROW(cli::store_run_file(dir.file("nested.toml"), desc, vm), UserError);
  }
}

// Boost.Program_options 1.74 fills an error's placeholders (%value%, %option%, ...) until none is
// left: a value holding its own placeholder hung the parser (fuzz_run_file). Each case must end
// in a UserError that shows what was typed; a hang ends this test binary after 20 s.
TEST(Options, ValuesThatLookLikePlaceholdersAreReportedNotHungOn) {
  testing::TempDir dir;
  std::ofstream(dir.file("run.toml")) << "log-every = \"Z! su%value%') for %option%\"\n";
  auto readable = [](std::string text) {
    for (size_t at; (at = text.find("\u200b")) != std::string::npos;) text.erase(at, 3);
    return text;
  };
  auto within = [](const char* what, auto body) {
    auto done = std::async(std::launch::async, body);
    if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      std::fprintf(stderr, "FAILED: %s: the option parser hung\n", what);
      std::_Exit(1);
    }
    return done.get();
  };
  RunConfig c;
  cli::TrainFlags f;
  auto desc = cli::train_options(c, f);
  std::string message = within("run file", [&] {
    cli::po::variables_map vm;
    try {
      cli::store_run_file(dir.file("run.toml"), desc, vm);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  });
  EXPECT_NE(readable(message).find("Z! su%value%') for %option%"), std::string::npos) << message;
  EXPECT_NE(message.find("log-every"), std::string::npos) << message;
  // The command line: each case and the text its message must show.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"train", "--log-every", "%value%"}, "%value%"},
      {{"train", "--%canonical_option%"}, "%canonical_option%"},
      {{"train", "--x%option%", "1"}, "x%option%"},
      {{"train", "--batch", "%original_token%%prefix%"}, "%original_token%%prefix%"}};
  for (auto [args, shown] : cases) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    message = within(shown.c_str(), [&] {
      try {
        cli::parse_options("train", static_cast<int>(argv.size()), argv.data(), desc, nullptr, {});
      } catch (const UserError& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    });
    EXPECT_NE(readable(message).find(shown), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace alexnet
