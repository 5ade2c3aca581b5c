#include "train/checkpoint.h"

#include <glog/logging.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "core/atomic_file.h"
#include "core/crash_point.h"
#include "core/errors.h"
#include "core/hdf5.h"
#include "net/net.h"
#include "train/sgd.h"

namespace fs = std::filesystem;

namespace alexnet {

using namespace h5;

namespace {
constexpr const char* kFormat = "alexnet-checkpoint";
// 2: each tensor carries a crc32 attribute; 3: position in images; 4: the network file and the
// run's configuration as text (attributes network_toml, network_path, config_toml)
constexpr int kVersion = 4;

std::vector<hsize_t> dims(const Shape& s) {
  std::vector<hsize_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(static_cast<hsize_t>(s[i]));
  return d;
}

std::vector<ConstView> velocity_views(const Net& net, const Sgd* sgd) {
  std::vector<ConstView> v;
  for (int t = 0; t < net.towers(); ++t) v.push_back(sgd->velocity(t));  // empty where held elsewhere
  return v;
}

// zlib's CRC-32 of the values' bytes as stored (float32 little-endian; x86 and ARM hosts are).
uint32_t crc32_of(const std::vector<float>& values) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), reinterpret_cast<const Bytef*>(values.data()),
                                       values.size() * sizeof(float)));
}

std::string hex(uint32_t v) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", v);
  return s;
}

void write_tensor(hid_t group, const std::string& name, const std::vector<float>& values,
                  const Shape& shape) {
  write_floats(group, name.c_str(), values, dims(shape));
  H5Id set = check_id(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, name);
  write_int_attr(set.get(), "crc32", crc32_of(values));
}

// HDF5 1.8's file format: checksummed superblock and object headers (what 1.6's lacks), which
// any reader since 2008 (h5py included) opens.
H5Id checksummed_format() {
  H5Id fapl = check_id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "file access list");
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18), "file format bounds");
  return fapl;
}

// The counters address the loader's stream and the schedule: a negative one would index before
// its start, a non-finite rate would train on NaN. (Whether the position fits an epoch of this
// run's data and batch is the trainer's check.)
void check_state(const std::string& path, const TrainState& s) {
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw UserError(path + ": " + what + " (damaged, or not written by alexnet?)");
  };
  require(s.step >= 0 && s.epoch >= 0 && s.position >= 0 && s.bad_epochs >= 0,
          "negative counters (step " + std::to_string(s.step) + ", epoch " + std::to_string(s.epoch) +
              ", position " + std::to_string(s.position) + ", bad_epochs " + std::to_string(s.bad_epochs) +
              ")");
  require(std::isfinite(s.lr) && s.lr >= 0, "learning rate " + std::to_string(s.lr) + " is not a rate");
  require(std::isfinite(s.best_val_error), "best_val_error is not finite");
}

using TensorSink = std::function<void(const char* group, const LogicalParam& p, std::vector<float> values)>;

// Opens `path` for reading, with hdf5_lock() held by the caller: UserError when it is not there,
// not HDF5 or cannot be opened.
H5Id open_checkpoint(const std::string& path) {
  quiet_hdf5();
  if (!fs::exists(path)) throw UserError(path + ": no such checkpoint");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw UserError(path + ": not an HDF5 file (damaged or truncated?)");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw UserError(path + ": cannot open (truncated or damaged?)");
  return file;
}

