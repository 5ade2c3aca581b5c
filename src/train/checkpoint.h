// Checkpoints: HDF5 files of logical tensors, so that any placement loads any other's.
//
//   /                      attrs: format = "alexnet-checkpoint", version = 2, net (its name),
//                                 placement (of the run that wrote it), step, epoch, position,
//                                 seed, lr, best_val_error, bad_epochs, created
//   /params/<name>         float32, logical shape (e.g. /params/conv2.weight [256, 48, 5, 5]);
//                          attr crc32: zlib's CRC-32 of its values as float32 little-endian
//                          bytes in row-major order (version 2)
//   /momentum/<name>       float32, SGD's velocity for the same tensor; attr crc32 as above
//
// Version 1 files (no crc32) still load. The file is written in HDF5 1.8's format, whose object
// headers carry checksums of their own, so a damaged attribute or link fails too.
//
// The random state is (seed, step, epoch, position): every draw is addressed by those counters,
// so they are all a resumed run needs. Files are written atomically (core/atomic_file.h); where
// they live and how many are kept is the run directory's business (train/run_dir.h).
#pragma once

#include <cstdint>
#include <string>

namespace alexnet {

class Net;
class Sgd;

struct TrainState {
  int64_t step = 0;      // optimizer steps taken
  int64_t epoch = 0;     // epoch of the next batch
  int64_t position = 0;  // the next batch's place within its epoch
  uint64_t seed = 0;
  double lr = 0;
  double best_val_error = 2.0;  // above any error: nothing measured yet
  int64_t bad_epochs = 0;       // epochs since best_val_error last improved
};

void save_checkpoint(const std::string& path, const Net& net, const Sgd* sgd, const TrainState& state);

// Loads the parameters (and, when `sgd` is given, the momentum) into `net`, whatever placement
// either used. Throws UserError naming the file and what is wrong: not there, truncated or not
// HDF5, a tensor missing or misshapen, a checksum that does not match. After a throw, `net` and
// `sgd` may hold part of the file: load another checkpoint over them, or give up.
TrainState load_checkpoint(const std::string& path, Net& net, Sgd* sgd);

// Reads every tensor that `net` needs (the momentum too when `momentum`) back from the file and
// checks it as load_checkpoint would, without touching the net. UserError as above.
TrainState verify_checkpoint(const std::string& path, const Net& net, bool momentum);

}  // namespace alexnet
