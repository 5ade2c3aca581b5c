// alexnet info NETWORK.toml [--placement P] [--exchange LAYERS] [--classes N] [--input C,H,W] [--json]
//              [--parallel S --world-size N --batch B]
// alexnet info --data FILE.h5
//
// Prints, for each node of the placed network: its output shape on each tower, its parameters,
// its forward multiply-accumulates per image, and the bytes each exchange moves per image.
// --json prints the same placed net, with each tower's layer configuration, for scripts.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/plan_json.h"
#include "core/errors.h"
#include "data/format.h"
#include "net/plan.h"
#include "train/parallel.h"

namespace po = boost::program_options;

namespace alexnet::cli {

namespace {

std::string thousands(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string millions(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f M", static_cast<double>(v) / 1e6);
  return buf;
}

// In a one-tower placement a "split" activation is K channel groups on one device.
std::string spread_label(const Plan& plan, const PlanNode& node) {
  if (plan.towers == 1)
    return node.out_spread == Spread::kSplit ? std::to_string(plan.logical_towers) + " groups" : "whole";
  if (node.out_spread == Spread::kOneTower) return "tower " + std::to_string(node.home);
  return spread_name(node.out_spread);
}

// A packed dataset: where it came from, its image size, classes and splits.
int print_dataset(const std::string& path) {
  DatasetReader data(path);
  const DatasetInfo& d = data.info();
  std::printf("dataset %s (format version %d), created %s\n", path.c_str(), data.version(),
              d.created.c_str());
  std::printf("source: %s\n", d.source.c_str());
  std::printf("images %d x %d, %d channel%s, %zu classes\n", d.height, d.width, d.channels,
              d.channels == 1 ? "" : "s", d.classes.size());
  for (const char* split : {"train", "val", "test"})
    if (data.has_split(split)) std::printf("%-5s %s images\n", split, thousands(data.size(split)).c_str());
  return 0;
}

}  // namespace

int info(int argc, char** argv) {
  po::options_description options("alexnet info NETWORK.toml [options]\nalexnet info --data FILE.h5");
  std::string placement = "split", exchange, input, data;
  std::string parallel = "auto";
  int classes = 0, towers = 2, world = 1, batch = 128;
  bool json = false;
  options.add_options()("help,h", "print this help")(
      "placement", po::value(&placement)->default_value("split"), "single, split or dense")(
      "towers", po::value(&towers)->default_value(2), "K, the towers the net's kernels are split into")(
      "exchange", po::value(&exchange),
      "comma-separated conv/fc layers that read all maps (default: the network file's)")(
      "classes", po::value(&classes)->default_value(0), "number of classes (0: the network file's)")(
      "input", po::value(&input), "input as C,H,W (default: the network file's)")(
      "json", bool_flag(json),
      "print the placed net as JSON (layers, shapes, groups, exchanges, parameters)")(
      "data", po::value(&data), "instead of a network, describe this dataset file (source, classes, splits)")(
      "parallel", po::value(&parallel)->default_value("auto"),
      "with --world-size: the scheme whose bytes per step to print (auto, split, data, split+data, hybrid)")(
      "world-size", po::value(&world)->default_value(1), "processes in the job, for the bytes per step")(
      "batch", po::value(&batch)->default_value(128), "images per step per replica, for the bytes per step");
  po::options_description hidden;
  std::string network;
  hidden.add_options()("network", po::value(&network));
  po::positional_options_description positional;
  positional.add("network", 1);
  po::options_description all;
  all.add(options).add(hidden);
  po::variables_map vm;
  try {
    std::vector<std::string> args;
    if (argc > 1) args.assign(argv + 1, argv + argc);
    po::store(po::command_line_parser(join_boolean_values(std::move(args), all))
                  .options(all)
                  .positional(positional)
                  .run(),
              vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UserError("info: " + option_error_text(e));
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  if (!data.empty()) {
    if (!network.empty()) throw UserError("info: give a network file or --data, not both");
    return print_dataset(data);
  }
  if (network.empty())
    throw UserError(
        "info: missing the network file (alexnet info NETWORK.toml, or alexnet info --data FILE.h5)");

  PlanOptions plan_options;
  plan_options.placement = parse_placement(placement);
  plan_options.towers = towers;
  plan_options.classes = classes;
  if (vm.count("exchange")) plan_options.exchange = split_commas(exchange);
  if (vm.count("input")) {
    std::vector<std::string> dims = split_commas(input);
    if (dims.size() != 3) throw UserError("--input: expected C,H,W, got '" + input + "'");
    try {
      plan_options.channels = std::stoi(dims[0]);
      plan_options.height = std::stoi(dims[1]);
      plan_options.width = std::stoi(dims[2]);
    } catch (const std::exception&) {
      throw UserError("--input: expected three integers C,H,W, got '" + input + "'");
    }
  }
  if (world < 1) throw UserError("info: --world-size " + std::to_string(world) + ": need at least 1 process");
  if (batch < 1) throw UserError("info: --batch " + std::to_string(batch) + ": need at least 1 image");
  const Parallel scheme = resolve_parallel(parse_parallel(parallel), plan_options.placement, towers, world);
  if (scheme == Parallel::kHybrid) plan_options.hybrid_workers = world;  // a worker per process
  Plan plan = make_plan(load_network_file(network), plan_options);
  if (json) {
    std::fputs(plan_json(plan, network).c_str(), stdout);
    return 0;
  }

  std::printf("network %s (%s), placement %s, %d tower%s\n", network.c_str(), plan.net.name.c_str(),
              placement_name(plan.placement), plan.towers, plan.towers > 1 ? "s" : "");
  std::printf("input [%d, %d, %d], %d classes\n\n", plan.net.channels, plan.net.height, plan.net.width,
              plan.net.classes);
  std::printf("%-16s %-13s %-11s", "node", "type", "spread");
  for (int t = 0; t < plan.towers; ++t)
    std::printf(" %-16s", ("tower " + std::to_string(t) + " out").c_str());
  std::printf(" %12s %10s %14s\n", "params", "MACs", "exchange B/img");
  int64_t exchange_total = 0;
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const PlanNode& node = plan.nodes[i];
    int64_t params = 0;
    for (const LogicalParam& p : plan.params)
      if (p.node == static_cast<int>(i)) params += p.shape.numel();
    std::vector<std::string> shapes;
    for (const TowerWork& w : node.tower) shapes.push_back(w.active ? w.out.str() : "-");
    bool exchange_node = node.kind == PlanNode::Kind::kExchange;
    exchange_total += node.exchange_bytes_per_item;
    std::printf("%-16s %-13s %-11s", node.name.c_str(),
                exchange_node ? "exchange" : layer_kind_name(node.layer_kind),
                spread_label(plan, node).c_str());
    for (const std::string& s : shapes) std::printf(" %-16s", s.c_str());
    std::printf(" %12s %10s %14s\n", params ? thousands(params).c_str() : "",
                node.macs_per_item ? millions(node.macs_per_item).c_str() : "",
                exchange_node ? thousands(node.exchange_bytes_per_item).c_str() : "");
  }
  std::printf("\nparameters: %s\n", thousands(plan.parameter_count()).c_str());
  std::printf("forward MACs per image: %s\n", millions(plan.macs_per_item()).c_str());
  std::printf("exchange bytes per image%s: %s forward, as many backward\n",
              plan.hybrid() ? " of a worker's batch" : "", thousands(exchange_total).c_str());
  std::printf("\nper step, on paper (bytes / link rate gives a lower bound on the time):\n%s",
              describe(step_traffic(plan, scheme, world, batch)).c_str());
  return 0;
}

}  // namespace alexnet::cli
