#include "net/network_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "net/key_reader.h"

namespace alexnet {

const LayerSpec* NetworkSpec::find(const std::string& layer_name) const {
  for (const LayerSpec& l : layers)
    if (l.name == layer_name) return &l;
  return nullptr;
}

namespace {

// The keys every conv and fc layer shares: outputs, placement on the towers, initialisation.
WeightSpec read_weights(const KeyReader& r, const toml::table& t, const NetworkSpec& net) {
  WeightSpec w;
  const toml::node* out = t.get("out");
  if (out && out->is_string()) {
    if (**out->as_string() != "classes") r.fail(out, "key 'out' must be an integer or \"classes\"");
    w.out_is_classes = true;
    w.out = net.classes;
  } else {
    w.out = r.integer("out", 0, 1, true);
  }
  w.split = r.boolean("split", true);
  std::string own = "own";
  std::string reads = r.string("reads", &own);
  if (reads != "own" && reads != "all")
    r.fail_at("reads", "key 'reads' must be \"own\" or \"all\", got \"" + reads + "\"");
  w.reads_all = reads == "all";
  w.tower = r.integer("tower", 0, 0);
  if (w.split && r.has("tower")) r.fail_at("tower", "key 'tower' applies only to layers with split = false");
  std::string normal = "normal";
  std::string init = r.string("weight_init", &normal);
  if (init != "normal" && init != "he")
    r.fail_at("weight_init", "key 'weight_init' must be \"normal\" or \"he\", got \"" + init + "\"");
  w.init = init == "he" ? WeightInit::kHe : WeightInit::kNormal;
  if (w.init == WeightInit::kHe && r.has("weight_std")) {
    r.fail_at("weight_std", "key 'weight_std' does not apply with weight_init = \"he\" (the fan-in sets it)");
  }
  w.weight_std = r.number("weight_std", 0.01f, 0.0f);
  w.bias_init = r.number("bias_init", 0.0f, -1e30f);
  return w;
}

LayerSpec read_layer(const std::string& origin, const toml::table& t, int index, const NetworkSpec& net) {
  LayerSpec l;
  l.line = static_cast<int>(t.source().begin.line);
  KeyReader first(origin, t, "layer " + std::to_string(index + 1));
  l.name = first.string("name");
  if (l.name.empty() || l.name == "data")
    first.fail_at("name", "layer name '" + l.name + "' is reserved or empty");
  KeyReader r(origin, t, "layer '" + l.name + "'");
  const std::string type_name = r.string("type");
  const LayerType* type = find_layer_type(type_name);
  if (!type)
    r.fail_at("type", "unknown layer type '" + type_name + "' (expected one of " + layer_type_names() + ")");
  l.kind = type->kind;
  std::set<std::string> keys = type->keys;
  keys.insert({"name", "type", "input"});
  if (type->role == LayerRole::kWeighted)
    keys.insert({"out", "split", "reads", "tower", "weight_init", "weight_std", "bias_init"});
  r.only(keys);
  std::string none;
  l.input = r.string("input", &none);
  l.config = type->defaults;
  type->read(r, l.config);
  if (type->role == LayerRole::kWeighted) l.weights = read_weights(r, t, net);
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
  net.text = text;
  KeyReader top(origin, root, "top level");
  top.only({"net", "layers"});
  const toml::table* header = root["net"].as_table();
  if (!header) top.fail(root.get("net"), "missing table [net]");
  KeyReader h(origin, *header, "[net]");
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
