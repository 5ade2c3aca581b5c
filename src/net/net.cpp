#include "net/net.h"

#include <glog/logging.h>

#include <cstring>
#include <stdexcept>

#include "core/device_ops.h"
#include "core/errors.h"
#include "core/philox.h"
#include "layers/relu.h"
#include "layers/softmax_loss.h"

namespace alexnet {

// A tower's device and streams. The compute stream runs the layers and the optimizer, the
// communication stream the exchanges, the copy stream each batch's way from the host; events
// order them. On the CPU all three are the inline CPU stream and the events are no-ops.
struct Net::TowerState {
  Device device;
  Stream stream;       // compute
  Stream comm_stream;  // exchanges
  Stream copy_stream;  // host -> device
  // The batch's images, replicated on every tower, and its labels (on a GPU; the CPU reads the
  // host's). Two of each: the next batch arrives while backward still reads the current one.
  std::array<Tensor, 2> input;
  std::array<DeviceBuffer, 2> labels;
  Event input_ready, compute_ready, exchanged;
  Tensor params;  // flat
  Tensor grads;   // flat, same layout
};

struct Net::NodeState {
  std::array<std::unique_ptr<Layer>, 2> layers;
  std::array<Tensor, 2> out;
  std::array<Tensor, 2> out_grad;
  std::array<Tensor, 2> staging;  // exchanges: the communicator's rank-major buffer
};

// Timing events around one node on each tower.
struct Net::Stopwatch {
  std::array<std::unique_ptr<Event>, 2> start, end;
  Stopwatch(const std::vector<std::unique_ptr<TowerState>>& towers) {
    for (size_t t = 0; t < towers.size(); ++t) {
      start[t] = std::make_unique<Event>(towers[t]->device, true);
      end[t] = std::make_unique<Event>(towers[t]->device, true);
    }
  }
};

namespace {

std::unique_ptr<Layer> make_tower_layer(LayerKind kind, const TowerWork& w, Device device,
                                        const BackendOptions& backend) {
  switch (kind) {
    case LayerKind::kConv:
      return make_conv(w.conv, device, backend);
    case LayerKind::kFc:
      return make_fc(w.fc, device, backend);
    case LayerKind::kRelu:
      return make_relu(device);
    case LayerKind::kLrn:
      return make_lrn(w.lrn, device);
    case LayerKind::kMaxPool:
      return make_max_pool(w.pool, device);
    case LayerKind::kDropout:
      return make_dropout(w.dropout, device);
    case LayerKind::kSoftmaxLoss:
      return make_softmax_loss(device);
  }
  LOG(FATAL) << "unknown layer kind";
  return nullptr;
}

// [towers][batch][block] <-> [batch][towers][block]: the communicator's rank-major layout
// against the logical channel order of one item. One strided copy per tower (cudaMemcpy2DAsync
// on a GPU).
void interleave(const float* rank_major, float* item_major, int towers, int64_t batch, int64_t block,
                Device device, const Stream& stream) {
  for (int r = 0; r < towers; ++r)
    copy_rows_async(rank_major + r * batch * block, block, item_major + r * block, towers * block, block,
                    batch, device, stream);
}
void deinterleave(const float* item_major, float* rank_major, int towers, int64_t batch, int64_t block,
                  Device device, const Stream& stream) {
  for (int r = 0; r < towers; ++r)
    copy_rows_async(item_major + r * block, towers * block, rank_major + r * batch * block, block, block,
                    batch, device, stream);
}

}  // namespace

Net::Net(Plan plan, std::vector<Device> devices, Communicator* comm, int batch, const BackendOptions& backend)
    : plan_(std::move(plan)), batch_(batch), comm_(comm) {
  if (static_cast<int>(devices.size()) != plan_.towers) {
    throw UserError(std::string("placement ") + placement_name(plan_.placement) + " needs " +
                    std::to_string(plan_.towers) + " device(s), got " + std::to_string(devices.size()));
  }
  if (batch <= 0) throw UserError("--batch must be positive, got " + std::to_string(batch));
  CHECK(plan_.towers == 1 || comm_) << "a split net needs a communicator";
  for (Device d : devices) {
    auto t = std::make_unique<TowerState>();
    t->device = d;
    if (d.is_cuda()) {
      t->stream = Stream(d);
      t->comm_stream = Stream(d);
      t->copy_stream = Stream(d);
      t->input_ready = Event(d);
      t->compute_ready = Event(d);
      t->exchanged = Event(d);
      for (DeviceBuffer& l : t->labels) l = DeviceBuffer(sizeof(int32_t) * batch, d);
    }
    for (Tensor& in : t->input)
      in = Tensor(batched({plan_.net.channels, plan_.net.height, plan_.net.width}), d);
    towers_.push_back(std::move(t));
  }

  // Layers, activations, and where each layer's parameters sit in its tower's flat buffer.
  std::vector<int64_t> flat_size(plan_.towers, 0);
  std::vector<std::vector<std::array<int64_t, 2>>> node_param_offsets(plan_.nodes.size());
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    auto state = std::make_unique<NodeState>();
    for (int t = 0; t < plan_.towers; ++t) {
      const TowerWork& w = node.tower[t];
      if (!w.active) continue;
      Device d = towers_[t]->device;
      state->out[t] = Tensor(batched(w.out), d);
      state->out_grad[t] = Tensor::zeros(batched(w.out), d);
      if (node.kind == PlanNode::Kind::kExchange) {
        state->staging[t] = Tensor(batched(w.out), d);
        continue;
      }
      state->layers[t] = make_tower_layer(node.layer_kind, w, d, backend);
      std::vector<ParamSpec> specs = state->layers[t]->param_specs();
      node_param_offsets[i].resize(specs.size());
      for (size_t p = 0; p < specs.size(); ++p) {
        node_param_offsets[i][p][t] = flat_size[t];
        flat_size[t] += specs[p].shape.numel();
      }
    }
    if (node.layer_kind == LayerKind::kSoftmaxLoss) loss_node_ = static_cast<int>(i);
    nodes_.push_back(std::move(state));
  }
  for (int t = 0; t < plan_.towers; ++t) {
    towers_[t]->params = Tensor::zeros({std::max<int64_t>(flat_size[t], 1)}, towers_[t]->device);
    towers_[t]->grads = Tensor::zeros({std::max<int64_t>(flat_size[t], 1)}, towers_[t]->device);
  }
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    for (int t = 0; t < plan_.towers; ++t) {
      Layer* layer = nodes_[i]->layers[t].get();
      if (!layer) continue;
      std::vector<View> p, g;
      std::vector<ParamSpec> specs = layer->param_specs();
      for (size_t k = 0; k < specs.size(); ++k) {
        int64_t at = node_param_offsets[i][k][t];
        p.push_back({towers_[t]->params.data() + at, specs[k].shape, towers_[t]->device});
        g.push_back({towers_[t]->grads.data() + at, specs[k].shape, towers_[t]->device});
      }
      layer->bind(std::move(p), std::move(g));
    }
  }
  for (const LogicalParam& lp : plan_.params) {
    std::array<int64_t, 2> at{0, 0};
    for (int t = 0; t < plan_.towers; ++t) {
      if (!lp.count[t]) continue;
      at[t] = node_param_offsets[lp.node][lp.param_index][t];
      CHECK_EQ(nodes_[lp.node]->layers[t]->param_specs()[lp.param_index].shape.numel(), lp.count[t])
          << lp.name;
    }
    param_flat_offset_.push_back(at);
  }
  CHECK_GE(loss_node_, 0);
}

