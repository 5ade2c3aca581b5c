#include "net/exchange.h"

#include <glog/logging.h>

#include <algorithm>
#include <exception>

#include "core/device_ops.h"

namespace alexnet {

// --- the fork and join of the communication streams --------------------------------------------

CommScope::CommScope(const std::vector<ExchangeStreams>& towers) : towers_(towers) {
  for (const ExchangeStreams& s : towers_) {
    if (!s.compute) continue;  // a tower held elsewhere
    s.ready->record(*s.compute);
    s.ready->make_wait(*s.comm);  // send only what the layers have finished writing
  }
}

CommScope::~CommScope() {
  try {
    for (const ExchangeStreams& s : towers_) {
      if (!s.compute) continue;
      s.done->record(*s.comm);
      s.done->make_wait(*s.compute);  // the next layer reads what the exchange delivered
    }
  } catch (const std::exception& e) {
    LOG(ERROR) << "joining the communication streams after an exchange: " << e.what();
  }
}

// --- staging -----------------------------------------------------------------------------------

ExchangeStaging::ExchangeStaging(const PlanNode& node, int batch, const std::vector<Device>& devices,
                                 std::vector<int> local)
    : batch_(batch), local_(std::move(local)) {
  int64_t at = 0;
  for (const TowerWork& w : node.tower) {
    block_.push_back(w.in.numel());
    offset_.push_back(at);
    at += w.in.numel();
    max_block_ = std::max(max_block_, w.in.numel());
  }
  item_ = at;
  CHECK_EQ(item_, node.tower[0].out.numel()) << node.name << ": the shares do not add up to the maps";
  for (int64_t b : block_) even_ = even_ && b == max_block_;
  staging_.resize(towers());
  padded_.resize(towers());
  for (int t : local_) {
    staging_[t] = Tensor::zeros({towers() * batch_ * max_block_}, devices[t]);
    if (!even_) padded_[t] = Tensor::zeros({batch_ * max_block_}, devices[t]);
  }
}

ConstView ExchangeStaging::send_share(int t, ConstView x, const Stream& stream) {
  if (even_) return {x.data, {x.numel()}, x.device};
  copy_rows_async(x.data, block_[t], padded_[t].data(), max_block_, block_[t], batch_, x.device, stream);
  return padded_[t].view();
}

void ExchangeStaging::to_logical(int t, View y, const Stream& stream) const {
  for (int r = 0; r < towers(); ++r) {
    copy_rows_async(staging_[t].data() + r * batch_ * max_block_, max_block_, y.data + offset_[r], item_,
                    block_[r], batch_, y.device, stream);
  }
}

void ExchangeStaging::from_logical(int t, ConstView dy, const Stream& stream) {
  for (int r = 0; r < towers(); ++r) {
    copy_rows_async(dy.data + offset_[r], item_, staging_[t].data() + r * batch_ * max_block_, max_block_,
                    block_[r], batch_, dy.device, stream);
  }
}

View ExchangeStaging::scattered(int t, View dx) {
  if (even_) return {dx.data, {dx.numel()}, dx.device};
  return padded_[t].view();
}

void ExchangeStaging::finish_scatter(int t, View dx, const Stream& stream) const {
  if (even_) return;
  copy_rows_async(padded_[t].data(), max_block_, dx.data, block_[t], block_[t], batch_, dx.device, stream);
}

namespace {

std::vector<const Stream*> comm_streams(const ExchangeStaging& staging,
                                        const std::vector<ExchangeStreams>& streams) {
  std::vector<const Stream*> out;
  for (int t : staging.local()) out.push_back(streams[t].comm);
  return out;
}

// Every tower's share into every tower's staging, tower-major: the forward half both kinds share.
void gather_shares(ExchangeStaging& staging, Communicator& comm, const std::vector<ConstView>& x,
                   const std::vector<ExchangeStreams>& streams) {
  std::vector<ConstView> send;
  std::vector<View> recv;
  for (int t : staging.local()) {
    send.push_back(staging.send_share(t, x[t], *streams[t].comm));
    recv.push_back(staging.gathered(t));
  }
  comm.all_gather(send, recv, comm_streams(staging, streams));
}

// What the towers send back, summed, tower t keeping block t: the backward half both kinds share.
// `send[i]` is the i-th tower held's tower-major gradient (or zeros).
void scatter_sums(ExchangeStaging& staging, Communicator& comm, const std::vector<ConstView>& send,
                  const std::vector<View>& dx, const std::vector<ExchangeStreams>& streams) {
  std::vector<View> recv;
  for (int t : staging.local()) recv.push_back(staging.scattered(t, dx[t]));
  comm.reduce_scatter(send, recv, comm_streams(staging, streams));
  for (int t : staging.local()) staging.finish_scatter(t, dx[t], *streams[t].comm);
}

// --- AllGather: forward all-gather, backward reduce-scatter ------------------------------------

class AllGather final : public Exchange {
 public:
  AllGather(const PlanNode& node, int batch, const std::vector<Device>& devices, Communicator& comm)
      : staging_(node, batch, devices, comm.local()), comm_(comm) {}
  const char* kind() const override { return "all-gather"; }

