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
std::string tower_json(LayerKind kind, bool exchange, const TowerWork& w) {
  std::ostringstream o;
  o << "{";
  Fields f(o);
  f.raw("in", shape_json(w.in)).raw("out", shape_json(w.out));
  if (!exchange) {
    switch (kind) {
      case LayerKind::kConv:
        f.add("in_channels", int64_t{w.conv.in_channels}).add("out_channels", int64_t{w.conv.out_channels});
        f.add("kernel", int64_t{w.conv.kernel}).add("stride", int64_t{w.conv.stride});
        f.add("pad", int64_t{w.conv.pad}).add("groups", int64_t{w.conv.groups});
        break;
      case LayerKind::kFc:
        f.add("in_features", w.fc.in_features).add("out_features", w.fc.out_features);
        break;
      case LayerKind::kLrn:
        f.add("size", int64_t{w.lrn.size}).add("alpha", w.lrn.alpha);
        f.add("beta", w.lrn.beta).add("k", w.lrn.k).add("groups", int64_t{w.lrn.groups});
        break;
      case LayerKind::kMaxPool:
        f.add("kernel", int64_t{w.pool.kernel}).add("stride", int64_t{w.pool.stride});
        f.add("pad", int64_t{w.pool.pad});
        break;
      case LayerKind::kDropout:
        f.add("p", w.dropout.p);
        break;
      case LayerKind::kRelu:
      case LayerKind::kSoftmaxLoss:
        break;
    }
  }
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
    f.add("macs_per_item", node.macs_per_item).add("exchange_bytes_per_item", node.exchange_bytes_per_item);
    if (exchange) {
      f.text("consumer", layer.name);
    } else if (layer.has_weights()) {
      f.add("out", int64_t{layer.out}).add("split", layer.split).add("reads_all", layer.reads_all);
    }
    std::string towers = "[";
    for (int t = 0; t < plan.towers; ++t) {
      const TowerWork& w = node.tower[t];
      towers += (t ? ", " : "") + (w.active ? tower_json(node.layer_kind, exchange, w) : std::string("null"));
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
