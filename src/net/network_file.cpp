#include "net/network_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"

namespace alexnet {

const char* layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kFc:
      return "fc";
    case LayerKind::kRelu:
      return "relu";
    case LayerKind::kLrn:
      return "lrn";
    case LayerKind::kMaxPool:
      return "max_pool";
    case LayerKind::kDropout:
      return "dropout";
    case LayerKind::kSoftmaxLoss:
      return "softmax_loss";
  }
  return "?";
}

const LayerSpec* NetworkSpec::find(const std::string& layer_name) const {
  for (const LayerSpec& l : layers)
    if (l.name == layer_name) return &l;
  return nullptr;
}

namespace {

const std::map<std::string, LayerKind> kKinds = {
    {"conv", LayerKind::kConv},
    {"fc", LayerKind::kFc},
    {"relu", LayerKind::kRelu},
    {"lrn", LayerKind::kLrn},
    {"max_pool", LayerKind::kMaxPool},
    {"dropout", LayerKind::kDropout},
    {"softmax_loss", LayerKind::kSoftmaxLoss},
};

// The keys each type accepts besides name, type and input.
std::set<std::string> allowed_keys(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv:
      return {"out", "kernel", "stride", "pad", "split", "reads", "tower", "weight_std", "bias_init"};
    case LayerKind::kFc:
      return {"out", "split", "reads", "tower", "weight_std", "bias_init"};
    case LayerKind::kLrn:
      return {"size", "alpha", "beta", "k"};
    case LayerKind::kMaxPool:
      return {"kernel", "stride", "pad"};
    case LayerKind::kDropout:
      return {"p"};
    default:
      return {};
  }
}

// Reads keys of one table and turns every problem into "file:line: where: key 'k' ...".
class Reader {
 public:
  Reader(const std::string& origin, const toml::table& table, std::string where)
      : origin_(origin), table_(table), where_(std::move(where)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& message) const {
    int line = node ? static_cast<int>(node->source().begin.line) : line_of_table();
    throw UserError(origin_ + ":" + std::to_string(line) + ": " + where_ + ": " + message);
  }
  int line_of_table() const { return static_cast<int>(table_.source().begin.line); }
  const toml::node* get(const char* key) const { return table_.get(key); }

  static std::string type_of(const toml::node& n) {
    std::ostringstream s;
    s << n.type();
    return s.str();
  }

  std::string string(const char* key, const std::string* fallback = nullptr) const {
    const toml::node* n = get(key);
    if (!n) {
      if (fallback) return *fallback;
      fail(nullptr, std::string("missing key '") + key + "'");
    }
    if (!n->is_string()) fail(n, std::string("key '") + key + "' must be a string, got " + type_of(*n));
    return **n->as_string();
  }

  int integer(const char* key, int fallback, int min, bool required = false) const {
    const toml::node* n = get(key);
    if (!n) {
      if (required) fail(nullptr, std::string("missing key '") + key + "'");
      return fallback;
    }
    if (!n->is_integer()) fail(n, std::string("key '") + key + "' must be an integer, got " + type_of(*n));
    int64_t v = **n->as_integer();
    if (v < min || v > (1 << 30)) {
      fail(n, std::string("key '") + key + "' must be at least " + std::to_string(min) + ", got " +
                  std::to_string(v));
    }
    return static_cast<int>(v);
  }

  float number(const char* key, float fallback, float min) const {
    const toml::node* n = get(key);
    if (!n) return fallback;
    if (!n->is_number()) fail(n, std::string("key '") + key + "' must be a number, got " + type_of(*n));
    double v = n->is_integer() ? static_cast<double>(**n->as_integer()) : **n->as_floating_point();
    if (!(v >= min)) fail(n, std::string("key '") + key + "' must be at least " + std::to_string(min));
    return static_cast<float>(v);
  }

  bool boolean(const char* key, bool fallback) const {
    const toml::node* n = get(key);
    if (!n) return fallback;
    if (!n->is_boolean()) fail(n, std::string("key '") + key + "' must be true or false, got " + type_of(*n));
    return **n->as_boolean();
  }

