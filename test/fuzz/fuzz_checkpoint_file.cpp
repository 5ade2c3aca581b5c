// libFuzzer target: a checkpoint whose structure the input chooses (test/fuzz/fuzzed_hdf5.h) ->
// load_checkpoint into a small two-tower split net, with its momentum, what `--resume` and
// `eval --checkpoint` do. A malformed file must end in UserError (exit status 2); any other
// exception, a crash, a hang, a huge allocation or a sanitizer report is a finding.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "comm/communicator.h"
#include "core/device.h"
#include "core/errors.h"
#include "fuzzed_hdf5.h"
#include "net/net.h"
#include "net/network_file.h"
#include "train/checkpoint.h"
#include "train/sgd.h"

namespace alexnet {
using h5::H5Id;

namespace {

// alexnet-mini's kinds of layer and exchange, in miniature: the reader's checks do not depend on
// the sizes, and small tensors let the fuzzer try hundreds of files a second rather than tens.
constexpr const char* kTinyNet = R"(
[net]
name = "fuzz-tiny"
input = [1, 8, 8]
classes = 3
[[layers]]
name = "conv1"
type = "conv"
out = 4
kernel = 3
pad = 1
reads = "all"
[[layers]]
name = "pool1"
type = "max_pool"
kernel = 2
stride = 2
[[layers]]
name = "conv2"
type = "conv"
out = 4
kernel = 3
pad = 1
reads = "own"
[[layers]]
name = "fc3"
type = "fc"
out = 8
reads = "all"
[[layers]]
name = "fc4"
type = "fc"
out = "classes"
split = false
reads = "all"
[[layers]]
name = "loss"
type = "softmax_loss"
)";

struct Target {
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Net> net;
  std::unique_ptr<Sgd> sgd;
};

Target& target() {
  static Target t = [] {
    Target t;
    Plan plan =
        make_plan(parse_network(kTinyNet, "fuzz-tiny.toml"), {.placement = Placement::kSplit, .towers = 2});
    std::vector<Device> devices(2, Device::cpu());
    t.comm = make_communicator("auto", devices, false);
    t.net = std::make_unique<Net>(std::move(plan), devices, t.comm.get(), 2);
    t.sgd = std::make_unique<Sgd>(*t.net, SgdConfig{.learning_rate = 0.01f, .momentum = 0.9f});
    return t;
  }();
  return t;
}

// A tensor's crc32 attribute: the right checksum of what was written, or one of its variations.
void crc_attr(fuzzing::FuzzedHdf5& f, hid_t group, const std::string& name,
              const std::vector<float>& values) {
  H5Id set(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!set.valid()) return;
  const uint32_t crc = static_cast<uint32_t>(crc32_z(
      crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(values.data()), values.size() * sizeof(float)));
  f.int_attr(set.get(), "crc32", crc);
}

// Writes the checkpoint the input describes: the right layout (train/checkpoint.h) for an
// exhausted input.
void write_checkpoint_file(const std::string& path, const Net& net, FuzzedDataProvider& in) {
  fuzzing::FuzzedHdf5 f(in);
  std::lock_guard<std::mutex> lock(hdf5_lock());
  h5::quiet_hdf5();
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  hid_t root = file.get();
  f.string_attr(root, "format", "alexnet-checkpoint");
  f.int_attr(root, "version", 2);
  f.string_attr(root, "net", net.plan().net.name);
  f.string_attr(root, "placement", "split");
  for (const char* counter : {"step", "epoch", "position", "seed", "bad_epochs"})
    f.int_attr(root, counter, 3);
  f.double_attr(root, "lr", 0.01);
  f.double_attr(root, "best_val_error", 0.5);
  for (const char* name : {"params", "momentum"}) {
    H5Id group = f.group(root, name);
    if (!group.valid()) continue;
    for (const LogicalParam& p : net.plan().params) {
      std::vector<hsize_t> dims;
      for (int i = 0; i < p.shape.rank(); ++i) dims.push_back(p.shape[i]);
      const std::vector<float> values = f.numbers(group.get(), p.name.c_str(), H5T_IEEE_F32LE, dims,
                                                  [](size_t i) { return 1e-3 * double(i % 97); });
      crc_attr(f, group.get(), p.name, values);
    }
  }
  h5::close_written_file(file, path);
}

}  // namespace
}  // namespace alexnet

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alexnet;
  static const std::string path = fuzzing::scratch_file("checkpoint");
  Target& t = target();
  FuzzedDataProvider in(data, size);
  write_checkpoint_file(path, *t.net, in);
  try {
    load_checkpoint(path, *t.net, t.sgd.get());
  } catch (const UserError&) {
  }
  return 0;
}
