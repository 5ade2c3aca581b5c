// Network files: the logical net, written once in TOML, placed at run time.
//
//   [net]
//   name = "alexnet"
//   input = [3, 227, 227]        # channels, height, width (the data may override them)
//   classes = 1000               # the data may override it
//   input_scale = 1.0            # multiplies mean-subtracted pixels (default 1, the paper's)
//
//   [[layers]]
//   name = "conv1"
//   type = "conv"                # a type of the layer table: conv | fc | relu | tanh | lrn |
//                                #   max_pool | dropout | softmax_loss
//   input = "data"               # optional: the previous layer, or "data" for the first
//   out = 96                     # conv/fc outputs; fc may say out = "classes"
//   kernel = 11                  # conv: kernel, stride, pad
//   stride = 4
//   split = true                 # conv/fc: kernels split across the towers (default true)
//   reads = "all"                # conv/fc: "own" tower's maps only, or "all" maps (an exchange)
//   tower = 0                    # conv/fc with split = false: the tower it lives on (default 0)
//   weight_init = "normal"       # conv/fc: "normal" draws N(0, weight_std^2) (the paper's);
//                                #   "he" draws N(0, 2 / fan_in) with the fan-in as placed
//   weight_std = 0.01            # conv/fc with weight_init = "normal" (default 0.01)
//   bias_init = 0.0              # conv/fc: the constant biases start from (default 0)
//
// LRN takes size, alpha (the paper's convention: NOT divided by size), beta and k; max_pool takes
// kernel, stride and pad; dropout takes p. Keys a layer type does not know are errors, so typos
// do not pass silently. Layers form one chain from "data" to a softmax_loss.
#pragma once

#include <string>
#include <vector>

#include "net/layer_table.h"

namespace alexnet {

enum class WeightInit { kNormal, kHe };

// What a conv or fc layer says about its outputs, its place on the towers and its start.
struct WeightSpec {
  int out = 0;  // 0 with out_is_classes: one output per class
  bool out_is_classes = false;
  bool split = true;
  bool reads_all = false;
  int tower = 0;
  WeightInit init = WeightInit::kNormal;
  float weight_std = 0.01f;
  float bias_init = 0.0f;
};

struct LayerSpec {
  std::string name;
  LayerKind kind = LayerKind::kRelu;
  std::string input;   // the producing layer's name, or "data"
  int line = 0;        // where the layer starts in the file, for messages
  WeightSpec weights;  // conv and fc only
  LayerConfig config;  // the type's own keys; placement fills in channels, groups and offsets

  const LayerType& type() const { return layer_type(kind); }
  bool has_weights() const { return type().role == LayerRole::kWeighted; }
  template <typename Config>
  const Config& as() const {
    return std::get<Config>(config);
  }
};

struct NetworkSpec {
  std::string name;
  std::string path;  // the file it came from
  std::string text;  // its text, as read (checkpoints keep a copy: train/checkpoint.h)
  int channels = 3, height = 227, width = 227;
  int classes = 1000;
  // What the loader multiplies mean-subtracted pixels (0-255 scale) by before the first layer.
  // The paper feeds them as they are (1); small nets initialised for unit inputs want ~1/std.
  float input_scale = 1.0f;
  std::vector<LayerSpec> layers;  // in execution order, data first

  const LayerSpec* find(const std::string& layer_name) const;
};

// Reads and checks a network file. Throws UserError naming the file, line and key.
NetworkSpec load_network_file(const std::string& path);
// The same from text, with `origin` standing for the file name in messages.
NetworkSpec parse_network(const std::string& text, const std::string& origin);

}  // namespace alexnet