  void only(const std::set<std::string>& keys) const {
    for (auto&& [key, node] : table_) {
      if (!keys.count(std::string(key.str()))) fail(&node, "unknown key '" + std::string(key.str()) + "'");
    }
  }

 private:
  const std::string& origin_;
  const toml::table& table_;
  std::string where_;
};

LayerSpec read_layer(const std::string& origin, const toml::table& t, int index, const NetworkSpec& net) {
  LayerSpec l;
  l.line = static_cast<int>(t.source().begin.line);
  Reader first(origin, t, "layer " + std::to_string(index + 1));
  l.name = first.string("name");
  if (l.name.empty() || l.name == "data")
    first.fail(t.get("name"), "layer name '" + l.name + "' is reserved or empty");
  Reader r(origin, t, "layer '" + l.name + "'");
  std::string type = r.string("type");
  auto kind = kKinds.find(type);
  if (kind == kKinds.end()) {
    r.fail(t.get("type"), "unknown layer type '" + type +
                              "' (expected conv, fc, relu, lrn, max_pool, dropout or softmax_loss)");
  }
  l.kind = kind->second;
  std::set<std::string> keys = allowed_keys(l.kind);
  keys.insert({"name", "type", "input"});
  r.only(keys);
  std::string none;
  l.input = r.string("input", &none);

  switch (l.kind) {
    case LayerKind::kConv:
    case LayerKind::kFc: {
      const toml::node* out = t.get("out");
      if (out && out->is_string()) {
        if (**out->as_string() != "classes") r.fail(out, "key 'out' must be an integer or \"classes\"");
        l.out_is_classes = true;
        l.out = net.classes;
      } else {
        l.out = r.integer("out", 0, 1, true);
      }
      if (l.kind == LayerKind::kConv) {
        l.kernel = r.integer("kernel", 0, 1, true);
        l.stride = r.integer("stride", 1, 1);
        l.pad = r.integer("pad", 0, 0);
      }
      l.split = r.boolean("split", true);
      std::string all = "own";
      std::string reads = r.string("reads", &all);
      if (reads != "own" && reads != "all")
        r.fail(t.get("reads"), "key 'reads' must be \"own\" or \"all\", got \"" + reads + "\"");
      l.reads_all = reads == "all";
      l.tower = r.integer("tower", 0, 0);
      if (l.tower > 1) r.fail(t.get("tower"), "key 'tower' must be 0 or 1");
      if (l.split && t.get("tower"))
        r.fail(t.get("tower"), "key 'tower' applies only to layers with split = false");
      if (l.split && !l.out_is_classes && l.out % 2) {
        r.fail(t.get("out"), "a split layer needs an even 'out' (" + std::to_string(l.out) + ")");
      }
      l.weight_std = r.number("weight_std", 0.01f, 0.0f);
      l.bias_init = r.number("bias_init", 0.0f, -1e30f);
      break;
    }
    case LayerKind::kLrn:
      l.lrn.size = r.integer("size", 5, 1);
      l.lrn.alpha = r.number("alpha", 1e-4f, 0.0f);
      l.lrn.beta = r.number("beta", 0.75f, 0.0f);
      l.lrn.k = r.number("k", 2.0f, 1e-30f);
      break;
    case LayerKind::kMaxPool:
      l.pool.kernel = r.integer("kernel", 3, 1);
      l.pool.stride = r.integer("stride", 2, 1);
      l.pool.pad = r.integer("pad", 0, 0);
      if (l.pool.pad >= l.pool.kernel) r.fail(t.get("pad"), "key 'pad' must be smaller than 'kernel'");
      break;
    case LayerKind::kDropout:
      l.dropout_p = r.number("p", 0.5f, 0.0f);
      if (l.dropout_p >= 1.0f) r.fail(t.get("p"), "key 'p' must be below 1");
      break;
    default:
      break;
  }
  return l;
}

