// The layer types a network file may name, in one explicit table (no registration at static
// initialisation). Each entry says everything the rest of the program needs of a type:
//
//   name           what `type = "..."` says in a network file
//   role           how placement treats it (below)
//   defaults       its configuration before the network file's keys
//   keys, read     the network-file keys of its own and how they fill its configuration
//   output_shape   its shape rule, the very function its layers' output_shape() calls
//   adapt          what placement changes in its configuration for one tower (may be null)
//   make           its constructor: the CPU reference, or the CUDA implementation for a GPU
//
// Adding a type means: its layer files (x.h, x.cpp, x_cuda.cu), a row here, CMake and tests.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <variant>

#include "core/backend_options.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/fc.h"
#include "layers/layer.h"
#include "layers/lrn.h"
#include "layers/pool.h"

namespace alexnet {

class KeyReader;

enum class LayerKind { kConv, kFc, kRelu, kTanh, kLrn, kMaxPool, kDropout, kSoftmaxLoss };

// Types without settings of their own.
struct ReluConfig {};
struct TanhConfig {};
struct SoftmaxLossConfig {};

// One type's configuration; the alternative matches the LayerKind.
using LayerConfig = std::variant<ConvConfig, FcConfig, ReluConfig, TanhConfig, LrnConfig, PoolConfig,
                                 DropoutConfig, SoftmaxLossConfig>;

// How placement treats a type:
//   kWeighted      conv and fc: kernels split across the towers (or on one), reading their own
//                  tower's maps or all of them (an exchange in front);
//   kFollowsInput  runs where its input lives, on each tower's share of the maps;
//   kLoss          the head: reads all scores on one tower.
enum class LayerRole { kWeighted, kFollowsInput, kLoss };

// Where one tower's instance of a kFollowsInput layer sits in the logical layer.
struct TowerPlace {
  uint32_t layer_index = 0;    // the layer's place in the network file: keys its random draws
  int groups = 1;              // channel groups on this instance (K towers on one device: K)
  int64_t logical_width = 0;   // features per item of the logical layer (0: this instance's own)
  int64_t feature_offset = 0;  // where this instance's features start in the logical layer
};

struct LayerType {
  const char* name;
  LayerKind kind;
  LayerRole role;
  LayerConfig defaults;
  std::set<std::string> keys;
  void (*read)(const KeyReader& keys, LayerConfig& config);
  Shape (*output_shape)(const LayerConfig& config, const Shape& in);
  void (*adapt)(LayerConfig& config, const TowerPlace& place);
  std::unique_ptr<Layer> (*make)(const LayerConfig& config, Device device, const BackendOptions& backend);
};

// The table's row for a kind, or for a name (nullptr when no type has it).
const LayerType& layer_type(LayerKind kind);
const LayerType* find_layer_type(const std::string& name);
// "conv, fc, relu, ...": every name, for messages.
std::string layer_type_names();
const char* layer_kind_name(LayerKind kind);

}  // namespace alexnet