// Opens `path`, checks that it is a checkpoint this build reads, and hands each of `net`'s tensors
// (params, then momentum when asked), checked for shape and checksum, to `sink`. Everything a
// damaged file can make HDF5 fail becomes a UserError naming the file.
TrainState read_tensors(const std::string& path, const Net& net, bool momentum, const TensorSink& sink) {
  std::unique_lock<std::mutex> lock(hdf5_lock());  // let go between tensors, as when writing
  H5Id file = open_checkpoint(path);
  hid_t root = file.get();
  TrainState state;
  try {
    if (read_string_attr(root, "format") != kFormat) throw UserError(path + ": not an alexnet checkpoint");
    const int64_t version = read_int_attr(root, "version");
    if (version > kVersion) {
      throw UserError(path + ": checkpoint version " + std::to_string(version) +
                      " is newer than this alexnet reads (" + std::to_string(kVersion) + ")");
    }
    state.step = read_int_attr(root, "step");
    state.epoch = read_int_attr(root, "epoch");
    state.position = read_int_attr(root, "position");
    state.position_in_batches = version < 3;
    state.seed = static_cast<uint64_t>(read_int_attr(root, "seed"));
    state.lr = read_double_attr(root, "lr");
    state.best_val_error = read_double_attr(root, "best_val_error");
    state.bad_epochs = read_int_attr(root, "bad_epochs");
    check_state(path, state);
    auto read = [&](const std::string& group, const LogicalParam& p) {
      std::string name = group + "/" + p.name;
      if (!has_link(root, group.c_str()) || !has_link(root, name.c_str())) {
        throw UserError(path + ": has no /" + name +
                        " (was it written for another network or exchange layout?)");
      }
      H5Id set = open_values(root, name, Values::kNumbers);
      std::vector<hsize_t> d = dims_of(set.get());
      if (d != dims(p.shape)) {
        throw UserError(path + ": /" + name + " has shape " + dims_str(d) + ", but this network's " + p.name +
                        " is " + p.shape.str());
      }
      check_stored(set.get(), name);
      std::vector<float> values(p.shape.numel());
      check(H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), name);
      if (version >= 2) {
        if (!has_attr(set.get(), "crc32")) throw UserError(path + ": /" + name + " has no crc32 (damaged?)");
        const uint32_t stored = static_cast<uint32_t>(read_int_attr(set.get(), "crc32"));
        const uint32_t computed = crc32_of(values);
        if (stored != computed) {
          throw UserError(path + ": /" + name + " fails its checksum (crc32 " + hex(computed) + ", stored " +
                          hex(stored) + "): the file is damaged");
        }
      }
      return values;
    };
    for (const LogicalParam& p : net.plan().params) {
      sink("params", p, read("params", p));
      if (momentum) sink("momentum", p, read("momentum", p));
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const UserError*>(&e)) throw;
    throw UserError(path + ": damaged checkpoint (" + e.what() + ")");
  }
  return state;
}

}  // namespace

CheckpointTexts read_checkpoint_texts(const std::string& path) {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  H5Id file = open_checkpoint(path);
  if (read_string_attr(file.get(), "format") != kFormat)
    throw UserError(path + ": not an alexnet checkpoint");
  return {read_string_attr(file.get(), "network_toml"), read_string_attr(file.get(), "network_path"),
          read_string_attr(file.get(), "config_toml")};
}

CheckpointTensors collect_checkpoint(const Net& net, const Sgd* sgd) {
  CheckpointTensors t;
  for (const LogicalParam& p : net.plan().params) {
    t.params.push_back(net.read_param(p.name));
    if (sgd) t.momentum.push_back(net.gather(p.name, velocity_views(net, sgd)));
  }
  return t;
}

void save_checkpoint(const std::string& path, const Net& net, const Sgd* sgd, const TrainState& state) {
  save_checkpoint(path, net, collect_checkpoint(net, sgd), state);
}

