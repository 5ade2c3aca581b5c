#include "net/plan.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/errors.h"

namespace alexnet {

Placement parse_placement(const std::string& text) {
  if (text == "single") return Placement::kSingle;
  if (text == "split") return Placement::kSplit;
  if (text == "dense") return Placement::kDense;
  throw UserError("--placement: unknown placement '" + text + "' (expected single, split or dense)");
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::kSingle:
      return "single";
    case Placement::kSplit:
      return "split";
    case Placement::kDense:
      return "dense";
  }
  return "?";
}

const char* spread_name(Spread s) {
  switch (s) {
    case Spread::kReplicated:
      return "replicated";
    case Spread::kSplit:
      return "split";
    case Spread::kTower0:
      return "tower 0";
    case Spread::kTower1:
      return "tower 1";
  }
  return "?";
}

int64_t Plan::parameter_count() const {
  int64_t n = 0;
  for (const LogicalParam& p : params) n += p.shape.numel();
  return n;
}

int64_t Plan::macs_per_item() const {
  int64_t n = 0;
  for (const PlanNode& node : nodes) n += node.macs_per_item;
  return n;
}

int Plan::loss_tower() const {
  const PlanNode& last = nodes.back();
  return last.tower[0].active ? 0 : 1;
}

namespace {

Spread on_tower(int t) {
  return t == 0 ? Spread::kTower0 : Spread::kTower1;
}

// Builds the node list layer by layer, carrying the current activation's spread and shapes.
class Planner {
 public:
  Planner(const NetworkSpec& net, const PlanOptions& options) : options_(options) {
    plan_.placement = options.placement;
    plan_.towers = options.placement == Placement::kSplit ? 2 : 1;
    plan_.net = net;
    NetworkSpec& n = plan_.net;
    if (options.channels) n.channels = options.channels;
    if (options.height) n.height = options.height;
    if (options.width) n.width = options.width;
    if (options.classes) n.classes = options.classes;
    for (LayerSpec& l : n.layers)
      if (l.out_is_classes) l.out = n.classes;
    if (options.exchange) apply_exchange(*options.exchange);
    logical_ = {n.channels, n.height, n.width};
  }

  Plan build() {
    for (size_t i = 0; i < plan_.net.layers.size(); ++i) add_layer(static_cast<int>(i));
    return std::move(plan_);
  }

 private:
  [[noreturn]] void fail(const LayerSpec& l, const std::string& message) const {
    throw UserError(plan_.net.path + ":" + std::to_string(l.line) + ": layer '" + l.name + "': " + message);
  }

  void apply_exchange(const std::vector<std::string>& names) {
    std::set<std::string> wanted(names.begin(), names.end());
    for (const std::string& name : wanted) {
      const LayerSpec* l = plan_.net.find(name);
      if (!l || !l->has_weights()) {
        throw UserError("--exchange: '" + name + "' is not a conv or fc layer of " + plan_.net.path);
      }
    }
    for (LayerSpec& l : plan_.net.layers)
      if (l.has_weights()) l.reads_all = wanted.count(l.name) > 0;
  }

  bool split_placement() const { return plan_.placement == Placement::kSplit; }
  bool dense() const { return plan_.placement == Placement::kDense; }

  // The shape tower t holds of the current activation.
  Shape tower_shape(int t) const {
    if (spread_ != Spread::kSplit || !split_placement()) return logical_;
    return logical_.rank() == 3 ? Shape{logical_[0] / 2, logical_[1], logical_[2]} : Shape{logical_[0] / 2};
  }

  bool tower_holds(int t) const {
    if (spread_ == Spread::kTower0) return t == 0;
    if (spread_ == Spread::kTower1) return t == 1;
    return t < plan_.towers;
  }

  // An all-gather of a split activation, so that the next layer reads all maps.
  void add_exchange(const LayerSpec& consumer, int layer) {
    PlanNode node;
    node.kind = PlanNode::Kind::kExchange;
    node.name = "exchange." + consumer.name;
    node.layer = layer;
    node.layer_kind = consumer.kind;
    node.in_spread = Spread::kSplit;
    node.out_spread = Spread::kReplicated;
    for (int t = 0; t < 2; ++t) {
      node.tower[t].active = true;
      node.tower[t].in = tower_shape(t);
      node.tower[t].out = logical_;
    }
    // Each tower receives the other's half.
    node.exchange_bytes_per_item = 2 * tower_shape(0).numel() * static_cast<int64_t>(sizeof(float));
    plan_.nodes.push_back(node);
    spread_ = Spread::kReplicated;
  }

