#include "net/net.h"

#include <glog/logging.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "core/bytes.h"
#include "core/device_ops.h"
#include "core/errors.h"
#include "core/gpu_wait.h"
#include "core/nvtx.h"
#include "core/text_format.h"
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
  Event copy_started, copy_done;  // timing events around the batch's copy, when profiling
  // A profiled step's time origin: recorded on the compute stream as its forward begins, waited
  // for and stamped with the host clock, so that the other events' offsets from it place them on
  // that clock (traces).
  Event origin;
  Tensor params;  // flat
  Tensor grads;   // flat, same layout
};

// Per tower: a layer node's layer, or nothing for an exchange node (which has one Exchange
// spanning the towers), and the node's output and its gradient.
struct Net::NodeState {
  std::vector<std::unique_ptr<Layer>> layers;
  std::unique_ptr<Exchange> exchange;
  std::vector<Tensor> out;
  std::vector<Tensor> out_grad;
  // The NVTX ranges' names (core/nvtx.h), per phase (forward, backward) and tower: made once here,
  // not every step.
  std::array<std::vector<std::string>, 2> nvtx;
};

// Timing events around one node on each tower.
struct Net::Stopwatch {
  std::vector<Event> start, end;  // per tower; no-op CPU events for those held elsewhere
  explicit Stopwatch(const std::vector<std::unique_ptr<TowerState>>& towers) {
    for (const auto& t : towers) {
      const Device d = t ? t->device : Device::cpu();
      start.emplace_back(d, true);
      end.emplace_back(d, true);
    }
  }
};