  void forward(const std::vector<ConstView>& x, const std::vector<View>& y,
               const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    gather_shares(staging_, comm_, x, streams);
    for (int t : staging_.local()) staging_.to_logical(t, y[t], *streams[t].comm);
  }

  void backward(const std::vector<ConstView>& dy, const std::vector<View>& dx,
                const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    std::vector<ConstView> send;
    for (int t : staging_.local()) {
      staging_.from_logical(t, dy[t], *streams[t].comm);
      send.push_back(staging_.gathered(t));
    }
    scatter_sums(staging_, comm_, send, dx, streams);
  }

 private:
  ExchangeStaging staging_;
  Communicator& comm_;
};

// --- GatherToOne: forward gather to tower h, backward scatter from it ---------------------------

class GatherToOne final : public Exchange {
 public:
  GatherToOne(const PlanNode& node, int batch, const std::vector<Device>& devices, Communicator& comm)
      : staging_(node, batch, devices, comm.local()), comm_(comm), home_(node.home) {
    // What the towers that do not consume y send back: nothing, as explicit zeros.
    zeros_.resize(staging_.towers());
    for (int t : staging_.local())
      if (t != home_) zeros_[t] = Tensor::zeros(staging_.gathered(t).shape, devices[t]);
  }
  const char* kind() const override { return "gather"; }

  void forward(const std::vector<ConstView>& x, const std::vector<View>& y,
               const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    gather_shares(staging_, comm_, x, streams);  // the other towers receive y too, and ignore it
    if (!y[home_].empty()) staging_.to_logical(home_, y[home_], *streams[home_].comm);
  }

  void backward(const std::vector<ConstView>& dy, const std::vector<View>& dx,
                const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    std::vector<ConstView> send;
    for (int t : staging_.local()) {
      if (t == home_) {
        staging_.from_logical(t, dy[t], *streams[t].comm);
        send.push_back(staging_.gathered(t));
      } else {
        send.push_back(zeros_[t].view());
      }
    }
    scatter_sums(staging_, comm_, send, dx, streams);
  }

 private:
  ExchangeStaging staging_;
  Communicator& comm_;
  int home_;
  std::vector<Tensor> zeros_;
};

// --- BatchGather: hybrid's all-gather along the batch, backward reduce-scatter ----------------

class BatchGather final : public Exchange {
 public:
  BatchGather(const std::vector<int>& local, Communicator& comm) : local_(local), comm_(comm) {}
  const char* kind() const override { return "batch gather"; }

  void forward(const std::vector<ConstView>& x, const std::vector<View>& y,
               const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    std::vector<ConstView> send;
    std::vector<View> recv;
    for (int t : local_) {
      send.push_back({x[t].data, {x[t].numel()}, x[t].device});
      recv.push_back({y[t].data, {y[t].numel()}, y[t].device});
    }
    comm_.all_gather(send, recv, streams_of(streams));
  }

  void backward(const std::vector<ConstView>& dy, const std::vector<View>& dx,
                const std::vector<ExchangeStreams>& streams) override {
    CommScope scope(streams);
    std::vector<ConstView> send;
    std::vector<View> recv;
    for (int t : local_) {
      send.push_back({dy[t].data, {dy[t].numel()}, dy[t].device});
      recv.push_back({dx[t].data, {dx[t].numel()}, dx[t].device});
    }
    comm_.reduce_scatter(send, recv, streams_of(streams));
  }

 private:
  std::vector<const Stream*> streams_of(const std::vector<ExchangeStreams>& streams) const {
    std::vector<const Stream*> out;
    for (int t : local_) out.push_back(streams[t].comm);
    return out;
  }

  std::vector<int> local_;
  Communicator& comm_;
};

}  // namespace

std::unique_ptr<Exchange> make_exchange(const PlanNode& node, int batch, const std::vector<Device>& devices,
                                        Communicator& comm) {
  CHECK(node.kind == PlanNode::Kind::kExchange) << node.name;
  if (node.in_spread == Spread::kBatch) return std::make_unique<BatchGather>(comm.local(), comm);
  if (node.out_spread == Spread::kOneTower) return std::make_unique<GatherToOne>(node, batch, devices, comm);
  return std::make_unique<AllGather>(node, batch, devices, comm);
}

std::vector<float> join_shares(const std::vector<std::vector<float>>& shares, int64_t batch) {
  int64_t item = 0;
  for (const auto& s : shares) item += static_cast<int64_t>(s.size()) / batch;
  std::vector<float> out(batch * item);
  int64_t at = 0;
  for (const auto& s : shares) {
    const int64_t block = static_cast<int64_t>(s.size()) / batch;
    for (int64_t n = 0; n < batch; ++n) std::copy_n(s.data() + n * block, block, out.data() + n * item + at);
    at += block;
  }
  return out;
}

}  // namespace alexnet
