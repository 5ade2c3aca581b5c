// Ranks on GPUs: the groups' device tensors move over NCCL, one NCCL rank per process.
//
// connect_cpu_groups() comes first: the store, the arrival check and the Gloo meshes, which keep
// carrying the host operations (the per-step agreement, checkpoints' bytes), so that a rank that
// dies is still named by the store. Then rank 0 draws NCCL's unique id and publishes it through
// the store, every rank joins the world communicator (ncclCommInitRankConfig), and the tower and
// replica communicators are split from it (ncclCommSplit: color = replica for the tower groups,
// color = tower for the replica groups), every rank calling both splits in the same order, as NCCL
// requires. The world communicator is then destroyed: nothing on the device crosses it.
//
// NCCL reports a lost peer asynchronously and a collective waiting for it never finishes, so each
// communicator has a watchdog thread: every 100 ms it asks NCCL (ncclCommGetAsyncError) and, every
// second, the store whether a rank was lost; on either it aborts the communicator, which releases
// the kernels, and the next call throws PeerLost with its message, as does the next poll of a
// host waiting on the GPU (core/gpu_wait.h). A collective that stalls with no error and no rank
// lost (a peer hung) ends that wait at --timeout, naming the node and this group's last collective.
#include <cuda_runtime.h>
#include <glog/logging.h>
#include <nccl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "comm/gpu_identity.h"
#include "comm/process_groups.h"
#include "comm/rendezvous.h"
#include "core/cuda_backend.h"
#include "core/cuda_check.h"
#include "core/cuda_diagnosis.h"
#include "core/errors.h"
#include "core/flight_recorder.h"
#include "core/gpu_wait.h"

namespace alexnet {

namespace {

class NcclProcessCommunicator final : public Communicator {
 public:
  // `host`: the Gloo communicator of the same group, for the host operations.
  NcclProcessCommunicator(std::string name, ncclComm_t comm, const RankGroup& members, Device device,
                          std::unique_ptr<Communicator> host, std::shared_ptr<Rendezvous> store)
      : name_(std::move(name)),
        comm_(comm),
        members_(members),
        device_(device),
        host_(std::move(host)),
        store_(std::move(store)),
        watchdog_([this] { watch(); }) {
    wait_check_ = add_wait_check([this] {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_.empty()) throw PeerLost(failure_);
    });
  }

  ~NcclProcessCommunicator() override {
    remove_wait_check(wait_check_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    watchdog_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    if (!comm_) return;
    if (failure_.empty()) {
      NCCL_CHECK_LOG(ncclCommDestroy(comm_));
    } else {
      NCCL_CHECK_LOG(ncclCommAbort(comm_));
    }
  }

  int size() const override { return members_.size(); }
  std::vector<int> local() const override { return {members_.index}; }
  const char* kind() const override { return "nccl"; }

  void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                  const std::vector<const Stream*>& streams) override {
    one(send.size(), recv.size(), streams.size());
    CHECK_EQ(recv[0].numel(), send[0].numel() * size()) << name_ << " all-gather: receive buffer";
    issue("all-gather", recv[0].numel(), [&](ncclComm_t c) {
      return ncclAllGather(send[0].data, recv[0].data, static_cast<size_t>(send[0].numel()), ncclFloat, c,
                           streams[0]->handle());
    });
  }

  void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                      const std::vector<const Stream*>& streams) override {
    one(send.size(), recv.size(), streams.size());
    CHECK_EQ(send[0].numel(), recv[0].numel() * size()) << name_ << " reduce-scatter: send buffer";
    issue("reduce-scatter", send[0].numel(), [&](ncclComm_t c) {
      return ncclReduceScatter(send[0].data, recv[0].data, static_cast<size_t>(recv[0].numel()), ncclFloat,
                               ncclSum, c, streams[0]->handle());
    });
  }