Net::Net(Plan plan, std::vector<Device> devices, Communicator* comm, int batch, const BackendOptions& backend)
    : plan_(std::move(plan)), batch_(batch), comm_(comm), layout_(plan_) {
  const bool exchanges = std::any_of(plan_.nodes.begin(), plan_.nodes.end(),
                                     [](const PlanNode& n) { return n.kind == PlanNode::Kind::kExchange; });
  if (!comm_ && plan_.towers == 1 && exchanges && devices.size() == 1) {
    own_comm_ = make_local_communicator(devices);  // exchanges of one tower: copies
    comm_ = own_comm_.get();
  }
  CHECK(plan_.towers == 1 || comm_) << "a split net needs a communicator";
  if (comm_) CHECK_EQ(comm_->size(), plan_.towers) << "one communicator member per tower";
  local_ = comm_ ? comm_->local() : every_member(plan_.towers);
  if (devices.size() != local_.size()) {
    throw UserError(std::string("placement ") + placement_name(plan_.placement) + " needs " +
                    std::to_string(local_.size()) + " device(s) in this process, got " +
                    std::to_string(devices.size()));
  }
  if (batch <= 0) throw UserError("--batch must be positive, got " + std::to_string(batch));
  label_count_ = plan_.hybrid() ? static_cast<int64_t>(batch) * plan_.towers : batch;
  for (HostBuffer& b : host_labels_) b = HostBuffer(sizeof(int32_t) * label_count_);
  std::vector<Device> by_tower(plan_.towers, Device::cpu());  // placeholders for towers elsewhere
  for (size_t i = 0; i < local_.size(); ++i) by_tower[local_[i]] = devices[i];
  towers_.resize(plan_.towers);
  exchange_streams_.resize(plan_.towers);
  input_owner_.assign(plan_.towers, -1);
  for (int tower : local_) {
    const Device d = by_tower[tower];
    auto t = std::make_unique<TowerState>();
    t->device = d;
    int owner = tower;
    for (int other : local_) {
      if (other == tower || plan_.hybrid()) break;
      if (by_tower[other] == d) {  // an earlier tower on this device holds the batch
        owner = other;
        break;
      }
    }
    input_owner_[tower] = owner;
    if (d.is_cuda()) {
      t->stream = Stream(d);
      t->comm_stream = Stream(d);
      t->copy_stream = Stream(d);
      t->input_ready = Event(d);
      t->compute_ready = Event(d);
      t->exchanged = Event(d);
      t->copy_started = Event(d, true);
      t->copy_done = Event(d, true);
      t->origin = Event(d, true);
      if (owner == tower)
        for (DeviceBuffer& l : t->labels) l = DeviceBuffer(sizeof(int32_t) * label_count_, d);
    }
    if (owner == tower) {
      for (Tensor& in : t->input)
        in = Tensor(batched({plan_.net.channels, plan_.net.height, plan_.net.width}), d);
    }
    t->params = Tensor::zeros({std::max<int64_t>(layout_.flat_size(tower), 1)}, d);
    t->grads = Tensor::zeros(t->params.shape(), d);
    // On the CPU the exchanges run inline on the compute stream.
    const Stream* comm_stream = d.is_cuda() ? &t->comm_stream : &t->stream;
    exchange_streams_[tower] = {&t->stream, comm_stream, &t->compute_ready, &t->exchanged};
    towers_[tower] = std::move(t);
  }

  // Layers and exchanges, activations, and the layers' parameters bound to their flat slices.
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    auto state = std::make_unique<NodeState>();
    state->layers.resize(plan_.towers);
    state->out.resize(plan_.towers);
    state->out_grad.resize(plan_.towers);
    for (int phase = 0; phase < 2; ++phase) {
      for (int t = 0; t < plan_.towers; ++t)
        state->nvtx[phase].push_back(nvtx_name(node.name, phase == 0 ? "forward" : "backward", t));
    }
    for (int t : local_) {
      const TowerWork& w = node.tower[t];
      if (!w.active) continue;
      state->out[t] = Tensor(batched(w.out, node.out_batch_factor), by_tower[t]);
      state->out_grad[t] = Tensor::zeros(batched(w.out, node.out_batch_factor), by_tower[t]);
      if (node.kind == PlanNode::Kind::kLayer)
        state->layers[t] = layer_type(node.layer_kind).make(w.config, by_tower[t], backend);
    }
    if (node.kind == PlanNode::Kind::kExchange)
      state->exchange = make_exchange(node, batch_ * node.in_batch_factor, by_tower, *comm_);
    if (node.layer_kind == LayerKind::kSoftmaxLoss && node.kind == PlanNode::Kind::kLayer)
      loss_node_ = static_cast<int>(i);
    nodes_.push_back(std::move(state));
  }
  // Each layer's parameters, in param_specs() order, bound to their slices of the flat buffers.
  std::vector<std::vector<size_t>> node_params(plan_.nodes.size());
  for (size_t p = 0; p < plan_.params.size(); ++p) node_params[plan_.params[p].node].push_back(p);
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    for (int t : local_) {
      Layer* layer = nodes_[i]->layers[t].get();
      if (!layer) continue;
      std::vector<View> p, g;
      std::vector<ParamSpec> specs = layer->param_specs();
      CHECK_EQ(specs.size(), node_params[i].size()) << plan_.nodes[i].name;
      for (size_t k = 0; k < specs.size(); ++k) {
        const size_t param = node_params[i][k];
        CHECK_EQ(plan_.params[param].param_index, static_cast<int>(k)) << plan_.params[param].name;
        CHECK_EQ(specs[k].shape.numel(), plan_.params[param].count[t]) << plan_.params[param].name;
        const int64_t at = layout_.flat_offset(param, t);
        p.push_back({towers_[t]->params.data() + at, specs[k].shape, towers_[t]->device});
        g.push_back({towers_[t]->grads.data() + at, specs[k].shape, towers_[t]->device});
      }
      layer->bind(std::move(p), std::move(g));
    }
  }
  CHECK_GE(loss_node_, 0);
  // Hybrid's replicated parameters come first in every flat buffer (the conv part's nodes precede
  // the fc part's), so that one all-reduce of a prefix sums their gradients.
  for (const LogicalParam& p : plan_.params)
    if (p.replicated) replicated_floats_ += p.shape.numel();
  for (size_t p = 0; p < plan_.params.size(); ++p) {
    if (!plan_.params[p].replicated) continue;
    for (int t : local_) CHECK_LE(layout_.flat_offset(p, t) + plan_.params[p].count[t], replicated_floats_);
  }
}

Net::~Net() = default;

void Net::set_profiling(bool on) {
  profiling_ = on;
  const std::vector<double> zeros(plan_.towers, 0.0);
  timing_.assign(plan_.nodes.size(), NodeTiming{zeros, zeros, zeros, zeros});
  origin_ms_ = zeros;
  stopwatches_.clear();
  if (!on) return;
  for (size_t i = 0; i < plan_.nodes.size(); ++i)
    stopwatches_.push_back(std::make_unique<Stopwatch>(towers_));
}