  void add_layer(int index) {
    const LayerSpec& l = plan_.net.layers[index];
    switch (l.kind) {
      case LayerKind::kConv:
      case LayerKind::kFc:
        add_weighted(l, index);
        break;
      case LayerKind::kSoftmaxLoss:
        add_loss(l, index);
        break;
      default:
        add_elementwise(l, index);
        break;
    }
  }

  void add_weighted(const LayerSpec& l, int index) {
    if (l.kind == LayerKind::kConv && logical_.rank() != 3) {
      fail(l, "conv needs [channels, height, width] maps, but its input is " + logical_.str());
    }
    if ((spread_ == Spread::kTower0 || spread_ == Spread::kTower1) &&
        (l.split || on_tower(l.tower) != spread_)) {
      fail(l, std::string("its input lives on ") + spread_name(spread_) +
                  " only; a layer after it must "
                  "live on that tower too");
    }
    const bool own_half = !dense() && spread_ == Spread::kSplit && !l.reads_all;
    if (own_half && !l.split) {
      fail(l, "a layer with split = false must read all maps (reads = \"all\") when its input is split");
    }
    if (split_placement() && spread_ == Spread::kSplit && l.reads_all) add_exchange(l, index);

    // Logical channels (or features) one output reads.
    const int64_t logical_in = own_half ? logical_[0] / 2 : logical_[0];
    const bool tower_split = split_placement() && l.split;
    const int out_per_tower = tower_split ? l.out / 2 : l.out;
    if (tower_split && l.out % 2)
      fail(l, "a split layer needs an even number of outputs, got " + std::to_string(l.out));

    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = spread_;
    Shape out_logical;
    if (l.kind == LayerKind::kConv) {
      int oh = conv_output_size(static_cast<int>(logical_[1]), l.kernel, l.stride, l.pad);
      int ow = conv_output_size(static_cast<int>(logical_[2]), l.kernel, l.stride, l.pad);
      if (oh <= 0 || ow <= 0) {
        fail(l, "kernel " + std::to_string(l.kernel) + " with pad " + std::to_string(l.pad) +
                    " does not fit its input " + logical_.str());
      }
      out_logical = {l.out, oh, ow};
    } else {
      out_logical = {l.out};
    }
    const int64_t in_item_logical = logical_.numel() / logical_[0] * logical_in;  // fc features read

    for (int t = 0; t < plan_.towers; ++t) {
      bool active = l.split || split_placement() == false || l.tower == t;
      if (!active) continue;
      TowerWork& w = node.tower[t];
      w.active = true;
      w.in = tower_shape(t);
      if (l.kind == LayerKind::kConv) {
        int groups = (!split_placement() && own_half) ? 2 : 1;
        w.conv = {.in_channels = static_cast<int>(w.in[0]),
                  .out_channels = out_per_tower,
                  .kernel = l.kernel,
                  .stride = l.stride,
                  .pad = l.pad,
                  .groups = groups};
        w.out = {out_per_tower, out_logical[1], out_logical[2]};
        node.macs_per_item += w.out.numel() * logical_in * l.kernel * l.kernel;
      } else {
        w.fc = {.in_features = w.in.numel(), .out_features = out_per_tower};
        w.out = {out_per_tower};
        node.macs_per_item += w.in.numel() * out_per_tower;
      }
    }
    node.out_spread = dense()             ? Spread::kReplicated
                      : l.split           ? Spread::kSplit
                      : split_placement() ? on_tower(l.tower)
                                          : Spread::kReplicated;
    if (l.kind == LayerKind::kFc && !dense() && !split_placement() && own_half) {
      fail(l, "an fc layer reading only its own tower's maps is supported in the split placement only");
    }
    plan_.nodes.push_back(node);
    add_params(l, index, static_cast<int>(plan_.nodes.size()) - 1,
               l.kind == LayerKind::kConv ? Shape{l.out, logical_in, l.kernel, l.kernel}
                                          : Shape{l.out, in_item_logical});
    spread_ = node.out_spread;
    logical_ = out_logical;
  }

