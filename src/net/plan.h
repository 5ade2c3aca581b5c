// Placement: the logical network turned into what each tower runs.
//
// The logical net has K towers (the paper's K = 2): a layer with split kernels gives tower t the
// outputs [C t / K, C (t+1) / K), and a layer reading only its own tower's maps reads that share
// of its input. Placement maps the towers onto devices:
//
//   single  one device holds all K towers; a layer that reads only its own tower's maps becomes a
//           grouped layer (groups = K), and LRN normalises within each group;
//   split   tower t runs on device t; where a layer reads all maps of a split activation an
//           exchange node is inserted (net/exchange.h: all-gather forward, reduce-scatter
//           backward, or a gather to the one tower that consumes);
//   dense   the one-tower net without groups (the common modern variant); K does not apply.
//
// Activations are tracked by their spread over the towers: replicated (every tower holds all of
// it: the image, an exchange's output), split (tower t holds its share of the logical channels)
// or on one tower. In `single` there is one device tower, and "split" means K channel groups on
// it. A share is uneven when a width does not divide by K; a layer that reads only its own
// tower's maps needs its input to divide (its logical weight would not be rectangular otherwise),
// and so does any grouped layer on one device.
//
// Logical parameters keep one shape under every placement (conv2.weight [256, 48, 5, 5],
// fc6.weight [4096, 9216]); a split layer's tower t holds its share of the rows of each, which is
// one contiguous block of the logical tensor.
//
// Hybrid (Krizhevsky 2014, "one weird trick"; PlanOptions::hybrid_workers = K) is a way of
// spreading the `single` or `dense` form over K device towers (workers), independent of the net's
// logical towers:
//   conv part  every node before the first fc layer runs WHOLE on every worker, as the one-device
//              form builds it, on that worker's own B items of the global batch of K B (spread
//              kBatch); its parameters are replicated (every tower holds the whole tensor), and
//              their gradients are summed over the workers after backward;
//   the gather before the first fc layer is an all-gather along the batch (forward; backward a
//              reduce-scatter): every worker then holds all K B items, all features;
//   fc part    every fc layer is sharded K ways by outputs (rows of its weight, as `split` shards
//              it; uneven when a width does not divide by K), each shard reading all features of
//              all K B items; an all-gather along features before each later fc layer, a gather to
//              tower 0 before the loss, which takes the mean over the K B items.
// A node's batch, per tower, is PlanNode::out_batch_factor times the per-worker batch B.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/network_file.h"

namespace alexnet {

enum class Placement { kSingle, kSplit, kDense };
Placement parse_placement(const std::string& text);  // throws UserError
// "conv3,fc6,fc7" -> {"conv3", "fc6", "fc7"}, as --exchange takes layer lists.
std::vector<std::string> split_commas(const std::string& text);
const char* placement_name(Placement p);

// kBatch (hybrid's conv part): each tower holds all channels of its own B items.
enum class Spread { kReplicated, kSplit, kOneTower, kBatch };
const char* spread_name(Spread s);

// Tower t's share of `width` channels (or features) over K towers: [width t / K, width (t+1) / K).
struct Share {
  int64_t begin = 0, count = 0;
};
Share tower_share(int64_t width, int towers, int t);

struct PlanOptions {
  Placement placement = Placement::kSplit;
  int towers = 2;  // K, the logical net's towers (the paper's 2); ignored by dense
  // Overrides of the network file's [net] section, e.g. from the dataset (0: keep the file's).
  int channels = 0, height = 0, width = 0, classes = 0;
  // When set, exactly these conv/fc layers read all maps (exchange points); the rest read their
  // own tower's. E.g. {"conv3", "fc6", "fc7", "fc8"} is the paper's.
  std::optional<std::vector<std::string>> exchange;
  // K > 0: Krizhevsky's 2014 hybrid over K workers (see above), of the `dense` or `single` form
  // (`split` and `exchange` are refused: each worker runs the conv layers whole, and every fc
  // layer reads all features). 0: off.
  int hybrid_workers = 0;
};

// What one device tower runs for one node: its layer's configuration and its per-item shapes.
struct TowerWork {
  bool active = false;
  LayerConfig config;
  Shape in;  // one item: [C, H, W] or [F]
  Shape out;
  template <typename Config>
  const Config& as() const {
    return std::get<Config>(config);
  }
};

struct PlanNode {
  enum class Kind { kLayer, kExchange };
  Kind kind = Kind::kLayer;
  std::string name;  // the layer's name, or "exchange.<consumer>"
  int layer = -1;    // index into NetworkSpec::layers (for an exchange: its consumer)
  LayerKind layer_kind = LayerKind::kRelu;
  Spread in_spread = Spread::kReplicated, out_spread = Spread::kReplicated;
  int home = 0;                  // the tower of a kOneTower output (for an exchange: its one consumer)
  std::vector<TowerWork> tower;  // one per device tower (Plan::towers)
  // The node's input and output batch on each tower, in units of the net's batch B (Net::batch()):
  // 1, except in hybrid's fc part, where every worker holds the whole global batch (K).
  int in_batch_factor = 1, out_batch_factor = 1;
  // Forward multiply-accumulates per image, all towers together (each image once: hybrid's conv
  // part runs an image on one worker only).
  int64_t macs_per_item = 0;
  // Forward bytes received over all towers per item of the net's batch B (bytes per step: this
  // times B; backward moves as many). Under hybrid a step holds K B images, so an exchange of the
  // fc part moves K times its per-image bytes per item of B.
  int64_t exchange_bytes_per_item = 0;
};

struct LogicalParam {
  std::string name;  // "conv2.weight"
  Shape shape;
  int node = -1;        // the layer node that owns it
  int param_index = 0;  // its place in that layer's param_specs()
  int layer = -1;       // index into NetworkSpec::layers, keys its initial draw
  bool is_bias = false;
  float init_std = 0;    // weights ~ N(0, init_std^2): weight_std, or He's sqrt(2 / fan-in) as placed
  float init_value = 0;  // biases start here
  // Device tower t holds elements [offset[t], offset[t] + count[t]) of the flattened logical tensor.
  std::vector<int64_t> offset;
  std::vector<int64_t> count;
  // Every tower holding it holds the whole tensor (hybrid's conv part): offset 0, count numel on
  // each; a logical read takes the first tower's copy, a write goes to every tower.
  bool replicated = false;
};

struct Plan {
  Placement placement = Placement::kSplit;
  int towers = 2;          // device towers: K under split and hybrid, 1 under single and dense
  int logical_towers = 2;  // channel groups of the logical net (1 under dense)
  int hybrid_workers = 0;  // K under hybrid (= towers), 0 otherwise
  bool hybrid() const { return hybrid_workers > 0; }
  NetworkSpec net;  // with the options' overrides applied
  std::vector<PlanNode> nodes;
  std::vector<LogicalParam> params;

  int64_t parameter_count() const;
  int64_t macs_per_item() const;
};

// Throws UserError naming the network file, the layer's line and the problem when shapes do not
// fit or a connection cannot be placed.
Plan make_plan(const NetworkSpec& net, const PlanOptions& options);

}  // namespace alexnet
