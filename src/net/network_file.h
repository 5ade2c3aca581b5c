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
//   type = "conv"                # conv | fc | relu | lrn | max_pool | dropout | softmax_loss
//   input = "data"               # optional: the previous layer, or "data" for the first
//   out = 96                     # conv/fc outputs; fc may say out = "classes"
//   kernel = 11                  # conv: kernel, stride, pad
//   stride = 4
//   split = true                 # conv/fc: kernels split across the two towers (default true)
//   reads = "all"                # conv/fc: "own" tower's maps only, or "all" maps (an exchange)
//   tower = 0                    # conv/fc with split = false: the tower it lives on (default 0)
//   weight_std = 0.01            # conv/fc: weights ~ N(0, weight_std^2) (default 0.01)
//   bias_init = 0.0              # conv/fc: the constant biases start from (default 0)
//
// LRN takes size, alpha (the paper's convention: NOT divided by size), beta and k; max_pool takes
// kernel, stride and pad; dropout takes p. Keys a layer type does not know are errors, so typos
// do not pass silently. Layers form one chain from "data" to a softmax_loss.
#pragma once

#include <string>
#include <vector>

#include "layers/lrn.h"
#include "layers/pool.h"

namespace alexnet {

enum class LayerKind { kConv, kFc, kRelu, kLrn, kMaxPool, kDropout, kSoftmaxLoss };

const char* layer_kind_name(LayerKind kind);

struct LayerSpec {
  std::string name;
  LayerKind kind = LayerKind::kRelu;
  std::string input;  // the producing layer's name, or "data"
  int line = 0;       // where the layer starts in the file, for messages

  // conv and fc
  int out = 0;  // 0 with out_is_classes: one output per class
  bool out_is_classes = false;
  int kernel = 1, stride = 1, pad = 0;
  bool split = true;
  bool reads_all = false;
  int tower = 0;
  float weight_std = 0.01f;
  float bias_init = 0.0f;

  LrnConfig lrn;
  PoolConfig pool;
  float dropout_p = 0.5f;

  bool has_weights() const { return kind == LayerKind::kConv || kind == LayerKind::kFc; }
};

struct NetworkSpec {
  std::string name;
  std::string path;  // the file it came from
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