  void add_params(const LayerSpec& l, int index, int node, Shape weight) {
    for (int p = 0; p < 2; ++p) {
      LogicalParam param;
      param.name = l.name + (p == 0 ? ".weight" : ".bias");
      param.shape = p == 0 ? weight : Shape{l.out};
      param.node = node;
      param.param_index = p;
      param.layer = index;
      param.is_bias = p == 1;
      const int64_t n = param.shape.numel();
      if (split_placement() && l.split) {
        for (int t = 0; t < 2; ++t) {
          param.offset[t] = t * n / 2;
          param.count[t] = n / 2;
        }
      } else {
        int t = split_placement() ? l.tower : 0;
        param.count[t] = n;
      }
      plan_.params.push_back(param);
    }
  }

  void add_elementwise(const LayerSpec& l, int index) {
    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = node.out_spread = spread_;
    Shape out_logical = logical_;
    if (l.kind == LayerKind::kMaxPool || l.kind == LayerKind::kLrn) {
      if (logical_.rank() != 3)
        fail(l, std::string(layer_kind_name(l.kind)) + " needs maps, but its input is " + logical_.str());
    }
    if (l.kind == LayerKind::kMaxPool) {
      int oh = conv_output_size(static_cast<int>(logical_[1]), l.pool.kernel, l.pool.stride, l.pool.pad);
      int ow = conv_output_size(static_cast<int>(logical_[2]), l.pool.kernel, l.pool.stride, l.pool.pad);
      if (oh <= 0 || ow <= 0)
        fail(l, "kernel " + std::to_string(l.pool.kernel) + " does not fit its input " + logical_.str());
      out_logical = {logical_[0], oh, ow};
    }
    const bool grouped = !dense() && spread_ == Spread::kSplit;
    for (int t = 0; t < plan_.towers; ++t) {
      if (!tower_holds(t)) continue;
      TowerWork& w = node.tower[t];
      w.active = true;
      w.in = tower_shape(t);
      w.out = w.in;
      if (l.kind == LayerKind::kMaxPool) {
        w.pool = l.pool;
        w.out = {w.in[0], out_logical[1], out_logical[2]};
      }
      if (l.kind == LayerKind::kLrn) {
        w.lrn = l.lrn;
        w.lrn.groups = grouped && !split_placement() ? 2 : 1;
        if (w.in[0] % w.lrn.groups) fail(l, "cannot split " + std::to_string(w.in[0]) + " channels in two");
      }
      if (l.kind == LayerKind::kDropout) {
        w.dropout = {.p = l.dropout_p, .layer_id = static_cast<uint32_t>(index)};
        if (grouped && split_placement()) {
          w.dropout.logical_width = logical_.numel();
          w.dropout.feature_offset = t * w.in.numel();
        }
      }
    }
    plan_.nodes.push_back(node);
    logical_ = out_logical;
  }

  void add_loss(const LayerSpec& l, int index) {
    if (logical_.numel() != plan_.net.classes || logical_.rank() != 1) {
      fail(l, "softmax_loss needs one score per class (" + std::to_string(plan_.net.classes) +
                  "), but its input is " + logical_.str());
    }
    if (split_placement() && spread_ == Spread::kSplit) add_exchange(l, index);
    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = spread_;
    int t = spread_ == Spread::kTower1 ? 1 : 0;
    node.out_spread = split_placement() ? on_tower(t) : Spread::kReplicated;
    node.tower[t].active = true;
    node.tower[t].in = node.tower[t].out = logical_;
    plan_.nodes.push_back(node);
  }

  const PlanOptions& options_;
  Plan plan_;
  Spread spread_ = Spread::kReplicated;
  Shape logical_;  // the current activation's logical item shape
};

}  // namespace

Plan make_plan(const NetworkSpec& net, const PlanOptions& options) {
  return Planner(net, options).build();
}

}  // namespace alexnet
