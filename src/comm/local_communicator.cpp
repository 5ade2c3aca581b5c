// The local communicator: towers in one process, all on the CPU or all on one GPU, moved with
// copies and summed with add_into_async(). On the CPU the streams run inline, so every operation
// is complete on return. On a GPU the towers' streams run side by side, so each collective is
// fenced: every stream waits for every other before it (a tower reads its peers' buffers only
// after they are written) and after it (a tower overwrites its buffers only after its peers have
// read them).
#include <glog/logging.h>

#include <memory>
#include <stdexcept>

#include "comm/communicator.h"
#include "core/device_ops.h"
#include "core/errors.h"

namespace alexnet {

namespace {

class LocalCommunicator final : public OneProcessHost {
 public:
  explicit LocalCommunicator(std::vector<Device> devices) : devices_(std::move(devices)) {
    for (Device d : devices_) {
      if (d != devices_[0]) {
        throw std::runtime_error("local communicator: towers on " + devices_[0].str() + " and " + d.str() +
                                 " need NCCL (--comm nccl); the local one serves towers on one device");
      }
    }
    if (devices_[0].is_cuda()) {
      for (size_t t = 0; t < devices_.size(); ++t) fences_.push_back(std::make_unique<Event>(devices_[0]));
    }
  }

  int size() const override { return static_cast<int>(devices_.size()); }
  std::vector<int> local() const override { return every_member(size()); }
  const char* kind() const override { return "local"; }

  void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                  const std::vector<const Stream*>& streams) override {
    check(send.size(), recv.size(), streams.size());
    const int64_t count = send[0].numel();
    fence(streams);
    for (int t = 0; t < size(); ++t) {
      CHECK_EQ(recv[t].numel(), count * size()) << "all_gather: tower " << t << " receive buffer";
      for (int r = 0; r < size(); ++r) {
        CHECK_EQ(send[r].numel(), count) << "all_gather: tower " << r << " sends a different count";
        if (recv[t].data + r * count == send[r].data) continue;  // already in place
        copy_async(send[r], View{recv[t].data + r * count, {count}, recv[t].device}, *streams[t]);
      }
    }
    fence(streams);
  }

  void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                      const std::vector<const Stream*>& streams) override {
    check(send.size(), recv.size(), streams.size());
    const int64_t count = recv[0].numel();
    fence(streams);
    for (int t = 0; t < size(); ++t) {
      CHECK_EQ(send[t].numel(), count * size()) << "reduce_scatter: tower " << t << " send buffer";
      auto block = [&](int r) { return ConstView{send[r].data + t * count, {count}, send[r].device}; };
      copy_async(block(0), recv[t], *streams[t]);
      for (int r = 1; r < size(); ++r) add_into_async(recv[t], block(r), *streams[t]);
    }
    fence(streams);
  }

  void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>& streams) override {
    check(buffers.size(), buffers.size(), streams.size());
    fence(streams);
    // Tower 0 sums, then every other tower copies the sum; the fence orders the two halves.
    for (int r = 1; r < size(); ++r) add_into_async(buffers[0], buffers[r], *streams[0]);
    fence(streams);
    for (int r = 1; r < size(); ++r) copy_async(buffers[0], buffers[r], *streams[r]);
    fence(streams);
  }

  void broadcast(int root, const std::vector<View>& buffers,
                 const std::vector<const Stream*>& streams) override {
    check(buffers.size(), buffers.size(), streams.size());
    fence(streams);
    for (int r = 0; r < size(); ++r)
      if (r != root) copy_async(buffers[root], buffers[r], *streams[r]);
    fence(streams);
  }

 private:
  void check(size_t a, size_t b, size_t s) const {
    CHECK_EQ(static_cast<int>(a), size()) << "one buffer per tower";
    CHECK_EQ(static_cast<int>(b), size()) << "one buffer per tower";
    CHECK_EQ(static_cast<int>(s), size()) << "one stream per tower";
  }

  // Every tower's stream waits for the work queued so far on every other tower's stream.
  void fence(const std::vector<const Stream*>& streams) {
    if (fences_.empty()) return;  // CPU streams are already in order
    for (int t = 0; t < size(); ++t) fences_[t]->record(*streams[t]);
    for (int t = 0; t < size(); ++t)
      for (int r = 0; r < size(); ++r)
        if (r != t) fences_[r]->make_wait(*streams[t]);
  }

  std::vector<Device> devices_;
  std::vector<std::unique_ptr<Event>> fences_;  // one per tower, on a GPU
};

}  // namespace

std::vector<int> every_member(int size) {
  std::vector<int> members(size);
  for (int i = 0; i < size; ++i) members[i] = i;
  return members;
}

std::unique_ptr<Communicator> make_local_communicator(const std::vector<Device>& devices) {
  if (devices.empty()) throw std::invalid_argument("local communicator: no towers");
  return std::make_unique<LocalCommunicator>(devices);
}

std::unique_ptr<Communicator> make_communicator(const std::string& kind, const std::vector<Device>& devices,
                                                bool multi_rank_gpu) {
  bool one_device = true;
  for (Device d : devices) one_device = one_device && d == devices[0];
  if (kind == "nccl" || (kind == "auto" && !one_device) || (kind == "auto" && multi_rank_gpu))
    return make_nccl_communicator(devices, multi_rank_gpu);
  if (kind == "local" || kind == "auto") {
    if (!one_device) {
      throw UserError("--comm local: the towers are on " + devices[0].str() + " and " + devices[1].str() +
                      "; the local communicator serves towers on one device (use --comm nccl or auto)");
    }
    return make_local_communicator(devices);
  }
  throw UserError("--comm: '" + kind + "' is not auto, local or nccl");
}

}  // namespace alexnet
