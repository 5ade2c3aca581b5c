#include "net/layer_table.h"

#include <array>

#include "layers/relu.h"
#include "layers/softmax_loss.h"
#include "layers/tanh.h"
#include "net/key_reader.h"

namespace alexnet {

namespace {

// --- per-type readers, shape rules and adaptations ----------------------------------------------

void read_conv(const KeyReader& r, LayerConfig& config) {
  auto& c = std::get<ConvConfig>(config);
  c.kernel = r.integer("kernel", 0, 1, true);
  c.stride = r.integer("stride", 1, 1);
  c.pad = r.integer("pad", 0, 0);
}

void read_lrn(const KeyReader& r, LayerConfig& config) {
  auto& c = std::get<LrnConfig>(config);
  c.size = r.integer("size", 5, 1);
  c.alpha = r.number("alpha", 1e-4f, 0.0f);
  c.beta = r.number("beta", 0.75f, 0.0f);
  c.k = r.number("k", 2.0f, 1e-30f);
}

void read_pool(const KeyReader& r, LayerConfig& config) {
  auto& c = std::get<PoolConfig>(config);
  c.kernel = r.integer("kernel", 3, 1);
  c.stride = r.integer("stride", 2, 1);
  c.pad = r.integer("pad", 0, 0);
  if (c.pad >= c.kernel) r.fail_at("pad", "key 'pad' must be smaller than 'kernel'");
}

void read_dropout(const KeyReader& r, LayerConfig& config) {
  auto& c = std::get<DropoutConfig>(config);
  c.p = r.number("p", 0.5f, 0.0f);
  if (c.p >= 1.0f) r.fail_at("p", "key 'p' must be below 1");
}

void read_nothing(const KeyReader&, LayerConfig&) {}

Shape same_shape(const LayerConfig&, const Shape& in) {
  return in;
}

Shape loss_shape(const LayerConfig&, const Shape& in) {
  if (in.rank() != 2) throw std::invalid_argument("softmax_loss: input " + in.str() + " is not [N, classes]");
  return in;
}

template <typename Config, Shape (*Rule)(const Config&, const Shape&)>
Shape shape_of(const LayerConfig& config, const Shape& in) {
  return Rule(std::get<Config>(config), in);
}

void adapt_lrn(LayerConfig& config, const TowerPlace& place) {
  std::get<LrnConfig>(config).groups = place.groups;
}

void adapt_dropout(LayerConfig& config, const TowerPlace& place) {
  auto& c = std::get<DropoutConfig>(config);
  c.layer_id = place.layer_index;
  c.logical_width = place.logical_width;
  c.feature_offset = place.feature_offset;
}

// --- constructors -------------------------------------------------------------------------------

std::unique_ptr<Layer> new_conv(const LayerConfig& c, Device d, const BackendOptions& b) {
  return make_conv(std::get<ConvConfig>(c), d, b);
}
std::unique_ptr<Layer> new_fc(const LayerConfig& c, Device d, const BackendOptions& b) {
  return make_fc(std::get<FcConfig>(c), d, b);
}
std::unique_ptr<Layer> new_relu(const LayerConfig&, Device d, const BackendOptions&) {
  return make_relu(d);
}
std::unique_ptr<Layer> new_tanh(const LayerConfig&, Device d, const BackendOptions&) {
  return make_tanh(d);
}
std::unique_ptr<Layer> new_lrn(const LayerConfig& c, Device d, const BackendOptions&) {
  return make_lrn(std::get<LrnConfig>(c), d);
}
std::unique_ptr<Layer> new_max_pool(const LayerConfig& c, Device d, const BackendOptions&) {
  return make_max_pool(std::get<PoolConfig>(c), d);
}
std::unique_ptr<Layer> new_dropout(const LayerConfig& c, Device d, const BackendOptions&) {
  return make_dropout(std::get<DropoutConfig>(c), d);
}
std::unique_ptr<Layer> new_softmax_loss(const LayerConfig&, Device d, const BackendOptions&) {
  return make_softmax_loss(d);
}

// --- the table ----------------------------------------------------------------------------------

using R = LayerRole;
const std::array<LayerType, 8> kTypes = {{
    {"conv",
     LayerKind::kConv,
     R::kWeighted,
     ConvConfig{},
     {"kernel", "stride", "pad"},
     read_conv,
     shape_of<ConvConfig, conv_output_shape>,
     nullptr,
     new_conv},
    {"fc",
     LayerKind::kFc,
     R::kWeighted,
     FcConfig{},
     {},
     read_nothing,
     shape_of<FcConfig, fc_output_shape>,
     nullptr,
     new_fc},
    {"relu",
     LayerKind::kRelu,
     R::kFollowsInput,
     ReluConfig{},
     {},
     read_nothing,
     same_shape,
     nullptr,
     new_relu},
    {"tanh",
     LayerKind::kTanh,
     R::kFollowsInput,
     TanhConfig{},
     {},
     read_nothing,
     same_shape,
     nullptr,
     new_tanh},
    {"lrn",
     LayerKind::kLrn,
     R::kFollowsInput,
     LrnConfig{},
     {"size", "alpha", "beta", "k"},
     read_lrn,
     shape_of<LrnConfig, lrn_output_shape>,
     adapt_lrn,
     new_lrn},
    {"max_pool",
     LayerKind::kMaxPool,
     R::kFollowsInput,
     PoolConfig{},
     {"kernel", "stride", "pad"},
     read_pool,
     shape_of<PoolConfig, max_pool_output_shape>,
     nullptr,
     new_max_pool},
    {"dropout",
     LayerKind::kDropout,
     R::kFollowsInput,
     DropoutConfig{},
     {"p"},
     read_dropout,
     shape_of<DropoutConfig, dropout_output_shape>,
     adapt_dropout,
     new_dropout},
    {"softmax_loss",
     LayerKind::kSoftmaxLoss,
     R::kLoss,
     SoftmaxLossConfig{},
     {},
     read_nothing,
     loss_shape,
     nullptr,
     new_softmax_loss},
}};

}  // namespace

const LayerType& layer_type(LayerKind kind) {
  for (const LayerType& t : kTypes)
    if (t.kind == kind) return t;
  throw std::logic_error("layer kind missing from the layer table");
}

const LayerType* find_layer_type(const std::string& name) {
  for (const LayerType& t : kTypes)
    if (name == t.name) return &t;
  return nullptr;
}

std::string layer_type_names() {
  std::string names;
  for (const LayerType& t : kTypes) names += (names.empty() ? "" : ", ") + std::string(t.name);
  return names;
}

const char* layer_kind_name(LayerKind kind) {
  return layer_type(kind).name;
}

}  // namespace alexnet
