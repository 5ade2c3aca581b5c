// The local communicator: towers in one process, moved with copy() and summed on the host.
// The CPU towers' streams run inline, so every operation is complete on return. Towers on a GPU
// are not served here yet (their sums need a device kernel): that arrives with the CUDA backend.
#include <glog/logging.h>

#include <stdexcept>

#include "comm/communicator.h"
#include "core/tensor.h"

namespace alexnet {

namespace {

class LocalCommunicator final : public Communicator {
 public:
  explicit LocalCommunicator(std::vector<Device> devices) : devices_(std::move(devices)) {
    for (Device d : devices_) {
      if (!d.is_cpu()) {
        throw std::runtime_error("local communicator: towers on " + d.str() +
                                 " are not supported yet; use cpu towers");
      }
    }
  }

  int size() const override { return static_cast<int>(devices_.size()); }
  const char* kind() const override { return "local"; }

  void all_gather(const std::vector<ConstView>& send, const std::vector<View>& recv,
                  const std::vector<const Stream*>&) override {
    check(send.size(), recv.size());
    const int64_t count = send[0].numel();
    for (int t = 0; t < size(); ++t) {
      CHECK_EQ(recv[t].numel(), count * size()) << "all_gather: tower " << t << " receive buffer";
      for (int r = 0; r < size(); ++r) {
        CHECK_EQ(send[r].numel(), count) << "all_gather: tower " << r << " sends a different count";
        if (recv[t].data + r * count == send[r].data) continue;  // already in place
        copy(send[r], View{recv[t].data + r * count, {count}, recv[t].device});
      }
    }
  }

  void reduce_scatter(const std::vector<ConstView>& send, const std::vector<View>& recv,
                      const std::vector<const Stream*>&) override {
    check(send.size(), recv.size());
    const int64_t count = recv[0].numel();
    for (int t = 0; t < size(); ++t) {
      CHECK_EQ(send[t].numel(), count * size()) << "reduce_scatter: tower " << t << " send buffer";
      float* out = recv[t].data;
      const float* first = send[0].data + t * count;
      for (int64_t i = 0; i < count; ++i) out[i] = first[i];
      for (int r = 1; r < size(); ++r) {
        const float* in = send[r].data + t * count;
#pragma omp parallel for simd schedule(static)
        for (int64_t i = 0; i < count; ++i) out[i] += in[i];
      }
    }
  }

  void all_reduce(const std::vector<View>& buffers, const std::vector<const Stream*>&) override {
    check(buffers.size(), buffers.size());
    const int64_t count = buffers[0].numel();
    for (int r = 1; r < size(); ++r) {
      CHECK_EQ(buffers[r].numel(), count);
      for (int64_t i = 0; i < count; ++i) buffers[0].data[i] += buffers[r].data[i];
    }
    for (int r = 1; r < size(); ++r) copy(buffers[0], buffers[r]);
  }

  void broadcast(int root, const std::vector<View>& buffers, const std::vector<const Stream*>&) override {
    check(buffers.size(), buffers.size());
    for (int r = 0; r < size(); ++r)
      if (r != root) copy(buffers[root], buffers[r]);
  }

 private:
  void check(size_t a, size_t b) const {
    CHECK_EQ(static_cast<int>(a), size()) << "one buffer per tower";
    CHECK_EQ(static_cast<int>(b), size()) << "one buffer per tower";
  }
  std::vector<Device> devices_;
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator(const std::vector<Device>& devices) {
  return std::make_unique<LocalCommunicator>(devices);
}

}  // namespace alexnet