void Net::synchronize() const {
  for (int tower : local_) {
    const TowerState* t = towers_[tower].get();
    t->copy_stream.synchronize();
    t->stream.synchronize();
    t->comm_stream.synchronize();
  }
}

const Stream& Net::stream(int tower) const {
  CHECK(holds(tower)) << "tower " << tower << " is held by another process";
  return towers_[tower]->stream;
}

Device Net::device(int tower) const {
  CHECK(holds(tower)) << "tower " << tower << " is held by another process";
  return towers_[tower]->device;
}

bool Net::holds(int tower) const {
  return tower >= 0 && tower < plan_.towers && towers_[tower] != nullptr;
}

bool Net::holds_loss() const {
  return holds(plan_.nodes[loss_node_].home);
}

Shape Net::batched(const Shape& item, int factor) const {
  const int64_t n = static_cast<int64_t>(batch_) * factor;
  if (item.rank() == 1) return {n, item[0]};
  return {n, item[0], item[1], item[2]};
}

uint64_t Net::first_item(const StepContext& ctx, const PlanNode& node, int tower) const {
  // Hybrid's conv part: tower t holds items [t B, (t + 1) B) of the global batch.
  if (node.in_spread == Spread::kBatch) return ctx.first_item + static_cast<uint64_t>(tower) * batch_;
  return ctx.first_item;
}

View Net::params(int tower) {
  CHECK(holds(tower)) << "tower " << tower << " is held by another process";
  return towers_[tower]->params.view();
}
View Net::grads(int tower) {
  CHECK(holds(tower)) << "tower " << tower << " is held by another process";
  return towers_[tower]->grads.view();
}

ConstView Net::node_input(size_t node, int tower) const {
  if (node == 0) return towers_[input_owner_[tower]]->input[slot_].view();
  return nodes_[node - 1]->out[tower].view();
}

View Net::node_input_grad(size_t node, int tower) {
  if (node == 0) return {};
  return nodes_[node - 1]->out_grad[tower].view();
}

// --- parameters --------------------------------------------------------------------------------

void Net::init_parameters(uint64_t seed) {
  synchronize();  // the copies below must not race work still queued on the towers
  std::vector<View> flat(plan_.towers);
  for (int t : local_) flat[t] = towers_[t]->params.view();
  layout_.initialise(seed, flat);
}

// Every tower's `mine`, in tower order, from the processes of the tower group (one tower each).
std::vector<std::string> Net::shares_of_all(const std::string& mine) const {
  CHECK_EQ(local_.size(), 1u) << "towers spread over processes hold one tower each";
  std::vector<std::string> all = comm_->all_gather_host(mine);
  CHECK_EQ(static_cast<int>(all.size()), plan_.towers);
  return all;
}

std::vector<float> Net::gather(const std::string& name, const std::vector<ConstView>& flat) const {
  synchronize();  // read what the queued work leaves, not what is there now
  std::vector<float> out = layout_.gather(name, flat);  // the towers held
  const LogicalParam& p = layout_.params()[layout_.find(name)];
  if (whole() || p.replicated) return out;  // a replicated tensor is whole on every tower
  // The other towers' slices: each is a contiguous range of the flattened tensor.
  const int mine = local_[0];
  std::vector<std::string> all = shares_of_all(as_bytes(out.data() + p.offset[mine], p.count[mine]));
  for (int t = 0; t < plan_.towers; ++t) {
    CHECK_EQ(all[t].size(), sizeof(float) * p.count[t]) << name << ": tower " << t << "'s slice";
    std::copy_n(all[t].data(), all[t].size(), reinterpret_cast<char*>(out.data() + p.offset[t]));
  }
  return out;
}

void Net::scatter(const std::string& name, const std::vector<float>& values,
                  const std::vector<View>& flat) const {
  synchronize();
  layout_.scatter(name, values, flat);
}

std::vector<float> Net::read_param(const std::string& name, bool gradient) const {
  std::vector<ConstView> flat(plan_.towers);
  for (int t : local_) flat[t] = gradient ? towers_[t]->grads.view() : towers_[t]->params.view();
  return gather(name, flat);
}

