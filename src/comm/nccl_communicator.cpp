// The NCCL communicator: one process drives every tower's GPU. ncclCommInitAll makes one
// communicator per tower, and each collective is issued for all towers inside one
// ncclGroupStart/ncclGroupEnd, as NCCL requires when one thread owns several ranks.
//
// NCCL reports failures of the collectives themselves (a peer lost, a network error)
// asynchronously; after each call, and between the polls of every host wait on the GPU
// (core/gpu_wait.h), we ask every communicator (ncclCommGetAsyncError) and, on an error, abort them
// all, so that no stream waits forever on a collective that cannot complete. A collective that
// stalls without an error ends the wait at --timeout, the message naming each tower's node and
// this group's last collective.
#include <glog/logging.h>

#include <cstdlib>
#include <set>
#include <utility>

#include "comm/communicator.h"
#include "core/cuda_backend.h"
#include "core/cuda_check.h"
#include "core/cuda_diagnosis.h"
#include "core/errors.h"
#include "core/gpu_wait.h"

namespace alexnet {

namespace {

// One NCCL communicator (one rank); destroyed, or aborted after an error.
class NcclComm {
 public:
  NcclComm() = default;
  explicit NcclComm(ncclComm_t comm) : comm_(comm) {}
  ~NcclComm() {
    if (comm_) NCCL_CHECK_LOG(ncclCommDestroy(comm_));
  }
  NcclComm(NcclComm&& o) noexcept : comm_(std::exchange(o.comm_, nullptr)) {}
  NcclComm& operator=(NcclComm&& o) noexcept {
    if (this != &o) {
      if (comm_) NCCL_CHECK_LOG(ncclCommDestroy(comm_));
      comm_ = std::exchange(o.comm_, nullptr);
    }
    return *this;
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  ncclComm_t get() const { return comm_; }
  void abort() noexcept {
    if (comm_) NCCL_CHECK_LOG(ncclCommAbort(comm_));
    comm_ = nullptr;
  }

 private:
  ncclComm_t comm_ = nullptr;
};

class NcclCommunicator final : public OneProcessHost {
 public:
  NcclCommunicator(const std::vector<Device>& devices, bool multi_rank_gpu) : devices_(devices) {
    detail::require_usable_nccl();
    if (multi_rank_gpu) {
      // Refused up front, before any device is touched: the flag cannot work with this NCCL.
      int code = 0;
      NCCL_CHECK(ncclGetVersion(&code));
      if (code < kMultiRankGpuVersion) {
        throw UserError(
            "--nccl-multi-rank-gpu needs NCCL >= 2.30 (two ranks on one GPU); this process loaded NCCL " +
            detail::nccl_version_text(code) + "; use --comm local for two towers on one GPU");
      }
    }
    std::set<int> distinct;
    std::vector<int> ordinals;
    for (Device d : devices) {
      if (!d.is_cuda())
        throw UserError("--comm nccl: tower on " + d.str() + "; NCCL joins CUDA devices only");
      detail::require_cuda_device(d);
      distinct.insert(d.index);
      ordinals.push_back(d.index);
    }
    if (distinct.size() < devices.size()) {
      if (!multi_rank_gpu) {
        throw UserError("--comm nccl: two towers share " + devices[0].str() +
                        "; use --comm local for towers on one GPU, or --nccl-multi-rank-gpu (NCCL >= 2.30)");
      }
      setenv("NCCL_MULTI_RANK_GPU_ENABLE", "1", 1);
    }
    std::vector<ncclComm_t> raw(devices.size(), nullptr);
    NCCL_CHECK(ncclCommInitAll(raw.data(), static_cast<int>(raw.size()), ordinals.data()));
    for (ncclComm_t c : raw) comms_.emplace_back(c);
    wait_check_ = add_wait_check([this] { check_async_errors(); });
  }
  ~NcclCommunicator() override { remove_wait_check(wait_check_); }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int size() const override { return static_cast<int>(comms_.size()); }
  std::vector<int> local() const override { return every_member(size()); }
  const char* kind() const override { return "nccl"; }

