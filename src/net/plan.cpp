#include "net/plan.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

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
    case Spread::kOneTower:
      return "one tower";
    case Spread::kBatch:
      return "batch";
  }
  return "?";
}

Share tower_share(int64_t width, int towers, int t) {
  const int64_t begin = width * t / towers, end = width * (t + 1) / towers;
  return {begin, end - begin};
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

namespace {

Shape one_item(const Shape& item) {
  return item.rank() == 1 ? Shape{1, item[0]} : Shape{1, item[0], item[1], item[2]};
}
Shape drop_batch(const Shape& batched) {
  return batched.rank() == 2 ? Shape{batched[1]} : Shape{batched[1], batched[2], batched[3]};
}
// Channels (or features) [begin, begin + count) of an item shape.
Shape with_channels(const Shape& item, int64_t count) {
  return item.rank() == 1 ? Shape{count} : Shape{count, item[1], item[2]};
}

// Builds the node list layer by layer, carrying the current activation's spread and shapes.
class Planner {
 public:
  Planner(const NetworkSpec& net, const PlanOptions& options) {
    if (options.towers < 1 || options.towers > 64) {
      throw UserError("--towers must be between 1 and 64, got " + std::to_string(options.towers));
    }
    plan_.placement = options.placement;
    if (options.hybrid_workers) check_hybrid(options);
    hybrid_ = options.hybrid_workers > 0;
    plan_.hybrid_workers = options.hybrid_workers;
    plan_.logical_towers = dense() ? 1 : options.towers;
    plan_.towers = hybrid_ ? options.hybrid_workers : split() ? options.towers : 1;
    plan_.net = net;
    NetworkSpec& n = plan_.net;
    if (options.channels) n.channels = options.channels;
    if (options.height) n.height = options.height;
    if (options.width) n.width = options.width;
    if (options.classes) n.classes = options.classes;
    for (LayerSpec& l : n.layers)
      if (l.weights.out_is_classes) l.weights.out = n.classes;
    if (options.exchange) apply_exchange(*options.exchange);
    logical_ = {n.channels, n.height, n.width};
  }

  Plan build() {
    for (size_t i = 0; i < plan_.net.layers.size(); ++i) {
      const LayerSpec& l = plan_.net.layers[i];
      switch (l.type().role) {
        case LayerRole::kWeighted:
          add_weighted(l, static_cast<int>(i));
          break;
        case LayerRole::kFollowsInput:
          add_follower(l, static_cast<int>(i));
          break;
        case LayerRole::kLoss:
          add_loss(l, static_cast<int>(i));
          break;
      }
    }
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
      if (l.has_weights()) l.weights.reads_all = wanted.count(l.name) > 0;
  }

  static void check_hybrid(const PlanOptions& options) {
    const int workers = options.hybrid_workers;
    if (workers < 0 || workers > 64) {
      throw UserError("hybrid: the number of workers must be between 1 and 64, got " +
                      std::to_string(workers));
    }
    if (options.placement == Placement::kSplit) {
      throw UserError(
          "hybrid does not take --placement split: each hybrid worker runs the convolutional layers whole "
          "on its own items; the two-tower net's form for hybrid is --placement single (or dense for the "
          "one-column net)");
    }
    if (options.exchange) {
      throw UserError(
          "--exchange does not apply to hybrid: every fc layer reads all features of the gathered "
          "batch, and the conv layers run whole on each worker");
    }
  }

  // K: the logical net's channel groups (grouped layers of `single`, split shares of `split`).
  int k() const { return plan_.logical_towers; }
  bool split() const { return plan_.placement == Placement::kSplit; }
  bool dense() const { return plan_.placement == Placement::kDense; }
  // Whether a split activation is spread over the device towers by features: under `split`,
  // and in hybrid's fc part (sharded over plan_.towers, which is K under split).
  bool sharded() const { return split() || fc_part_; }
  // Hybrid's conv part: every worker runs the node whole on its own items.
  bool conv_part() const { return hybrid_ && !fc_part_; }
  int batch_factor() const { return fc_part_ ? plan_.towers : 1; }

  // The item shape device tower t holds of the current activation.
  Shape tower_shape(int t) const {
    if (spread_ != Spread::kSplit || !sharded()) return logical_;
    return with_channels(logical_, tower_share(logical_[0], plan_.towers, t).count);
  }
  bool tower_holds(int t) const { return spread_ != Spread::kOneTower || t == home_; }

  // The layer type's own shape rule, its complaint turned into a message naming the layer.
  Shape output_item(const LayerSpec& l, const LayerConfig& config, const Shape& item) const {
    try {
      return drop_batch(l.type().output_shape(config, one_item(item)));
    } catch (const std::invalid_argument& e) {
      fail(l, e.what());
    }
  }

  // The towers' shares of a split activation meet before `consumer`, which reads all maps: on
  // every tower (all-gather), or on the one tower `home` that holds the consumer.
  void add_exchange(const LayerSpec& consumer, int layer, bool to_one, int home) {
    PlanNode node;
    node.kind = PlanNode::Kind::kExchange;
    node.name = "exchange." + consumer.name;
    node.layer = layer;
    node.layer_kind = consumer.kind;
    node.in_spread = Spread::kSplit;
    node.out_spread = to_one ? Spread::kOneTower : Spread::kReplicated;
    node.home = home;
    node.tower.resize(plan_.towers);
    for (int t = 0; t < plan_.towers; ++t) {
      node.tower[t].active = true;
      node.tower[t].in = tower_shape(t);
      node.tower[t].out = logical_;
    }
    // Every tower receives the others' shares (the gather to one tower moves as much: it is an
    // all-gather whose other receivers ignore what they get); under hybrid for K items per item
    // of the per-worker batch.
    node.in_batch_factor = node.out_batch_factor = batch_factor();
    node.exchange_bytes_per_item =
        batch_factor() * (plan_.towers - 1) * logical_.numel() * static_cast<int64_t>(sizeof(float));
    plan_.nodes.push_back(node);
    spread_ = node.out_spread;
    home_ = home;
  }

  // Hybrid, before its first fc layer: the workers' items meet, every worker receiving the other
  // K - 1 workers' B items, all features: K (K - 1) F floats per step and item of B over all
  // workers (net/exchange.h's BatchGather).
  void add_batch_gather(const LayerSpec& consumer, int layer) {
    PlanNode node;
    node.kind = PlanNode::Kind::kExchange;
    node.name = "exchange." + consumer.name;
    node.layer = layer;
    node.layer_kind = consumer.kind;
    node.in_spread = Spread::kBatch;
    node.out_spread = Spread::kReplicated;
    node.tower.resize(plan_.towers);
    for (TowerWork& work : node.tower) {
      work.active = true;
      work.in = work.out = logical_;
    }
    const int64_t workers = plan_.towers;
    node.out_batch_factor = static_cast<int>(workers);
    node.exchange_bytes_per_item =
        workers * (workers - 1) * logical_.numel() * static_cast<int64_t>(sizeof(float));
    plan_.nodes.push_back(node);
    fc_part_ = true;
    spread_ = Spread::kReplicated;  // every worker: all items, all features
  }

  void add_weighted(const LayerSpec& l, int index) {
    const WeightSpec& w = l.weights;
    const bool conv = l.kind == LayerKind::kConv;
    if (conv && logical_.rank() != 3) {
      fail(l, "conv needs [channels, height, width] maps, but its input is " + logical_.str());
    }
    if (!w.split && w.tower >= k() && !dense()) {
      fail(l, "key 'tower' is " + std::to_string(w.tower) + ", but the net has " + std::to_string(k()) +
                  " towers");
    }
    if (spread_ == Spread::kOneTower && (w.split || w.tower != home_)) {
      fail(l, "its input lives on tower " + std::to_string(home_) +
                  " only; a layer after it must live on that tower too");
    }
    const bool own = !dense() && spread_ == Spread::kSplit && !w.reads_all;
    if (own && !w.split) {
      fail(l, "a layer with split = false must read all maps (reads = \"all\") when its input is split");
    }
    if (own && logical_[0] % k()) {
      fail(l, "it reads its own tower's maps, but its input's " + std::to_string(logical_[0]) +
                  " channels do not divide among " + std::to_string(k()) + " towers");
    }
    if (own && !split() && w.out % k()) {
      fail(l, "on one device it is a grouped layer, but 'out' = " + std::to_string(w.out) +
                  " does not divide into " + std::to_string(k()) + " groups");
    }
    if (!conv && own && !split()) {
      fail(l, "an fc layer reading only its own tower's maps is supported in the split placement only");
    }
    if (split() && spread_ == Spread::kSplit && w.reads_all) add_exchange(l, index, !w.split, w.tower);
    // Hybrid shards every fc layer by outputs (its `split` and `tower` keys do not apply), each
    // shard reading all features: a batch gather before the first, a feature gather before the rest.
    if (hybrid_ && !conv && !fc_part_) add_batch_gather(l, index);
    if (hybrid_ && !conv && spread_ == Spread::kSplit) add_exchange(l, index, false, 0);

    // Logical channels (or features) one output reads.
    const int64_t logical_in = own ? logical_[0] / k() : logical_[0];
    const int64_t fan_in_item =
        logical_.numel() / logical_[0] * logical_in;  // fc: the features one output reads
    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = conv_part() ? Spread::kBatch : spread_;
    node.in_batch_factor = node.out_batch_factor = batch_factor();
    node.home = home_;
    node.tower.resize(plan_.towers);
    Shape out_logical;
    if (conv) {
      ConvConfig c = l.as<ConvConfig>();
      c.in_channels = static_cast<int>(logical_[0]);
      c.out_channels = w.out;
      out_logical = output_item(l, c, logical_);
    } else {
      out_logical = {w.out};
    }
    const bool tower_split = (split() && w.split) || fc_part_;
    for (int t = 0; t < plan_.towers; ++t) {
      if (split() && !w.split && w.tower != t) continue;
      TowerWork& work = node.tower[t];
      work.active = true;
      work.in = tower_shape(t);
      const Share outs = tower_split ? tower_share(w.out, plan_.towers, t) : Share{0, w.out};
      // Hybrid's conv part computes each image on one worker only.
      const bool counts = !conv_part() || t == 0;
      if (conv) {
        ConvConfig c = l.as<ConvConfig>();
        c.in_channels = static_cast<int>(work.in[0]);
        c.out_channels = static_cast<int>(outs.count);
        c.groups = own && !split() ? k() : 1;
        work.config = c;
        work.out = with_channels(out_logical, outs.count);
        if (counts) node.macs_per_item += work.out.numel() * logical_in * c.kernel * c.kernel;
      } else {
        work.config = FcConfig{.in_features = work.in.numel(), .out_features = outs.count};
        work.out = {outs.count};
        if (counts) node.macs_per_item += work.in.numel() * outs.count;
      }
    }
    const Spread out = fc_part_                            ? Spread::kSplit
                       : dense() || (!split() && !w.split) ? Spread::kReplicated
                       : w.split                           ? Spread::kSplit
                                                           : Spread::kOneTower;
    node.out_spread = conv_part() ? Spread::kBatch : out;
    if (out == Spread::kOneTower) node.home = w.tower;
    plan_.nodes.push_back(node);
    const int kernel = conv ? l.as<ConvConfig>().kernel : 1;
    add_params(l, index, static_cast<int>(plan_.nodes.size()) - 1,
               conv ? Shape{w.out, logical_in, kernel, kernel} : Shape{w.out, fan_in_item},
               conv ? logical_in * kernel * kernel : fan_in_item);
    spread_ = out;  // in hybrid's conv part, the form's own spread (its channel groups)
    home_ = node.home;
    logical_ = out_logical;
  }

  void add_params(const LayerSpec& l, int index, int node, Shape weight, int64_t fan_in) {
    const WeightSpec& w = l.weights;
    for (int p = 0; p < 2; ++p) {
      LogicalParam param;
      param.name = l.name + (p == 0 ? ".weight" : ".bias");
      param.shape = p == 0 ? weight : Shape{w.out};
      param.node = node;
      param.param_index = p;
      param.layer = index;
      param.is_bias = p == 1;
      param.init_std = w.init == WeightInit::kHe
                           ? static_cast<float>(std::sqrt(2.0 / static_cast<double>(fan_in)))
                           : w.weight_std;
      param.init_value = w.bias_init;
      param.offset.assign(plan_.towers, 0);
      param.count.assign(plan_.towers, 0);
      const int64_t row = param.shape.numel() / w.out;  // elements per output
      if ((split() && w.split) || fc_part_) {
        for (int t = 0; t < plan_.towers; ++t) {
          const Share rows = tower_share(w.out, plan_.towers, t);
          param.offset[t] = rows.begin * row;
          param.count[t] = rows.count * row;
        }
      } else if (conv_part()) {
        param.replicated = true;
        param.count.assign(plan_.towers, param.shape.numel());
      } else {
        param.count[split() ? w.tower : 0] = param.shape.numel();
      }
      plan_.params.push_back(param);
    }
  }

  // Element-wise layers, LRN, pooling, dropout: each tower runs the layer on its share.
  void add_follower(const LayerSpec& l, int index) {
    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = node.out_spread = conv_part() ? Spread::kBatch : spread_;
    node.in_batch_factor = node.out_batch_factor = batch_factor();
    node.home = home_;
    node.tower.resize(plan_.towers);
    // Channel groups of the form on one device, or feature shares over the device towers.
    const bool grouped = (!dense() || fc_part_) && spread_ == Spread::kSplit;
    const int groups = grouped && !sharded() ? k() : 1;
    const LayerType& type = l.type();
    LayerConfig logical = l.config;
    if (type.adapt) type.adapt(logical, {.layer_index = static_cast<uint32_t>(index), .groups = groups});
    const Shape out_logical = output_item(l, logical, logical_);
    const int64_t per_channel = logical_.numel() / logical_[0];
    for (int t = 0; t < plan_.towers; ++t) {
      if (!tower_holds(t)) continue;
      TowerWork& work = node.tower[t];
      work.active = true;
      work.in = tower_shape(t);
      work.config = l.config;
      if (type.adapt) {
        TowerPlace place{.layer_index = static_cast<uint32_t>(index), .groups = groups};
        if (grouped && sharded()) {
          place.logical_width = logical_.numel();
          place.feature_offset = tower_share(logical_[0], plan_.towers, t).begin * per_channel;
        }
        type.adapt(work.config, place);
      }
      work.out = output_item(l, work.config, work.in);
    }
    plan_.nodes.push_back(node);
    logical_ = out_logical;
  }

  void add_loss(const LayerSpec& l, int index) {
    if (logical_.numel() != plan_.net.classes || logical_.rank() != 1) {
      fail(l, "softmax_loss needs one score per class (" + std::to_string(plan_.net.classes) +
                  "), but its input is " + logical_.str());
    }
    if (sharded() && spread_ == Spread::kSplit) add_exchange(l, index, true, 0);
    PlanNode node;
    node.name = l.name;
    node.layer = index;
    node.layer_kind = l.kind;
    node.in_spread = spread_;
    node.in_batch_factor = node.out_batch_factor = batch_factor();
    node.home = spread_ == Spread::kOneTower ? home_ : 0;
    node.out_spread = sharded() ? Spread::kOneTower : Spread::kReplicated;
    node.tower.resize(plan_.towers);
    TowerWork& work = node.tower[node.home];
    work.active = true;
    work.in = work.out = logical_;
    work.config = l.config;
    plan_.nodes.push_back(node);
  }

  Plan plan_;
  bool hybrid_ = false;
  bool fc_part_ = false;  // hybrid, from the batch gather on
  Spread spread_ = Spread::kReplicated;
  int home_ = 0;   // the tower of a kOneTower activation
  Shape logical_;  // the current activation's logical item shape
};

}  // namespace

Plan make_plan(const NetworkSpec& net, const PlanOptions& options) {
  return Planner(net, options).build();
}

}  // namespace alexnet