void Net::write_param(const std::string& name, const std::vector<float>& values) {
  std::vector<View> flat(plan_.towers);
  for (int t : local_) flat[t] = towers_[t]->params.view();
  scatter(name, values, flat);
}

std::vector<std::string> Net::algorithm_choices() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (int t : local_) {
      if (nodes_[i]->layers.empty() || !nodes_[i]->layers[t]) continue;
      for (const AlgorithmChoice& c : nodes_[i]->layers[t]->algorithm_choices()) {
        std::string input = "[";
        for (int d = 0; d < c.input.rank(); ++d) input += (d ? ", " : "") + std::to_string(c.input[d]);
        out.push_back("{\"node\": " + json_quote(plan_.nodes[i].name) + ", \"tower\": " + std::to_string(t) +
                      ", \"device\": " + json_quote(towers_[t]->device.str()) + ", \"input\": " + input +
                      "], \"forward\": " + json_quote(c.forward) +
                      ", \"backward_data\": " + json_quote(c.backward_data) + ", \"backward_filter\": " +
                      json_quote(c.backward_filter) + ", \"chosen_by\": " + json_quote(c.chosen_by) +
                      ", \"workspace_bytes\": " + std::to_string(c.workspace_bytes) + "}");
      }
    }
  }
  return out;
}

std::vector<float> Net::activation(const std::string& name) const {
  synchronize();
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    if (node.name != name) continue;
    if (node.out_spread == Spread::kOneTower) {
      return holds(node.home) ? nodes_[i]->out[node.home].to_host() : std::vector<float>();
    }
    const bool by_batch = node.out_spread == Spread::kBatch;
    if ((node.out_spread != Spread::kSplit && !by_batch) || plan_.towers == 1)
      return nodes_[i]->out[local_[0]].to_host();
    std::vector<std::vector<float>> shares;
    if (whole()) {
      for (const Tensor& out : nodes_[i]->out) shares.push_back(out.to_host());
    } else {  // towers elsewhere: every tower sends its share
      const std::vector<float> mine = nodes_[i]->out[local_[0]].to_host();
      for (const std::string& bytes : shares_of_all(as_bytes(mine)))
        shares.push_back(from_bytes<float>(bytes));
    }
    if (!by_batch) return join_shares(shares, batch_ * node.out_batch_factor);
    // Hybrid's conv part: tower t's items follow tower t - 1's.
    std::vector<float> out;
    for (const std::vector<float>& s : shares) out.insert(out.end(), s.begin(), s.end());
    return out;
  }
  throw UserError("no layer named '" + name + "' in " + plan_.net.path);
}

// --- forward and backward ----------------------------------------------------------------------

