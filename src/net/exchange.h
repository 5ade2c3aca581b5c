// Exchanges: where the towers' shares of a split activation meet, as named pairs of operations
// whose forward and backward are each other's adjoints (as Megatron-LM documents its
// tensor-parallel mappings).
//
// Tower t holds x_t, its share of the logical maps (channels [b_t, b_t + c_t) of every item).
// The consumer reads the logical activation y = [x_0 | x_1 | ... | x_{K-1}], channels in logical
// order. With L the loss:
//
//   AllGather    every tower consumes y (a split layer reading all maps: conv3, fc6, fc7).
//                  forward   y on every tower t:  y^(t) = [x_0 | ... | x_{K-1}]
//                  backward  dL/dx_t = sum over towers r of block t of dL/dy^(r)   (reduce-scatter)
//                since x_t reaches every tower's copy of y, its gradient sums what each copy's
//                consumer sends back.
//   GatherToOne  only tower h consumes y (a layer that lives on one tower: the 2012 code's fc8,
//                or the loss).
//                  forward   y on tower h:  y^(h) = [x_0 | ... | x_{K-1}]
//                  backward  dL/dx_t = block t of dL/dy^(h)                           (scatter)
//                written with the same collectives: the other towers also receive y and ignore
//                it, and in backward they contribute explicit zeros to the reduce-scatter.
//
//   BatchGather  hybrid's gather before its first fc layer (net/plan.h): tower t holds x_t, ALL
//                features of its own B items, and every tower consumes the whole batch.
//                  forward   y^(t) = [x_0; x_1; ...; x_{K-1}] along the batch    (all-gather)
//                  backward  dL/dx_t = sum over r of rows [t B, (t + 1) B) of dL/dy^(r)
//                                                                              (reduce-scatter)
//                tower-major [K][B][F] is item order, so the communicator's buffers are x and y
//                themselves: no staging.
//
// Vectors indexed by tower have an entry for every tower; those of towers held by another process
// are empty (a default ExchangeStreams, an empty view) and untouched.
//
// The communicator moves tower-major buffers ([tower][item][block]); the exchange owns the
// staging buffers and the strided copies between that and the logical, item-major order. Shares
// may be uneven (a width that does not divide by K): blocks are padded to the largest share in
// staging, and only the real part is copied out.
#pragma once

#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "net/plan.h"

namespace alexnet {

// One tower's streams around an exchange: `compute` runs the layers, `comm` the collective.
struct ExchangeStreams {
  const Stream* compute = nullptr;
  const Stream* comm = nullptr;
  Event* ready = nullptr;  // recorded on compute, waited on by comm
  Event* done = nullptr;   // recorded on comm, waited on by compute
};

// The fork and join of the communication streams around an exchange, as a scope: on entry each
// tower's communication stream waits for its compute stream (send what the layers have finished
// writing); on exit the compute stream waits for the communication stream (the next layer reads
// what the exchange delivered). Entries without streams (towers elsewhere) are skipped. The
// destructor logs errors, never throws.
class CommScope {
 public:
  explicit CommScope(const std::vector<ExchangeStreams>& towers);
  ~CommScope();
  CommScope(const CommScope&) = delete;
  CommScope& operator=(const CommScope&) = delete;

 private:
  const std::vector<ExchangeStreams>& towers_;
};

// Tower-major staging for one exchange and the copies to and from logical order.
class ExchangeStaging {
 public:
  // devices: per tower (entries of towers elsewhere are ignored); local: the towers held.
  ExchangeStaging(const PlanNode& node, int batch, const std::vector<Device>& devices,
                  std::vector<int> local);

  int towers() const { return static_cast<int>(block_.size()); }
  const std::vector<int>& local() const { return local_; }
  bool even() const { return even_; }
  // Forward: tower t's share into its padded send slot (a no-op view when shares are even).
  ConstView send_share(int t, ConstView x, const Stream& stream);
  // The all-gather's receive buffer on tower t, [towers][batch][max_block].
  View gathered(int t) { return staging_[t].view(); }
  // gathered(t) laid out in logical order into y.
  void to_logical(int t, View y, const Stream& stream) const;
  // Backward: dy (logical order) into tower-major order in gathered(t)'s buffer.
  void from_logical(int t, ConstView dy, const Stream& stream);
  // The reduce-scatter's receive buffer for tower t: dx itself when shares are even.
  View scattered(int t, View dx);
  // Copies the real part of scattered(t) into dx when shares are uneven.
  void finish_scatter(int t, View dx, const Stream& stream) const;

 private:
  int batch_;
  std::vector<int> local_;
  std::vector<int64_t> block_;   // per tower: floats of one item's share
  std::vector<int64_t> offset_;  // per tower: where that share starts in the logical item
  int64_t max_block_ = 0, item_ = 0;
  bool even_ = true;
  std::vector<Tensor> staging_;  // per tower held, [towers][batch][max_block]
  std::vector<Tensor> padded_;   // per tower held, [batch][max_block], uneven shares only
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const char* kind() const = 0;
  // x[t]: tower t's share [batch, share...]; y[t]: the logical activation on tower t.
  virtual void forward(const std::vector<ConstView>& x, const std::vector<View>& y,
                       const std::vector<ExchangeStreams>& streams) = 0;
  // dy[t]: the gradient of y on tower t; dx[t]: receives the gradient of tower t's share.
  virtual void backward(const std::vector<ConstView>& dy, const std::vector<View>& dx,
                        const std::vector<ExchangeStreams>& streams) = 0;
};

// The exchange an exchange node of the plan asks for (AllGather, GatherToOne for a consumer that
// lives on one tower, BatchGather for hybrid's batch-spread input), for the towers comm.local()
// holds; `devices` is per tower, `batch` the items each tower sends.
std::unique_ptr<Exchange> make_exchange(const PlanNode& node, int batch, const std::vector<Device>& devices,
                                        Communicator& comm);

// The logical activation from the towers' shares, [batch, item...], on the host (tests, eval).
std::vector<float> join_shares(const std::vector<std::vector<float>>& shares, int64_t batch);

}  // namespace alexnet