Net::~Net() = default;

void Net::set_profiling(bool on) {
  profiling_ = on;
  timing_.assign(plan_.nodes.size(), NodeTiming{});
  stopwatches_.clear();
  if (!on) return;
  for (size_t i = 0; i < plan_.nodes.size(); ++i)
    stopwatches_.push_back(std::make_unique<Stopwatch>(towers_));
}

void Net::synchronize() const {
  for (const auto& t : towers_) {
    t->copy_stream.synchronize();
    t->stream.synchronize();
    t->comm_stream.synchronize();
  }
}

const Stream& Net::stream(int tower) const {
  return towers_.at(tower)->stream;
}

Device Net::device(int tower) const {
  return towers_.at(tower)->device;
}

Shape Net::batched(const Shape& item) const {
  if (item.rank() == 1) return {batch_, item[0]};
  return {batch_, item[0], item[1], item[2]};
}

View Net::params(int tower) {
  return towers_.at(tower)->params.view();
}
View Net::grads(int tower) {
  return towers_.at(tower)->grads.view();
}

ConstView Net::node_input(size_t node, int tower) const {
  if (node == 0) return towers_[tower]->input[slot_].view();
  return nodes_[node - 1]->out[tower].view();
}

View Net::node_input_grad(size_t node, int tower) {
  if (node == 0) return {};
  return nodes_[node - 1]->out_grad[tower].view();
}

