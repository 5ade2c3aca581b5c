// The loader: worker threads read, crop, flip and light whole batches ahead of the step that
// needs them, into a ring of host buffers (page-locked when a GPU is present).
//
// The stream walks each epoch's order in global batches of replicas x batch images; replica r
// takes images [r * batch, (r + 1) * batch) of each global batch. Training shuffles each epoch with
// a permutation drawn from Philox keyed by (seed, epoch), and every image's crop, flip and
// lighting are keyed by (seed, epoch, index). Which image sits where in the global stream is thus
// a function of (seed, epoch, image position) alone: the same whatever the number of threads or
// how many replicas share the batch, and a run can resume at any (epoch, image position), even
// under another number of replicas.
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
  int batch = 128;                // images per replica
  int replicas = 1, replica = 0;  // data-parallel replicas sharing each global batch, and which this is
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
  int64_t epoch = 0, position = 0;  // which epoch, and the global batch's first image within it
  int64_t number = 0;               // the global batch's place in its epoch (0-based), for messages
  int items = 0;  // images in this replica's part (the last may be short, even empty, in evaluation)
  int views = 1;  // 10 in ten-view mode: views of one image are consecutive
  Shape shape;    // [items * views, C, crop, crop]
  const float* images = nullptr;
  std::vector<int32_t> labels;   // one per image
  std::vector<int64_t> indices;  // each image's index in the split (of the substitute, for a damaged one)
  int bad_images = 0;            // damaged images replaced in this batch (skip_bad_images)
  std::vector<std::string> bad_image_notes;  // one line each, logged when next() hands the batch over
  // Which worker thread assembled it, and when (host_clock_ms(), core/stream.h): for traces.
  int worker = 0;
  double fill_start_ms = 0, fill_end_ms = 0;
};

class Loader {
 public:
  // Throws UserError when the split is missing, or the crop is larger than the images.
  Loader(std::shared_ptr<const DatasetReader> data, LoaderConfig config);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Global batches in a whole epoch, and images in one.
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t global_batch() const { return global_; }
  int64_t split_size() const { return size_; }
  // Restarts the stream at (epoch, image position); the batches built ahead are dropped. The
  // epoch's batches then start at that image (a position from a run with another global batch
  // need not be a multiple of this one).
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
  void work(int worker);
  void fill(Slot& slot, int64_t ticket);
  int64_t read(const std::vector<int64_t>& order, int64_t at, uint8_t* image, Batch& b) const;
  std::shared_ptr<const std::vector<int64_t>> order(int64_t epoch);

  std::shared_ptr<const DatasetReader> data_;
  LoaderConfig c_;
  // Where ticket k lies: (epoch, first image of its global batch).
  std::pair<int64_t, int64_t> place(int64_t ticket) const;
  int64_t batches_from(int64_t position) const;  // global batches left in an epoch from `position`

  int64_t size_ = 0, global_ = 0, batches_per_epoch_ = 0, total_tickets_ = 0;
  int64_t first_epoch_ = 0, first_position_ = 0;  // where ticket 0 lies, since the last seek
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
