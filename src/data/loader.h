// The loader: worker threads read, crop, flip and light whole batches ahead of the step that
// needs them, into a ring of host buffers (page-locked when a GPU is present).
//
// Batch k of the stream is (epoch, position) = (k / batches_per_epoch, k % batches_per_epoch);
// training shuffles each epoch with a permutation drawn from Philox keyed by (seed, epoch), and
// every image's crop, flip and lighting are keyed by (seed, epoch, index). A batch is therefore
// the same whatever the number of threads, and a run can resume at any (epoch, position).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/host_buffer.h"
#include "core/shape.h"
#include "data/format.h"

namespace alexnet {

enum class ViewMode { kTrain, kCentre, kTenView };

struct LoaderConfig {
  std::string split = "train";
  int batch = 128;
  int crop = 227;
  ViewMode mode = ViewMode::kTrain;
  float lighting_std = 0.1f;  // the paper's 0.1; 0 turns lighting off
  float input_scale = 1.0f;   // multiplies the mean-subtracted pixels (the network file's input_scale)
  uint64_t seed = 0;
  int threads = 2;
  int prefetch = 4;       // batches built ahead of the consumer
  int64_t epochs = 0;     // stop after this many epochs (0: never)
  bool drop_last = true;  // training drops the last partial batch; evaluation keeps it
  bool pinned = true;
  // A damaged image (DamagedImage) stops the stream with its message, or with this, is replaced
  // by the next image of the epoch's order that reads, so batches stay full and the same whatever
  // the thread count; each one replaced is counted in its batch and logged as a warning.
  bool skip_bad_images = false;
};

struct Batch {
  int64_t epoch = 0, position = 0;  // which batch of which epoch
  int items = 0;                    // images in this batch (the last may be short)
  int views = 1;                    // 10 in ten-view mode: views of one image are consecutive
  Shape shape;                      // [items * views, C, crop, crop]
  const float* images = nullptr;
  std::vector<int32_t> labels;   // one per image
  std::vector<int64_t> indices;  // each image's index in the split (of the substitute, for a damaged one)
  int bad_images = 0;            // damaged images replaced in this batch (skip_bad_images)
  std::vector<std::string> bad_image_notes;  // one line each, logged when next() hands the batch over
};

class Loader {
 public:
  // Throws UserError when the split is missing, or the crop is larger than the images.
  Loader(std::shared_ptr<const DatasetReader> data, LoaderConfig config);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t split_size() const { return size_; }
  // Restarts the stream at (epoch, position); the batches built ahead are dropped.
  void seek(int64_t epoch, int64_t position);
  // The next batch, valid until the next call; null once `epochs` epochs have been delivered.
  const Batch* next();
  // Seconds the consumer waited for data, in the last next() and in all of them.
  double last_wait_seconds() const { return last_wait_; }
  double total_wait_seconds() const { return total_wait_; }

 private:
  struct Slot;
  void start(int64_t first_ticket);
  void stop();
  void work();
  void fill(Slot& slot, int64_t ticket);
  int64_t read(const std::vector<int64_t>& order, int64_t at, uint8_t* image, Batch& b) const;
  std::shared_ptr<const std::vector<int64_t>> order(int64_t epoch);

  std::shared_ptr<const DatasetReader> data_;
  LoaderConfig c_;
  int64_t size_ = 0, batches_per_epoch_ = 0, total_tickets_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_ticket_ = 0;      // the next ticket a worker takes
  int64_t consumer_ticket_ = 0;  // the ticket next() returns next
  bool stopping_ = false;
  std::string worker_error_;
  std::mutex order_mutex_;
  std::vector<std::pair<int64_t, std::shared_ptr<const std::vector<int64_t>>>>
      orders_;  // the last two epochs'
  double last_wait_ = 0, total_wait_ = 0;
};

}  // namespace alexnet