void save_checkpoint(const std::string& path, const Net& net, const CheckpointTensors& tensors,
                     const TrainState& state, const std::string& config_toml) {
  const bool with_momentum = !tensors.momentum.empty();
  quiet_hdf5();
  const std::string partial = temporary_path(path);
  fs::create_directories(fs::path(path).parent_path());
  try {
    // HDF5 is serialised by one lock that the loader's reads share: it is let go between tensors, so
    // that a checkpoint written on the trainer's writer thread lets the loader in meanwhile.
    std::unique_lock<std::mutex> lock(hdf5_lock());
    H5Id fapl = checksummed_format();
    H5Id file =
        check_id(H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose, partial);
    hid_t root = file.get();
    write_string_attr(root, "format", kFormat);
    write_int_attr(root, "version", kVersion);
    write_string_attr(root, "net", net.plan().net.name);
    write_string_attr(root, "placement", placement_name(net.plan().placement));
    write_int_attr(root, "step", state.step);
    write_int_attr(root, "epoch", state.epoch);
    write_int_attr(root, "position", state.position);
    write_int_attr(root, "seed", static_cast<int64_t>(state.seed));
    write_double_attr(root, "lr", state.lr);
    write_double_attr(root, "best_val_error", state.best_val_error);
    write_int_attr(root, "bad_epochs", state.bad_epochs);
    std::time_t now = std::time(nullptr);
    char created[32];
    std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    write_string_attr(root, "created", created);
    write_string_attr(root, "network_toml", net.plan().net.text);
    write_string_attr(root, "network_path", net.plan().net.path);
    write_string_attr(root, "config_toml", config_toml);
    H5Id params =
        check_id(H5Gcreate2(root, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "params");
    H5Id momentum;
    if (with_momentum)
      momentum =
          check_id(H5Gcreate2(root, "momentum", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "momentum");
    const std::vector<LogicalParam>& all = net.plan().params;
    for (size_t i = 0; i < all.size(); ++i) {
      const LogicalParam& p = all[i];
      if (i == all.size() / 2) crash_point("checkpoint-half");
      write_tensor(params.get(), p.name, tensors.params.at(i), p.shape);
      if (with_momentum) write_tensor(momentum.get(), p.name, tensors.momentum.at(i), p.shape);
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    params.reset();
    momentum.reset();
    close_written_file(file, partial);  // a full disk may surface only as the caches are written out
  } catch (const std::runtime_error& e) {
    discard_file(partial);  // the handles above are closed by now
    if (dynamic_cast<const UserError*>(&e)) throw;
    throw std::runtime_error(path + ": cannot write the checkpoint: " + e.what() +
                             "; earlier checkpoints are kept");
  } catch (...) {
    discard_file(partial);
    throw;
  }
  commit_file(partial, path);
}

TrainState load_checkpoint(const std::string& path, Net& net, Sgd* sgd) {
  return read_tensors(path, net, sgd != nullptr,
                      [&](const char* group, const LogicalParam& p, std::vector<float> values) {
                        if (group == std::string("params")) {
                          net.write_param(p.name, values);
                          return;
                        }
                        std::vector<View> flat;
                        for (int t = 0; t < net.towers(); ++t) flat.push_back(sgd->velocity(t));
                        net.scatter(p.name, values, flat);
                      });
}

TrainState verify_checkpoint(const std::string& path, const Net& net, bool momentum) {
  return read_tensors(path, net, momentum, [](const char*, const LogicalParam&, std::vector<float>) {});
}

TrainState read_checkpoint(const std::string& path, const Net& net, bool momentum,
                           CheckpointTensors* tensors) {
  *tensors = {};
  return read_tensors(
      path, net, momentum, [&](const char* group, const LogicalParam&, std::vector<float> values) {
        (group == std::string("params") ? tensors->params : tensors->momentum).push_back(std::move(values));
      });
}

void apply_checkpoint(const CheckpointTensors& tensors, Net& net, Sgd* sgd) {
  const std::vector<LogicalParam>& all = net.plan().params;
  CHECK_EQ(tensors.params.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    net.write_param(all[i].name, tensors.params[i]);
    if (!sgd) continue;
    CHECK_EQ(tensors.momentum.size(), all.size());
    std::vector<View> flat;
    for (int t = 0; t < net.towers(); ++t) flat.push_back(sgd->velocity(t));  // empty where held elsewhere
    net.scatter(all[i].name, tensors.momentum[i], flat);
  }
}

// --- as bytes: the state's fields, then each tensor as its length and floats -------------------

namespace {
template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T take(const std::string& in, size_t& at) {
  CHECK_LE(at + sizeof(T), in.size()) << "a checkpoint's bytes end early";
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return v;
}
}  // namespace

std::string encode_checkpoint(const TrainState& s, const CheckpointTensors& tensors) {
  std::string out;
  put(out, s.step), put(out, s.epoch), put(out, s.position), put(out, s.seed), put(out, s.lr);
  put(out, s.best_val_error), put(out, s.bad_epochs), put(out, static_cast<int64_t>(s.position_in_batches));
  for (const auto* group : {&tensors.params, &tensors.momentum}) {
    put(out, static_cast<int64_t>(group->size()));
    for (const std::vector<float>& t : *group) {
      put(out, static_cast<int64_t>(t.size()));
      out.append(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(float));
    }
  }
  return out;
}

TrainState decode_checkpoint(const std::string& in, CheckpointTensors* tensors) {
  size_t at = 0;
  TrainState s;
  s.step = take<int64_t>(in, at), s.epoch = take<int64_t>(in, at), s.position = take<int64_t>(in, at);
  s.seed = take<uint64_t>(in, at), s.lr = take<double>(in, at), s.best_val_error = take<double>(in, at);
  s.bad_epochs = take<int64_t>(in, at), s.position_in_batches = take<int64_t>(in, at) != 0;
  *tensors = {};
  for (auto* group : {&tensors->params, &tensors->momentum}) {
    group->resize(take<int64_t>(in, at));
    for (std::vector<float>& t : *group) {
      t.resize(take<int64_t>(in, at));
      CHECK_LE(at + t.size() * sizeof(float), in.size()) << "a checkpoint's bytes end early";
      std::memcpy(t.data(), in.data() + at, t.size() * sizeof(float));
      at += t.size() * sizeof(float);
    }
  }
  return s;
}

}  // namespace alexnet