// Orders the layers as one chain from "data" to the loss, or says what breaks the chain.
std::vector<LayerSpec> chain(const std::string& origin, std::vector<LayerSpec> layers) {
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0 && layers[i].input.empty()) layers[i].input = layers[i - 1].name;
    if (i == 0 && layers[i].input.empty()) layers[i].input = "data";
    if (!by_name.emplace(layers[i].name, i).second) {
      throw UserError(origin + ":" + std::to_string(layers[i].line) + ": layer name '" + layers[i].name +
                      "' is used twice");
    }
  }
  std::map<std::string, size_t> consumer;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    if (l.input != "data" && !by_name.count(l.input)) {
      throw UserError(origin + ":" + std::to_string(l.line) + ": layer '" + l.name + "': input '" + l.input +
                      "' is not a layer of this network");
    }
    if (!consumer.emplace(l.input, i).second) {
      throw UserError(origin + ":" + std::to_string(l.line) + ": layer '" + l.name + "': '" + l.input +
                      "' already feeds layer '" + layers[consumer[l.input]].name +
                      "' (networks are chains; branches are not supported)");
    }
  }
  std::vector<LayerSpec> ordered;
  std::string at = "data";
  while (consumer.count(at)) {
    size_t i = consumer[at];
    ordered.push_back(layers[i]);
    at = layers[i].name;
  }
  if (ordered.size() != layers.size()) {
    // Whatever the walk from data did not reach hangs off a cycle.
    for (const LayerSpec& l : layers) {
      bool reached =
          std::any_of(ordered.begin(), ordered.end(), [&](const LayerSpec& o) { return o.name == l.name; });
      if (!reached) {
        throw UserError(origin + ":" + std::to_string(l.line) + ": layer '" + l.name +
                        "' is not reachable from data: its inputs form a cycle");
      }
    }
  }
  if (ordered.empty() || ordered.back().kind != LayerKind::kSoftmaxLoss) {
    throw UserError(origin + ": the chain from data must end in a softmax_loss layer");
  }
  for (size_t i = 0; i + 1 < ordered.size(); ++i) {
    if (ordered[i].kind == LayerKind::kSoftmaxLoss) {
      throw UserError(origin + ":" + std::to_string(ordered[i].line) + ": layer '" + ordered[i].name +
                      "': softmax_loss must be the last layer");
    }
  }
  return ordered;
}

}  // namespace

NetworkSpec parse_network(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw UserError(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                    std::string(e.description()));
  }
  NetworkSpec net;
  net.path = origin;
  Reader top(origin, root, "top level");
  top.only({"net", "layers"});
  const toml::table* header = root["net"].as_table();
  if (!header) top.fail(root.get("net"), "missing table [net]");
  Reader h(origin, *header, "[net]");
  h.only({"name", "input", "classes", "input_scale"});
  net.name = h.string("name");
  net.classes = h.integer("classes", 1000, 1);
  net.input_scale = h.number("input_scale", 1.0f, 1e-30f);
  const toml::node* input = header->get("input");
  if (!input) h.fail(nullptr, "missing key 'input' (expected [channels, height, width])");
  const toml::array* dims = input->as_array();
  if (!dims || dims->size() != 3 || !dims->is_homogeneous(toml::node_type::integer)) {
    h.fail(input, "key 'input' must be three integers [channels, height, width]");
  }
  int* targets[3] = {&net.channels, &net.height, &net.width};
  for (int i = 0; i < 3; ++i) {
    int64_t v = **(*dims)[i].as_integer();
    if (v < 1 || v > 65536) h.fail(input, "key 'input' must hold positive sizes");
    *targets[i] = static_cast<int>(v);
  }

  const toml::array* layers = root["layers"].as_array();
  if (!layers || layers->empty()) top.fail(root.get("layers"), "missing [[layers]]: a network needs layers");
  std::vector<LayerSpec> specs;
  for (size_t i = 0; i < layers->size(); ++i) {
    const toml::table* t = (*layers)[i].as_table();
    if (!t) top.fail(&(*layers)[i], "each entry of 'layers' must be a table ([[layers]])");
    specs.push_back(read_layer(origin, *t, static_cast<int>(i), net));
  }
  net.layers = chain(origin, std::move(specs));
  return net;
}

NetworkSpec load_network_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open network file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_network(text.str(), path);
}

}  // namespace alexnet