  void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                  const std::vector<const Stream*>& streams) override {
    check(send.size(), recv.size(), streams.size());
    const size_t count = static_cast<size_t>(send[0].numel());
    grouped("all-gather", count, [&](int t) {
      CHECK_EQ(recv[t].numel(), send[t].numel() * size()) << "all_gather: tower " << t << " receive buffer";
      return ncclAllGather(send[t].data, recv[t].data, count, ncclFloat, comms_[t].get(),
                           streams[t]->handle());
    });
  }

  void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                      const std::vector<const Stream*>& streams) override {
    check(send.size(), recv.size(), streams.size());
    const size_t count = static_cast<size_t>(recv[0].numel());
    grouped("reduce-scatter", count * size(), [&](int t) {
      CHECK_EQ(send[t].numel(), recv[t].numel() * size()) << "reduce_scatter: tower " << t << " send buffer";
      return ncclReduceScatter(send[t].data, recv[t].data, count, ncclFloat, ncclSum, comms_[t].get(),
                               streams[t]->handle());
    });
  }

  void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) override {
    check(buffers.size(), buffers.size(), streams.size());
    grouped("all-reduce", static_cast<size_t>(buffers[0].numel()), [&](int t) {
      return ncclAllReduce(buffers[t].data, buffers[t].data, static_cast<size_t>(buffers[t].numel()),
                           ncclFloat, ncclSum, comms_[t].get(), streams[t]->handle());
    });
  }

  void broadcast(int root, const std::vector<View>& buffers,
                 const std::vector<const Stream*>& streams) override {
    check(buffers.size(), buffers.size(), streams.size());
    grouped("broadcast", static_cast<size_t>(buffers[0].numel()), [&](int t) {
      return ncclBroadcast(buffers[t].data, buffers[t].data, static_cast<size_t>(buffers[t].numel()),
                           ncclFloat, root, comms_[t].get(), streams[t]->handle());
    });
  }

 private:
  static constexpr int kMultiRankGpuVersion = 23000;

  void check(size_t a, size_t b, size_t s) const {
    CHECK_EQ(static_cast<int>(a), size()) << "one buffer per tower";
    CHECK_EQ(static_cast<int>(b), size()) << "one buffer per tower";
    CHECK_EQ(static_cast<int>(s), size()) << "one stream per tower";
  }

  // One call per tower inside a group, then the asynchronous error check.
  template <typename Call>
  void grouped(const char* operation, size_t floats, Call call) {
    note_collective("NCCL towers", std::string(operation) + " #" + std::to_string(++sequence_) + " of " +
                                       std::to_string(floats * sizeof(float)) + " bytes per tower");
    NCCL_CHECK(ncclGroupStart());
    for (int t = 0; t < size(); ++t) {
      ncclResult_t r = call(t);
      if (r != ncclSuccess) {
        ncclGroupEnd();
        fail(t, r);
      }
    }
    NCCL_CHECK(ncclGroupEnd());
    check_async_errors();
  }

  void check_async_errors() {
    for (int t = 0; t < size(); ++t) {
      if (!comms_[t].get()) continue;  // aborted
      ncclResult_t state = ncclSuccess;
      NCCL_CHECK(ncclCommGetAsyncError(comms_[t].get(), &state));
      if (state != ncclSuccess && state != ncclInProgress) fail(t, state);
    }
  }

  [[noreturn]] void fail(int tower, ncclResult_t r) {
    for (NcclComm& c : comms_) c.abort();
    throw CudaError("NCCL error on tower " + std::to_string(tower) + " (" + devices_[tower].str() +
                    "): " + ncclGetErrorString(r) + "; all communicators aborted");
  }

  std::vector<Device> devices_;
  std::vector<NcclComm> comms_;
  uint64_t sequence_ = 0;  // collectives issued, for the messages
  int wait_check_ = -1;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const std::vector<Device>& devices,
                                                     bool multi_rank_gpu) {
  return std::make_unique<NcclCommunicator>(devices, multi_rank_gpu);
}

}  // namespace alexnet
