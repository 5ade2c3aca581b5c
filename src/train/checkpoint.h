// Checkpoints: HDF5 files of logical tensors, so that any placement loads any other's.
//
//   /                      attrs: format = "alexnet-checkpoint", version = 3, net (its name),
//                                 placement (of the run that wrote it), step, epoch, position,
//                                 seed, lr, best_val_error, bad_epochs, created
//   /params/<name>         float32, logical shape (e.g. /params/conv2.weight [256, 48, 5, 5]);
//                          attr crc32: zlib's CRC-32 of its values as float32 little-endian
//                          bytes in row-major order (version 2)
//   /momentum/<name>       float32, SGD's velocity for the same tensor; attr crc32 as above
//
// Version 3 counts `position` in images (so that a run resumes under another number of
// replicas); versions 1 and 2 counted batches (TrainState::position_in_batches). Version 1 files
// (no crc32) still load. The file is written in HDF5 1.8's format, whose object
// headers carry checksums of their own, so a damaged attribute or link fails too.
//
// The random state is (seed, step, epoch, position): every draw is addressed by those counters,
// so they are all a resumed run needs. Files are written atomically (core/atomic_file.h); where
// they live and how many are kept is the run directory's business (train/run_dir.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace alexnet {

class Net;
class Sgd;

struct TrainState {
  int64_t step = 0;      // optimizer steps taken
  int64_t epoch = 0;     // epoch of the next batch
  int64_t position = 0;  // images of the epoch already trained on: the next global batch starts here
  bool position_in_batches = false;  // read from a version 1 or 2 file: position counts batches
  uint64_t seed = 0;
  double lr = 0;
  double best_val_error = 2.0;  // above any error: nothing measured yet
  int64_t bad_epochs = 0;       // epochs since best_val_error last improved
};

// A checkpoint's logical tensors on the host, in the plan's parameter order (momentum empty when
// there is no optimizer).
struct CheckpointTensors {
  std::vector<std::vector<float>> params, momentum;
};

// The net's logical tensors: collective over the towers' processes (Net::read_param).
CheckpointTensors collect_checkpoint(const Net& net, const Sgd* sgd);
// Writes them (from this process alone) with the state; `net` gives the plan. The file also keeps
// the network file's text and path (from the plan) and `config_toml`, the run's configuration, so
// that a checkpoint copied anywhere still says what it is (read_checkpoint_texts).
void save_checkpoint(const std::string& path, const Net& net, const CheckpointTensors& tensors,
                     const TrainState& state, const std::string& config_toml = "");
// collect_checkpoint, then save_checkpoint: one process holding every tower.
void save_checkpoint(const std::string& path, const Net& net, const Sgd* sgd, const TrainState& state);

// Loads the parameters (and, when `sgd` is given, the momentum) into `net`, whatever placement
// either used. Throws UserError naming the file and what is wrong: not there, truncated or not
// HDF5, a tensor missing or misshapen, a checksum that does not match. After a throw, `net` and
// `sgd` may hold part of the file: load another checkpoint over them, or give up.
TrainState load_checkpoint(const std::string& path, Net& net, Sgd* sgd);

// The tensors `net` needs (and the momentum when `momentum`), read and checked as load_checkpoint
// does, without touching the net.
TrainState read_checkpoint(const std::string& path, const Net& net, bool momentum,
                           CheckpointTensors* tensors);
// Writes them into the towers this process holds (every process passes the whole set).
void apply_checkpoint(const CheckpointTensors& tensors, Net& net, Sgd* sgd);
// As bytes and back, to send from the process that read the file to the others.
std::string encode_checkpoint(const TrainState& state, const CheckpointTensors& tensors);
TrainState decode_checkpoint(const std::string& bytes, CheckpointTensors* tensors);

// What a checkpoint says of itself (version 4 on; empty in older ones): the network file's text
// and where it was, and the run's config.toml. UserError for a file that is no checkpoint.
struct CheckpointTexts {
  std::string network, network_path, config;
};
CheckpointTexts read_checkpoint_texts(const std::string& path);

// Reads every tensor that `net` needs (the momentum too when `momentum`) back from the file and
// checks it as load_checkpoint would, without touching the net. UserError as above.
TrainState verify_checkpoint(const std::string& path, const Net& net, bool momentum);

}  // namespace alexnet