  void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) override {
    one(buffers.size(), buffers.size(), streams.size());
    issue("all-reduce", buffers[0].numel(), [&](ncclComm_t c) {
      return ncclAllReduce(buffers[0].data, buffers[0].data, static_cast<size_t>(buffers[0].numel()),
                           ncclFloat, ncclSum, c, streams[0]->handle());
    });
  }

  void broadcast(int root, const std::vector<View>& buffers,
                 const std::vector<const Stream*>& streams) override {
    one(buffers.size(), buffers.size(), streams.size());
    issue("broadcast", buffers[0].numel(), [&](ncclComm_t c) {
      return ncclBroadcast(buffers[0].data, buffers[0].data, static_cast<size_t>(buffers[0].numel()),
                           ncclFloat, root, c, streams[0]->handle());
    });
  }

  void all_reduce_host(std::vector<double>& values) override { host_->all_reduce_host(values); }
  void broadcast_host(int root, std::string& bytes) override { host_->broadcast_host(root, bytes); }
  std::vector<std::string> all_gather_host(const std::string& mine) override {
    return host_->all_gather_host(mine);
  }

 private:
  void one(size_t a, size_t b, size_t s) const {
    CHECK(a == 1 && b == 1 && s == 1) << name_ << ": one member per process";
  }

  template <typename Call>
  void issue(const char* operation, int64_t floats, Call call) {
    note_collective("NCCL " + name_ + " group", std::string(operation) + " #" + std::to_string(++sequence_) +
                                                    " of " + std::to_string(floats * 4) + " bytes");
    flight_begin(name_ + " (NCCL)", operation, floats * 4, false);  // queued: the stream completes it
    std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_.empty()) throw PeerLost(failure_);
    CudaDeviceGuard guard(device_.index);
    const ncclResult_t r = call(comm_);
    if (r != ncclSuccess) fail_locked(std::string(operation) + ": " + ncclGetErrorString(r));
  }

  // With mutex_ held: aborts and throws.
  [[noreturn]] void fail_locked(const std::string& what) {
    failure_ = "the " + name_ + " group's NCCL communicator failed (" + what + "); aborted";
    NCCL_CHECK_LOG(ncclCommAbort(comm_));
    comm_ = nullptr;
    throw PeerLost(failure_);
  }

  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (int tick = 1;; ++tick) {
      if (wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; })) return;
      if (!comm_ || !failure_.empty()) continue;
      std::string why;
      ncclResult_t state = ncclSuccess;
      if (ncclCommGetAsyncError(comm_, &state) == ncclSuccess && state != ncclSuccess &&
          state != ncclInProgress)
        why = std::string("NCCL: ") + ncclGetErrorString(state);
      if (why.empty() && tick % 10 == 0) {
        lock.unlock();
        std::vector<int> lost;
        try {
          lost = store_->lost_ranks();
        } catch (const std::exception&) {
          lost = {0};
        }
        lock.lock();
        if (!lost.empty()) why = "rank " + std::to_string(lost.front()) + " was lost";
      }
      if (why.empty() || !comm_) continue;
      failure_ = "the " + name_ + " group's NCCL communicator stopped: " + why + "; aborted";
      LOG(ERROR) << failure_;
      NCCL_CHECK_LOG(ncclCommAbort(comm_));  // releases kernels (and hosts) waiting on the lost rank
      comm_ = nullptr;
    }
  }

  std::string name_;
  ncclComm_t comm_;
  RankGroup members_;
  Device device_;
  std::unique_ptr<Communicator> host_;
  std::shared_ptr<Rendezvous> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string failure_;
  uint64_t sequence_ = 0;  // collectives issued, for the messages
  int wait_check_ = -1;
  std::thread watchdog_;  // last: starts once the rest is set
};

std::string id_bytes(const ncclUniqueId& id) {
  return std::string(reinterpret_cast<const char*>(&id), sizeof id);
}

// Two ranks on one GPU need NCCL >= 2.30 and --nccl-multi-rank-gpu. The GPU is told by its UUID,
// not its ordinal (comm/gpu_identity.h); every rank sees every rank's and decides alike, so none is
// left waiting in NCCL's initialisation.
void check_shared_gpus(Communicator& world, Device device, bool multi_rank_gpu) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  const RankGpu mine{detail::cuda_device_uuid(device), host, device.index};
  std::vector<RankGpu> all;
  for (const std::string& line : world.all_gather_host(encode_rank_gpu(mine)))
    all.push_back(decode_rank_gpu(line));
  const std::string shared = shared_gpu(all);
  if (shared.empty()) return;
  int code = 0;
  NCCL_CHECK(ncclGetVersion(&code));
  if (code < 23000 || !multi_rank_gpu) {
    throw UserError(shared + ": two ranks on one GPU need NCCL >= 2.30 (this process loaded " +
                    detail::nccl_version_text(code) +
                    ") and --nccl-multi-rank-gpu; give each rank a GPU of its own (--devices)");
  }
  setenv("NCCL_MULTI_RANK_GPU_ENABLE", "1", 1);  // before this process's first NCCL communicator
}

}  // namespace

ProcessGroups connect_gpu_groups(const LaunchInfo& launch, const RankGrid& grid,
                                 const ProcessOptions& options, Device device, bool multi_rank_gpu) {
  detail::require_cuda_device(device);
  detail::require_usable_nccl();
  ProcessGroups groups = connect_cpu_groups(launch, grid, options);
  check_shared_gpus(*groups.world, device, multi_rank_gpu);
  CudaDeviceGuard guard(device.index);
  const std::string key = "nccl/unique-id";
  if (grid.rank == 0) {
    ncclUniqueId id;
    NCCL_CHECK(ncclGetUniqueId(&id));
    const std::string bytes = id_bytes(id);
    groups.store->set(key, std::vector<char>(bytes.begin(), bytes.end()));
  }
  groups.store->wait({key});
  const std::vector<char> bytes = groups.store->get(key);
  CHECK_EQ(bytes.size(), sizeof(ncclUniqueId)) << "the NCCL id in the store";
  ncclUniqueId id;
  std::memcpy(&id, bytes.data(), sizeof id);

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 1;
  ncclComm_t world = nullptr, tower = nullptr, replica = nullptr;
  NCCL_CHECK(ncclCommInitRankConfig(&world, grid.world_size, id, grid.rank, &config));
  // Every rank makes both splits, in this order.
  NCCL_CHECK(ncclCommSplit(world, grid.replica, grid.tower, &tower, &config));
  NCCL_CHECK(ncclCommSplit(world, grid.tower, grid.replica, &replica, &config));
  NCCL_CHECK(ncclCommDestroy(world));
  groups.tower = std::make_unique<NcclProcessCommunicator>("tower", tower, grid.tower_group, device,
                                                           std::move(groups.tower), groups.store);
  groups.replica = std::make_unique<NcclProcessCommunicator>("replica", replica, grid.replica_group, device,
                                                             std::move(groups.replica), groups.store);
  return groups;
}

}  // namespace alexnet