double Net::forward(ConstView images, const int32_t* labels, const StepContext& ctx) {
  // Under hybrid each tower held takes its own B items; otherwise every tower takes the batch.
  const int towers_fed = plan_.hybrid() ? static_cast<int>(local_.size()) : 1;
  const int items = batch_ * towers_fed;
  const Shape per_tower = towers_[input_owner_[local_[0]]]->input[0].shape();
  const Shape want{items, per_tower[1], per_tower[2], per_tower[3]};
  if (images.shape != want) {
    throw UserError("images " + images.shape.str() + " do not match the network's input " + want.str());
  }
  for (int i = 0; i < items; ++i) {
    if (labels[i] < 0 || labels[i] >= plan_.net.classes) {
      throw UserError("label " + std::to_string(labels[i]) + " of item " + std::to_string(i) +
                      " is outside [0, " + std::to_string(plan_.net.classes) + ")");
    }
  }
  // The other buffer: the previous step's backward may still be reading this one's twin.
  slot_ = 1 - slot_;
  int32_t* host_labels = static_cast<int32_t*>(host_labels_[slot_].data());
  if (items == label_count_) {
    std::copy(labels, labels + items, host_labels);
  } else {  // hybrid with towers elsewhere: the loss reads every worker's labels, in tower order
    int64_t at = 0;
    for (const std::string& bytes : shares_of_all(as_bytes(labels, batch_))) {
      CHECK_EQ(bytes.size(), sizeof(int32_t) * batch_) << "a worker's labels";
      std::memcpy(host_labels + at, bytes.data(), bytes.size());
      at += batch_;
    }
  }
  if (profiling_) {
    for (int tower : local_) {
      TowerState& t = *towers_[tower];
      t.origin.record(t.stream);
      t.origin.synchronize();
      origin_ms_[tower] = host_clock_ms();
    }
  }
  for (size_t i = 0; i < local_.size(); ++i) {
    TowerState* t = towers_[local_[i]].get();
    if (input_owner_[local_[i]] != local_[i]) {  // the batch is on this device already
      towers_[input_owner_[local_[i]]]->input_ready.make_wait(t->stream);  // once it has arrived
      continue;
    }
    if (profiling_) t->copy_started.record(t->copy_stream);
    ConstView mine = images;
    if (plan_.hybrid()) mine = {images.data + i * per_tower.numel(), per_tower, images.device};
    copy_async(mine, t->input[slot_].view(), t->copy_stream);
    if (t->device.is_cuda()) {
      copy_bytes_async(t->labels[slot_].data(), t->device, host_labels, Device::cpu(),
                       sizeof(int32_t) * label_count_, t->copy_stream);
    }
    if (profiling_) t->copy_done.record(t->copy_stream);
    t->input_ready.record(t->copy_stream);
    t->input_ready.make_wait(t->stream);  // the layers read the batch only once it is there
  }
  for (size_t i = 0; i < plan_.nodes.size(); ++i) {
    const PlanNode& node = plan_.nodes[i];
    if (node.kind == PlanNode::Kind::kExchange) {
      time_all(i, true, [&] { exchange_forward(i); });
      continue;
    }
    for (int t : local_) {
      if (!node.tower[t].active) continue;
      Pass pass{towers_[t]->stream, ctx.training, ctx.seed, ctx.step, tower_labels(t)};
      pass.first_item = first_item(ctx, node, t);
      ConstView x = node_input(i, t);
      x.shape = batched(node.tower[t].in, node.in_batch_factor);
      time_one(i, t, true, [&] { nodes_[i]->layers[t]->forward(pass, x, nodes_[i]->out[t].view()); });
    }
  }
  // The host's images and labels may be reused once this returns.
  for (int t : local_)
    if (input_owner_[t] == t) towers_[t]->input_ready.synchronize();
  if (profiling_) {
    input_copy_ms_ = 0;
    for (int t : local_) {
      if (input_owner_[t] != t) continue;
      const double ms = towers_[t]->copy_done.elapsed_ms_since(towers_[t]->copy_started);
      if (ms < input_copy_ms_) continue;
      input_copy_ms_ = ms;
      input_copy_start_ms_ = event_host_ms(t, towers_[t]->copy_started);
    }
  }
  const int t = plan_.nodes[loss_node_].home;
  last_loss_ =
      holds(t) ? static_cast<SoftmaxLoss*>(nodes_[loss_node_]->layers[t].get())->summary() : LossSummary{};
  return last_loss_.loss;
}

