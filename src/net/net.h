// A placed network, ready to run: the plan's layers instantiated on each tower's device, the
// activations and their gradients, one flat parameter buffer and one flat gradient buffer per
// tower, and the exchanges between towers.
//
// A process holds the towers its communicator's local() names: all of them in one process, one
// when each tower is a process of its own (comm/process_groups.h). Everything per tower below
// exists only for the towers held; whatever needs the whole logical tensor (read_param, gather,
// activation) fetches the other towers' shares through the communicator, so under many processes
// those calls are collective: every tower's process makes them, in the same order.
//
// Forward runs the nodes in order; backward runs them in reverse. An exchange node runs like a
// layer whose tensors span the towers (net/exchange.h says what it computes each way); the flat
// parameter layout is net/param_layout.h's.
//
// Under hybrid (net/plan.h) each tower is a worker with its own B = batch() items: forward takes
// the held towers' items, the fc part and the loss see the whole batch of K B, and backward ends
// by summing the replicated conv parameters' gradients over the towers, so that every tower then
// holds the gradient of the mean loss over K B and the optimizer needs nothing of its own.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "core/backend_options.h"
#include "core/host_buffer.h"
#include "core/tensor.h"
#include "layers/layer.h"
#include "layers/softmax_loss.h"
#include "net/exchange.h"
#include "net/param_layout.h"
#include "net/plan.h"

namespace alexnet {

// Per node and tower, the milliseconds of the last profiled forward and backward (an exchange's
// time is its collective's, seen from each tower's stream).
struct NodeTiming {
  std::vector<double> forward_ms;   // per tower
  std::vector<double> backward_ms;  // per tower
  // When each began, on host_clock_ms() (core/stream.h); 0 where the tower did not run it. On a GPU
  // the CUDA events' offsets from one taken at the start of the step's forward, which the host
  // waited for and stamped.
  std::vector<double> forward_start_ms, backward_start_ms;
};

struct StepContext {
  bool training = true;
  uint64_t seed = 0;  // keys dropout masks
  uint64_t step = 0;
  // The global batch's index of this batch's first item (replica r of batch B: r * B), so that
  // dropout masks are keyed by the item's place in the global batch whatever the replicas.
  uint64_t first_item = 0;
};

class Net {
 public:
  // One device per tower held (split in one process: K, which may be the same; one tower per
  // process, or single and dense: one). The communicator joins the towers of a split plan (its
  // local() are the towers held) and may be null otherwise. `backend` sets how CUDA layers
  // compute (math, determinism, workspace).
  Net(Plan plan, std::vector<Device> devices, Communicator* comm, int batch,
      const BackendOptions& backend = {});
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  const Plan& plan() const { return plan_; }
  int batch() const { return batch_; }
  int towers() const { return plan_.towers; }
  // The towers this process holds, ascending; whole(): all of them.
  const std::vector<int>& local_towers() const { return local_; }
  bool holds(int tower) const;
  bool whole() const { return static_cast<int>(local_.size()) == plan_.towers; }
  // Whether this process holds the loss (the tower that forward()'s loss comes from).
  bool holds_loss() const;
  Device device(int tower) const;

  const ParamLayout& layout() const { return layout_; }

  // The initialisation the plan asks for (ParamLayout::initialise), identical under every placement.
  void init_parameters(uint64_t seed);

  // images: [batch, C, H, W] on the host (pinned memory lets the copy to a GPU run beside the
  // previous step's backward), labels: batch class indices on the host, each in [0, classes)
  // (UserError otherwise). Returns the mean cross-entropy loss, which waits for the forward (0
  // where this process does not hold the loss).
  // Under hybrid: the items of the towers held, B each in ascending tower order ([held B, C, H,
  // W]: K B in one process); their labels reach the loss on tower 0 (a collective when towers are
  // elsewhere), which returns the mean over K B. ctx.first_item is then the first item of the K B;
  // tower t's conv part keys its draws by first_item + t B.
  double forward(ConstView images, const int32_t* labels, const StepContext& ctx);
  // The last forward's loss with its top-1 and top-5 errors, from the same wait (zeros where this
  // process does not hold the loss): a step reads no activation back.
  const LossSummary& last_loss() const { return last_loss_; }
  // Gradients of the last forward's loss into the flat gradient buffers. `node_done(i)`, when
  // given, is called after node i's backward has been queued on every tower held (in reverse plan
  // order): the gradient all-reduce starts on what is final while the rest runs. Under hybrid the
  // conv part's calls come after the sum over the towers that makes its gradients final.
  void backward(const StepContext& ctx, const std::function<void(size_t node)>& node_done = {});