// --- parameters --------------------------------------------------------------------------------

void Net::init_parameters(uint64_t seed) {
  synchronize();  // the copies below must not race work still queued on the towers
  for (size_t i = 0; i < plan_.params.size(); ++i) {
    const LogicalParam& lp = plan_.params[i];
    const LayerSpec& spec = plan_.net.layers[lp.layer];
    const uint64_t subsequence =
        rng_subsequence(RngPurpose::kInit, static_cast<uint32_t>(lp.layer), lp.param_index);
    for (int t = 0; t < plan_.towers; ++t) {
      if (!lp.count[t]) continue;
      std::vector<float> values(lp.count[t]);
      for (int64_t k = 0; k < lp.count[t]; ++k) {
        uint64_t e = static_cast<uint64_t>(lp.offset[t] + k);
        values[k] = lp.is_bias ? spec.bias_init
                               : spec.weight_std * philox_normal(philox_draw(seed, subsequence, 2 * e),
                                                                 philox_draw(seed, subsequence, 2 * e + 1));
      }
      Tensor& flat = towers_[t]->params;
      copy(ConstView{values.data(), {lp.count[t]}, Device::cpu()},
           View{flat.data() + param_flat_offset_[i][t], {lp.count[t]}, flat.device()});
    }
  }
}

const LogicalParam& Net::find_param(const std::string& name) const {
  for (const LogicalParam& lp : plan_.params)
    if (lp.name == name) return lp;
  throw UserError("no parameter named '" + name + "' in " + plan_.net.path);
}

std::vector<float> Net::gather(const std::string& name, const std::vector<ConstView>& flat) const {
  const LogicalParam& lp = find_param(name);
  const size_t i = &lp - plan_.params.data();
  synchronize();  // read what the queued work leaves, not what is there now
  std::vector<float> out(lp.shape.numel());
  for (int t = 0; t < plan_.towers; ++t) {
    if (!lp.count[t]) continue;
    copy(ConstView{flat[t].data + param_flat_offset_[i][t], {lp.count[t]}, flat[t].device},
         View{out.data() + lp.offset[t], {lp.count[t]}, Device::cpu()});
  }
  return out;
}

void Net::scatter(const std::string& name, const std::vector<float>& values,
                  const std::vector<View>& flat) const {
  const LogicalParam& lp = find_param(name);
  const size_t i = &lp - plan_.params.data();
  if (static_cast<int64_t>(values.size()) != lp.shape.numel()) {
    throw UserError(name + ": got " + std::to_string(values.size()) + " values for shape " + lp.shape.str());
  }
  synchronize();
  for (int t = 0; t < plan_.towers; ++t) {
    if (!lp.count[t]) continue;
    copy(ConstView{values.data() + lp.offset[t], {lp.count[t]}, Device::cpu()},
         View{flat[t].data + param_flat_offset_[i][t], {lp.count[t]}, flat[t].device});
  }
}

std::vector<float> Net::read_param(const std::string& name, bool gradient) const {
  std::vector<ConstView> flat;
  for (const auto& t : towers_) flat.push_back(gradient ? t->grads.view() : t->params.view());
  return gather(name, flat);
}