void Net::backward(const StepContext& ctx, const std::function<void(size_t node)>& node_done) {
  std::vector<size_t> conv_part_done;  // hybrid: reported once the sum over the towers is queued
  for (size_t i = plan_.nodes.size(); i-- > 0;) {
    const PlanNode& node = plan_.nodes[i];
    if (node.kind == PlanNode::Kind::kExchange) {
      time_all(i, false, [&] { exchange_backward(i); });
      continue;
    }
    for (int t : local_) {
      if (!node.tower[t].active) continue;
      Pass pass{towers_[t]->stream, ctx.training, ctx.seed, ctx.step, tower_labels(t)};
      pass.first_item = first_item(ctx, node, t);
      ConstView x = node_input(i, t);
      x.shape = batched(node.tower[t].in, node.in_batch_factor);
      View dx = node_input_grad(i, t);
      if (!dx.empty()) dx.shape = x.shape;
      ConstView dy = static_cast<int>(i) == loss_node_ ? ConstView{} : nodes_[i]->out_grad[t].cview();
      time_one(i, t, false,
               [&] { nodes_[i]->layers[t]->backward(pass, x, nodes_[i]->out[t].view(), dy, dx); });
    }
    if (!node_done) continue;
    if (node.in_spread == Spread::kBatch) {
      conv_part_done.push_back(i);
    } else {
      node_done(i);
    }
  }
  if (replicated_floats_) {
    if (!profiling_) {
      sum_replicated_grads();
    } else {  // timed alone, as the replicas' all-reduce is in a profiled step
      synchronize();
      const auto start = std::chrono::steady_clock::now();
      replicated_sum_start_ms_ = host_clock_ms();
      sum_replicated_grads();
      synchronize();
      replicated_sum_ms_ =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
  }
  for (size_t i : conv_part_done) node_done(i);
}

// Hybrid: each worker's conv gradients are its own items' part of the gradient of the mean loss
// over all K B items; their sum over the workers is the whole gradient, which every worker then
// holds (as every worker holds the whole parameter), so the replicated copies stay identical.
void Net::sum_replicated_grads() {
  std::vector<View> buffers;
  std::vector<const Stream*> streams;
  for (int t : local_) {
    buffers.push_back({towers_[t]->grads.data(), {replicated_floats_}, towers_[t]->device});
    streams.push_back(&towers_[t]->stream);  // after the conv part's backward, before the update
  }
  comm_->all_reduce(buffers, streams);
}

template <typename F>
void Net::time_one(size_t node, int tower, bool forward, F&& work) {
  const std::string& name = nodes_[node]->nvtx[forward ? 0 : 1][tower];
  NvtxRange range(name);
  if (towers_[tower]->device.is_cuda()) note_queued(tower, name);  // for a wait that expires
  if (!profiling_) {
    work();
    return;
  }
  Stopwatch& w = *stopwatches_[node];
  w.start[tower].record(towers_[tower]->stream);
  work();
  w.end[tower].record(towers_[tower]->stream);
  w.end[tower].synchronize();
  double ms = w.end[tower].elapsed_ms_since(w.start[tower]);
  (forward ? timing_[node].forward_ms : timing_[node].backward_ms)[tower] = ms;
  (forward ? timing_[node].forward_start_ms : timing_[node].backward_start_ms)[tower] =
      event_host_ms(tower, w.start[tower]);
}

double Net::event_host_ms(int tower, const Event& start) const {
  return origin_ms_[tower] + start.elapsed_ms_since(towers_[tower]->origin);
}

template <typename F>
void Net::time_all(size_t node, bool forward, F&& work) {
  // An exchange is one collective seen from every tower held (a row each in the timing table):
  // one NVTX range per tower, nested, closed innermost first.
  std::vector<std::unique_ptr<NvtxRange>> ranges;
  for (int t : local_)
    if (towers_[t]->device.is_cuda()) note_queued(t, nodes_[node]->nvtx[forward ? 0 : 1][t]);
  if (nvtx_on()) {
    for (int t : local_)
      ranges.push_back(std::make_unique<NvtxRange>(nodes_[node]->nvtx[forward ? 0 : 1][t]));
  }
  if (!profiling_) {
    work();
  } else {
    Stopwatch& w = *stopwatches_[node];
    for (int t : local_) w.start[t].record(towers_[t]->stream);
    work();
    for (int t : local_) {
      w.end[t].record(towers_[t]->stream);
      w.end[t].synchronize();
      (forward ? timing_[node].forward_ms : timing_[node].backward_ms)[t] =
          w.end[t].elapsed_ms_since(w.start[t]);
      (forward ? timing_[node].forward_start_ms : timing_[node].backward_start_ms)[t] =
          event_host_ms(t, w.start[t]);
    }
  }
  while (!ranges.empty()) ranges.pop_back();
}

const int32_t* Net::tower_labels(int t) const {
  const TowerState& s = *towers_[input_owner_[t]];
  return s.device.is_cuda() ? static_cast<const int32_t*>(s.labels[slot_].data())
                            : static_cast<const int32_t*>(host_labels_[slot_].data());
}

void Net::exchange_forward(size_t i) {
  std::vector<ConstView> x(plan_.towers);
  std::vector<View> y(plan_.towers);
  for (int t : local_) {
    x[t] = node_input(i, t);
    y[t] = nodes_[i]->out[t].view();
  }
  nodes_[i]->exchange->forward(x, y, exchange_streams_);
}

void Net::exchange_backward(size_t i) {
  std::vector<ConstView> dy(plan_.towers);
  std::vector<View> dx(plan_.towers);
  for (int t : local_) {
    dy[t] = nodes_[i]->out_grad[t].cview();
    dx[t] = node_input_grad(i, t);
  }
  nodes_[i]->exchange->backward(dy, dx, exchange_streams_);
}

}  // namespace alexnet