  // With profiling on, forward() and backward() time every node on every tower (which waits for
  // each node to finish: a profiled step is slower than a plain one).
  void set_profiling(bool on);
  const std::vector<NodeTiming>& timing() const { return timing_; }
  // The last profiled forward's copy of the batch from the host, in ms (the slowest tower held):
  // timed alone, as the layers are, though on a GPU an unprofiled step runs it beside the previous step's
  // backward.
  double input_copy_ms() const { return input_copy_ms_; }
  double input_copy_start_ms() const { return input_copy_start_ms_; }  // on host_clock_ms()
  // Hybrid: the floats of the replicated (conv) parameters whose gradients backward sums over the
  // workers, and how long the last profiled backward's sum took, waited for alone (ms).
  int64_t replicated_floats() const { return replicated_floats_; }
  double replicated_sum_ms() const { return replicated_sum_ms_; }
  double replicated_sum_start_ms() const { return replicated_sum_start_ms_; }  // on host_clock_ms()
  // In a profiled step: when `event`, a completed timing event of tower t's device recorded after
  // this step's forward began, happened, on host_clock_ms() (core/stream.h).
  double event_host_ms(int tower, const Event& event) const;
  // Waits for all work queued on the towers' streams.
  void synchronize() const;
  // Tower t's compute stream: the optimizer queues its update there.
  const Stream& stream(int tower) const;

  // Flat buffers of tower t (held); the logical parameters are slices of them.
  View params(int tower);
  View grads(int tower);

  // Host copies of logical tensors, assembled from the towers' slices (collective when towers are
  // elsewhere). write_param writes the slices of the towers held: every process passes the whole
  // tensor.
  std::vector<float> read_param(const std::string& name, bool gradient = false) const;
  void write_param(const std::string& name, const std::vector<float>& values);
  // The same for any per-tower buffers laid out like the parameters (e.g. SGD's velocity): `flat`
  // has one entry per tower, empty for those held elsewhere.
  std::vector<float> gather(const std::string& name, const std::vector<ConstView>& flat) const;
  void scatter(const std::string& name, const std::vector<float>& values,
               const std::vector<View>& flat) const;
  // The logical output of node `name` in the last forward, [batch, item...] in logical channel
  // order (hybrid: [K batch, item...], every item of the global batch in order). For the loss node: the class
  // probabilities. A split output is collective when towers are elsewhere; the output of a node living on one
  // tower (fc8, the loss) is returned only where that tower is held, and is empty elsewhere.
  std::vector<float> activation(const std::string& name) const;

  // The algorithms each layer of the towers held here chose, one JSON object per layer, tower and
  // input shape met so far ({"node", "tower", "device", "input", "forward", "backward_data",
  // "backward_filter", "chosen_by", "workspace_bytes"}), in node then tower order.
  std::vector<std::string> algorithm_choices() const;

 private:
  struct TowerState;
  struct NodeState;
  // [batch * factor, item...]: factor is a node's batch factor (PlanNode::in/out_batch_factor).
  Shape batched(const Shape& item, int factor = 1) const;
  uint64_t first_item(const StepContext& ctx, const PlanNode& node, int tower) const;
  void sum_replicated_grads();
  ConstView node_input(size_t node, int tower) const;
  View node_input_grad(size_t node, int tower);
  template <typename F>
  void time_one(size_t node, int tower, bool forward, F&& work);
  template <typename F>
  void time_all(size_t node, bool forward, F&& work);
  void exchange_forward(size_t node);
  void exchange_backward(size_t node);
  const int32_t* tower_labels(int tower) const;

  std::vector<std::string> shares_of_all(const std::string& mine) const;

  Plan plan_;
  int batch_;
  Communicator* comm_;
  std::unique_ptr<Communicator> own_comm_;  // a one-tower plan's exchanges (hybrid over one worker)
  int64_t label_count_ = 0;                 // labels the loss reads: batch, or K batch under hybrid
  int64_t replicated_floats_ = 0;           // hybrid: the replicated params, a prefix of each flat buffer
  std::vector<int> local_;                  // the towers held
  std::vector<std::unique_ptr<TowerState>> towers_;  // per tower; null for those held elsewhere
  std::vector<std::unique_ptr<NodeState>> nodes_;
  ParamLayout layout_;
  std::vector<ExchangeStreams> exchange_streams_;  // per tower; empty for those held elsewhere
  // The batch's labels on the host, one buffer per input slot: page-locked where a GPU is present,
  // so that their copy to a device runs asynchronously, and kept per slot because backward still
  // reads the current slot's (CPU towers) while the next batch's arrive.
  std::array<HostBuffer, 2> host_labels_;
  int slot_ = 0;  // which of the two input buffers the current step reads
  // Per tower held: the tower whose input buffers and labels it reads. Towers on one device share
  // the first one's (the batch is copied once per device, not once per tower), except under
  // hybrid, where each tower takes items of its own.
  std::vector<int> input_owner_;
  int loss_node_ = -1;
  LossSummary last_loss_;
  bool profiling_ = false;
  double input_copy_ms_ = 0, input_copy_start_ms_ = 0;
  double replicated_sum_ms_ = 0, replicated_sum_start_ms_ = 0;
  // Host time of each tower's profiling origin (TowerState::origin), taken once it completed.
  std::vector<double> origin_ms_;
  std::vector<NodeTiming> timing_;
  struct Stopwatch;
  std::vector<std::unique_ptr<Stopwatch>> stopwatches_;  // per node, when profiling
};

}  // namespace alexnet