void Net::write_param(const std::string& name, const std::vector<float>& values) {
  std::vector<View> flat;
  for (auto& t : towers_) flat.push_back(t->params.view());
  scatter(name, values, flat);
}

std::vector<float> Net::activation(const std::string& name) const {
  synchronize();
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    if (node.name != name) continue;
    if (node.out_spread == Spread::kSplit && plan_.towers == 2) {
      const int64_t block = nodes_[i]->out[0].shape().item_numel();
      std::vector<float> rank_major(2 * batch_ * block), out(rank_major.size());
      for (int t = 0; t < 2; ++t) {
        copy(nodes_[i]->out[t].view(),
             View{rank_major.data() + t * batch_ * block, {batch_ * block}, Device::cpu()});
      }
      interleave(rank_major.data(), out.data(), 2, batch_, block, Device::cpu(), Stream());
      return out;
    }
    int t = node.tower[0].active ? 0 : 1;
    return nodes_[i]->out[t].to_host();
  }
  throw UserError("no layer named '" + name + "' in " + plan_.net.path);
}

// --- forward and backward ----------------------------------------------------------------------

double Net::forward(ConstView images, const int32_t* labels, const StepContext& ctx) {
  Shape want = towers_[0]->input[0].shape();
  if (images.shape != want) {
    throw UserError("images " + images.shape.str() + " do not match the network's input " + want.str());
  }
  labels_.assign(labels, labels + batch_);
  for (int i = 0; i < batch_; ++i) {
    if (labels_[i] < 0 || labels_[i] >= plan_.net.classes) {
      throw UserError("label " + std::to_string(labels_[i]) + " of item " + std::to_string(i) +
                      " is outside [0, " + std::to_string(plan_.net.classes) + ")");
    }
  }
  // The other buffer: the previous step's backward may still be reading this one's twin.
  slot_ = 1 - slot_;
  for (auto& t : towers_) {
    copy_async(images, t->input[slot_].view(), t->copy_stream);
    if (t->device.is_cuda()) {
      copy_bytes_async(t->labels[slot_].data(), t->device, labels_.data(), Device::cpu(),
                       sizeof(int32_t) * batch_, t->copy_stream);
    }
    t->input_ready.record(t->copy_stream);
    t->input_ready.make_wait(t->stream);  // the layers read the batch only once it is there
  }
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    if (node.kind == PlanNode::Kind::kExchange) {
      time_all(i, true, [&] { exchange_forward(i); });
      continue;
    }
    for (int t = 0; t < plan_.towers; ++t) {
      if (!node.tower[t].active) continue;
      Pass pass{towers_[t]->stream, ctx.training, ctx.seed, ctx.step, tower_labels(t)};
      ConstView x = node_input(i, t);
      x.shape = batched(node.tower[t].in);
      time_one(i, t, true, [&] { nodes_[i]->layers[t]->forward(pass, x, nodes_[i]->out[t].view()); });
    }
  }
  // The host's images and labels may be reused once this returns.
  for (auto& t : towers_) t->input_ready.synchronize();
  int t = plan_.nodes[loss_node_].tower[0].active ? 0 : 1;
  return static_cast<SoftmaxLoss*>(nodes_[loss_node_]->layers[t].get())->loss();
}

void Net::backward(const StepContext& ctx) {
  for (size_t i = plan_.nodes.size(); i-- > 0;) {
    const PlanNode& node = plan_.nodes[i];
    if (node.kind == PlanNode::Kind::kExchange) {
      time_all(i, false, [&] { exchange_backward(i); });
      continue;
    }
    for (int t = 0; t < plan_.towers; ++t) {
      if (!node.tower[t].active) continue;
      Pass pass{towers_[t]->stream, ctx.training, ctx.seed, ctx.step, tower_labels(t)};
      ConstView x = node_input(i, t);
      x.shape = batched(node.tower[t].in);
      View dx = node_input_grad(i, t);
      if (!dx.empty()) dx.shape = x.shape;
      ConstView dy = static_cast<int>(i) == loss_node_ ? ConstView{} : nodes_[i]->out_grad[t].cview();
      time_one(i, t, false,
               [&] { nodes_[i]->layers[t]->backward(pass, x, nodes_[i]->out[t].view(), dy, dx); });
    }
  }
}

