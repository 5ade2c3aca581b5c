#include "cli/plan_json.h"

#include <sstream>

#include "core/text_format.h"

namespace alexnet::cli {

namespace {

std::string shape_json(const Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// "key": value pairs, comma-separated; raw() takes a value already in JSON form.
class Fields {
 public:
  explicit Fields(std::ostringstream& o, const char* separator = ", ") : o_(o), separator_(separator) {}
  Fields& raw(const char* key, const std::string& json) {
    o_ << (first_ ? "" : separator_) << json_quote(key) << ": " << json;
    first_ = false;
    return *this;
  }
  Fields& add(const char* key, int64_t v) { return raw(key, std::to_string(v)); }
  Fields& add(const char* key, float v) { return raw(key, shortest_float(v)); }
  Fields& add(const char* key, bool v) { return raw(key, v ? "true" : "false"); }
  Fields& text(const char* key, const std::string& s) { return raw(key, json_quote(s)); }

 private:
  std::ostringstream& o_;
  const char* separator_;
  bool first_ = true;
};

// One tower's share of a node: its shapes and its layer's configuration. The only place that
// reads the per-type configs of a TowerWork.
std::string tower_json(bool exchange, const TowerWork& w) {
  std::ostringstream o;
  o << "{";
  Fields f(o);
  f.raw("in", shape_json(w.in)).raw("out", shape_json(w.out));
  // Each alternative of the layer's configuration writes its own fields.
  struct Write {
    Fields& f;
    void operator()(const ConvConfig& c) const {
      f.add("in_channels", int64_t{c.in_channels}).add("out_channels", int64_t{c.out_channels});
      f.add("kernel", int64_t{c.kernel}).add("stride", int64_t{c.stride});
      f.add("pad", int64_t{c.pad}).add("groups", int64_t{c.groups});
    }
    void operator()(const FcConfig& c) const {
      f.add("in_features", c.in_features).add("out_features", c.out_features);
    }
    void operator()(const LrnConfig& c) const {
      f.add("size", int64_t{c.size}).add("alpha", c.alpha);
      f.add("beta", c.beta).add("k", c.k).add("groups", int64_t{c.groups});
    }
    void operator()(const PoolConfig& c) const {
      f.add("kernel", int64_t{c.kernel}).add("stride", int64_t{c.stride}).add("pad", int64_t{c.pad});
    }
    void operator()(const DropoutConfig& c) const { f.add("p", c.p); }
    void operator()(const ReluConfig&) const {}
    void operator()(const TanhConfig&) const {}
    void operator()(const SoftmaxLossConfig&) const {}
  };
  if (!exchange) std::visit(Write{f}, w.config);
  o << "}";
  return o.str();
}

}  // namespace

std::string plan_json(const Plan& plan, const std::string& network_path) {
  std::ostringstream o;
  int64_t exchange_total = 0;
  for (const PlanNode& node : plan.nodes) exchange_total += node.exchange_bytes_per_item;
  o << "{\n  ";
  Fields top(o, ",\n  ");
  top.text("network", network_path).text("name", plan.net.name);
  top.raw("input", shape_json(Shape{plan.net.channels, plan.net.height, plan.net.width}));
  top.add("input_scale", plan.net.input_scale).add("classes", int64_t{plan.net.classes});
  top.text("placement", placement_name(plan.placement)).add("towers", int64_t{plan.towers});
  top.add("logical_towers", int64_t{plan.logical_towers});
  top.add("parameter_count", plan.parameter_count()).add("macs_per_item", plan.macs_per_item());
  top.add("exchange_bytes_per_item", exchange_total);
  o << ",\n  \"nodes\": [";
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const PlanNode& node = plan.nodes[i];
    const bool exchange = node.kind == PlanNode::Kind::kExchange;
    const LayerSpec& layer = plan.net.layers[node.layer];  // an exchange's: its consumer
    o << (i ? "," : "") << "\n    {";
    Fields f(o);
    f.text("name", node.name).text("kind", exchange ? "exchange" : "layer");
    f.text("type", exchange ? "exchange" : layer_kind_name(node.layer_kind));
    f.text("in_spread", spread_name(node.in_spread)).text("out_spread", spread_name(node.out_spread));
    if (node.out_spread == Spread::kOneTower) f.add("home_tower", int64_t{node.home});
    f.add("macs_per_item", node.macs_per_item).add("exchange_bytes_per_item", node.exchange_bytes_per_item);
    if (exchange) {
      f.text("consumer", layer.name);
    } else if (layer.has_weights()) {
      f.add("out", int64_t{layer.weights.out}).add("split", layer.weights.split);
      f.add("reads_all", layer.weights.reads_all);
    }
    std::string towers = "[";
    for (int t = 0; t < plan.towers; ++t) {
      const TowerWork& w = node.tower[t];
      towers += (t ? ", " : "") + (w.active ? tower_json(exchange, w) : std::string("null"));
    }
    f.raw("towers", towers + "]");
    std::string params = "[";
    int64_t count = 0;
    for (const LogicalParam& p : plan.params) {
      if (p.node != static_cast<int>(i)) continue;
      params += (params.size() > 1 ? ", " : "") + std::string("{\"name\": ") + json_quote(p.name) +
                ", \"shape\": " + shape_json(p.shape) + "}";
      count += p.shape.numel();
    }
    f.raw("params", params + "]").add("parameter_count", count);
    o << "}";
  }
  o << "\n  ]\n}\n";
  return o.str();
}

}  // namespace alexnet::cli
