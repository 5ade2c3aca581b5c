// Placement: the logical network turned into what each tower runs.
//
//   single  one device holds both towers; a layer that reads only its own tower's maps becomes a
//           grouped layer (groups = 2), and LRN normalises within each half;
//   split   tower t runs on device t; where a layer reads all maps of a split activation an
//           exchange node is inserted (all-gather forward, reduce-scatter backward);
//   dense   the one-tower net without groups (the common modern variant).
//
// Activations are tracked by their spread over the towers: replicated (every tower holds all of
// it: the image, an exchange's output), split (tower t holds logical channels [t C/2, (t+1) C/2))
// or on one tower. In `single` there is one tower, and "split" means two channel groups on it.
//
// Logical parameters keep one shape under every placement (conv2.weight [256, 48, 5, 5],
// fc6.weight [4096, 9216]); a split layer's tower t holds rows [t O/2, (t+1) O/2) of each, which
// is one contiguous block of the logical tensor.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/fc.h"
#include "layers/lrn.h"
#include "layers/pool.h"
#include "net/network_file.h"

namespace alexnet {

enum class Placement { kSingle, kSplit, kDense };
Placement parse_placement(const std::string& text);  // throws UserError
// "conv3,fc6,fc7" -> {"conv3", "fc6", "fc7"}, as --exchange takes layer lists.
std::vector<std::string> split_commas(const std::string& text);
const char* placement_name(Placement p);

enum class Spread { kReplicated, kSplit, kTower0, kTower1 };
const char* spread_name(Spread s);

struct PlanOptions {
  Placement placement = Placement::kSplit;
  // Overrides of the network file's [net] section, e.g. from the dataset (0: keep the file's).
  int channels = 0, height = 0, width = 0, classes = 0;
  // When set, exactly these conv/fc layers read all maps (exchange points); the rest read their
  // own tower's. E.g. {"conv3", "fc6", "fc7", "fc8"} is the paper's.
  std::optional<std::vector<std::string>> exchange;
};

// What one tower runs for one node: the config of its layer, and its per-item shapes.
struct TowerWork {
  bool active = false;
  ConvConfig conv;
  FcConfig fc;
  LrnConfig lrn;
  PoolConfig pool;
  DropoutConfig dropout;
  Shape in;  // one item: [C, H, W] or [F]
  Shape out;
};

struct PlanNode {
  enum class Kind { kLayer, kExchange };
  Kind kind = Kind::kLayer;
  std::string name;  // the layer's name, or "exchange.<consumer>"
  int layer = -1;    // index into NetworkSpec::layers (for an exchange: its consumer)
  LayerKind layer_kind = LayerKind::kRelu;
  Spread in_spread = Spread::kReplicated, out_spread = Spread::kReplicated;
  std::array<TowerWork, 2> tower;       // [0] only, unless the placement is split
  int64_t macs_per_item = 0;            // forward multiply-accumulates, all towers together
  int64_t exchange_bytes_per_item = 0;  // forward bytes received over all towers (backward moves as many)
};

struct LogicalParam {
  std::string name;  // "conv2.weight"
  Shape shape;
  int node = -1;        // the layer node that owns it
  int param_index = 0;  // its place in that layer's param_specs()
  int layer = -1;       // index into NetworkSpec::layers, keys its initial draw
  bool is_bias = false;
  // Tower t holds elements [offset[t], offset[t] + count[t]) of the flattened logical tensor.
  std::array<int64_t, 2> offset{0, 0};
  std::array<int64_t, 2> count{0, 0};
};

struct Plan {
  Placement placement = Placement::kSplit;
  int towers = 2;
  NetworkSpec net;  // with the options' overrides applied
  std::vector<PlanNode> nodes;
  std::vector<LogicalParam> params;

  int64_t parameter_count() const;
  int64_t macs_per_item() const;
  int loss_tower() const;
};

// Throws UserError naming the network file, the layer's line and the problem when shapes do not
// fit or a connection cannot be placed.
Plan make_plan(const NetworkSpec& net, const PlanOptions& options);

}  // namespace alexnet