template <typename F>
void Net::time_one(size_t node, int tower, bool forward, F&& work) {
  if (!profiling_) {
    work();
    return;
  }
  Stopwatch& w = *stopwatches_[node];
  w.start[tower]->record(towers_[tower]->stream);
  work();
  w.end[tower]->record(towers_[tower]->stream);
  w.end[tower]->synchronize();
  double ms = w.end[tower]->elapsed_ms_since(*w.start[tower]);
  (forward ? timing_[node].forward_ms : timing_[node].backward_ms)[tower] = ms;
}

template <typename F>
void Net::time_all(size_t node, bool forward, F&& work) {
  if (!profiling_) {
    work();
    return;
  }
  Stopwatch& w = *stopwatches_[node];
  for (int t = 0; t < plan_.towers; ++t) w.start[t]->record(towers_[t]->stream);
  work();
  for (int t = 0; t < plan_.towers; ++t) {
    w.end[t]->record(towers_[t]->stream);
    w.end[t]->synchronize();
    (forward ? timing_[node].forward_ms : timing_[node].backward_ms)[t] =
        w.end[t]->elapsed_ms_since(*w.start[t]);
  }
}

const int32_t* Net::tower_labels(int t) const {
  const TowerState& s = *towers_[t];
  return s.device.is_cuda() ? static_cast<const int32_t*>(s.labels[slot_].data()) : labels_.data();
}

std::vector<const Stream*> Net::comm_streams() const {
  std::vector<const Stream*> streams;
  for (const auto& t : towers_) streams.push_back(t->device.is_cuda() ? &t->comm_stream : &t->stream);
  return streams;
}

// An exchange runs on the communication streams, between the compute work that produced its
// input and the compute work that consumes its output.
void Net::begin_exchange() {
  for (auto& t : towers_) {
    t->compute_ready.record(t->stream);
    t->compute_ready.make_wait(t->comm_stream);  // send what the layers have finished writing
  }
}

void Net::end_exchange() {
  for (auto& t : towers_) {
    t->exchanged.record(t->comm_stream);
    t->exchanged.make_wait(t->stream);  // the next layer reads what the exchange delivered
  }
}

void Net::exchange_forward(size_t i) {
  const int towers = plan_.towers;
  std::vector<ConstView> send;
  std::vector<View> recv;
  std::vector<const Stream*> streams = comm_streams();
  for (int t = 0; t < towers; ++t) {
    ConstView x = node_input(i, t);
    send.push_back({x.data, {x.numel()}, x.device});
    Tensor& staging = nodes_[i]->staging[t];
    recv.push_back({staging.data(), {staging.numel()}, staging.device()});
  }
  begin_exchange();
  comm_->all_gather(send, recv, streams);
  const int64_t block = send[0].numel() / batch_;
  for (int t = 0; t < towers; ++t) {
    interleave(nodes_[i]->staging[t].data(), nodes_[i]->out[t].data(), towers, batch_, block,
               towers_[t]->device, *streams[t]);
  }
  end_exchange();
}

void Net::exchange_backward(size_t i) {
  const int towers = plan_.towers;
  std::vector<ConstView> send;
  std::vector<View> recv;
  std::vector<const Stream*> streams = comm_streams();
  const int64_t block = nodes_[i]->out[0].shape().item_numel() / towers;
  begin_exchange();
  for (int t = 0; t < towers; ++t) {
    Tensor& staging = nodes_[i]->staging[t];
    deinterleave(nodes_[i]->out_grad[t].data(), staging.data(), towers, batch_, block, towers_[t]->device,
                 *streams[t]);
    send.push_back({staging.data(), {staging.numel()}, staging.device()});
    View dx = node_input_grad(i, t);
    recv.push_back({dx.data, {dx.numel()}, dx.device});
  }
  comm_->reduce_scatter(send, recv, streams);
  end_exchange();
}

}  // namespace alexnet
