#include "data/loader.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/errors.h"
#include "core/philox.h"
#include "core/stream.h"
#include "data/augment.h"
#include "data/shuffle.h"

namespace alexnet {

struct Loader::Slot {
  int64_t ticket = -1;
  bool ready = false;
  HostBuffer buffer;
  Batch batch;
};

Loader::Loader(std::shared_ptr<const DatasetReader> data, LoaderConfig config)
    : data_(std::move(data)), c_(config) {
  const DatasetInfo& info = data_->info();
  if (!data_->has_split(c_.split)) throw UserError(data_->path() + ": has no split '" + c_.split + "'");
  if (c_.crop <= 0 || c_.crop > info.height || c_.crop > info.width) {
    throw UserError("crop " + std::to_string(c_.crop) + " does not fit the " + std::to_string(info.height) +
                    "x" + std::to_string(info.width) + " images of " + data_->path());
  }
  if (c_.batch <= 0) throw UserError("--batch must be positive, got " + std::to_string(c_.batch));
  CHECK(c_.replicas >= 1 && c_.replica >= 0 && c_.replica < c_.replicas);
  size_ = data_->size(c_.split);
  global_ = int64_t(c_.batch) * c_.replicas;
  batches_per_epoch_ = batches_from(0);
  if (batches_per_epoch_ == 0) {
    throw UserError("split '" + c_.split + "' of " + data_->path() + " has " + std::to_string(size_) +
                    " images, fewer than one batch of " + std::to_string(global_) +
                    (c_.replicas > 1 ? " (" + std::to_string(c_.replicas) + " replicas of --batch " +
                                           std::to_string(c_.batch) + ")"
                                     : ""));
  }
  const int views = c_.mode == ViewMode::kTenView ? 10 : 1;
  const int prefetch = std::max(2, c_.prefetch);
  for (int i = 0; i < prefetch; ++i) {
    auto slot = std::make_unique<Slot>();
    size_t floats = size_t(c_.batch) * views * info.channels * c_.crop * c_.crop;
    slot->buffer = HostBuffer(floats * sizeof(float), c_.pinned);
    slots_.push_back(std::move(slot));
  }
  start(0);
}

Loader::~Loader() {
  stop();
}

int64_t Loader::batches_from(int64_t position) const {
  const int64_t left = std::max<int64_t>(size_ - position, 0);
  return c_.drop_last ? left / global_ : (left + global_ - 1) / global_;
}

std::pair<int64_t, int64_t> Loader::place(int64_t ticket) const {
  const int64_t first = batches_from(first_position_);
  if (ticket < first) return {first_epoch_, first_position_ + ticket * global_};
  ticket -= first;
  return {first_epoch_ + 1 + ticket / batches_per_epoch_, ticket % batches_per_epoch_ * global_};
}

void Loader::start(int64_t first_ticket) {
  total_tickets_ = c_.epochs > 0 ? batches_from(first_position_) +
                                       std::max<int64_t>(c_.epochs - first_epoch_ - 1, 0) * batches_per_epoch_
                                 : -1;
  next_ticket_ = consumer_ticket_ = first_ticket;
  stopping_ = false;
  worker_error_.clear();
  for (auto& s : slots_) s->ready = false, s->ticket = -1;
  for (int i = 0; i < std::max(1, c_.threads); ++i) workers_.emplace_back([this, i] { work(i); });
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Loader::seek(int64_t epoch, int64_t position) {
  stop();
  first_epoch_ = epoch;
  first_position_ = position;
  start(0);
}

void Loader::work(int worker) {
  const int64_t prefetch = static_cast<int64_t>(slots_.size());
  for (;;) {
    int64_t ticket;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // The slot of ticket k is free once the consumer has moved past ticket k - prefetch.
      changed_.wait(lock, [&] {
        return stopping_ || (next_ticket_ < consumer_ticket_ - 1 + prefetch &&
                             (total_tickets_ < 0 || next_ticket_ < total_tickets_));
      });
      if (stopping_) return;
      ticket = next_ticket_++;
    }
    Slot& slot = *slots_[ticket % prefetch];
    try {
      const double started = host_clock_ms();
      fill(slot, ticket);
      slot.batch.worker = worker;
      slot.batch.fill_start_ms = started;
      slot.batch.fill_end_ms = host_clock_ms();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      worker_error_ = e.what();
      changed_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      slot.ticket = ticket;
      slot.ready = true;
    }
    changed_.notify_all();
  }
}

const Batch* Loader::next() {
  const int64_t prefetch = static_cast<int64_t>(slots_.size());
  auto started = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (total_tickets_ >= 0 && consumer_ticket_ >= total_tickets_) return nullptr;
  Slot& slot = *slots_[consumer_ticket_ % prefetch];
  changed_.wait(lock,
                [&] { return !worker_error_.empty() || (slot.ready && slot.ticket == consumer_ticket_); });
  if (!worker_error_.empty()) throw UserError(worker_error_);
  // Logged here, once per batch delivered, rather than by the worker: a worker may build a batch
  // that a seek() then drops.
  for (const std::string& note : slot.batch.bad_image_notes) LOG(WARNING) << note;
  last_wait_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  total_wait_ += last_wait_;
  ++consumer_ticket_;
  lock.unlock();
  changed_.notify_all();
  return &slot.batch;
}

std::shared_ptr<const std::vector<int64_t>> Loader::order(int64_t epoch) {
  std::lock_guard<std::mutex> lock(order_mutex_);
  for (auto& [e, o] : orders_)
    if (e == epoch) return o;
  auto o = std::make_shared<std::vector<int64_t>>(size_);
  std::iota(o->begin(), o->end(), 0);
  if (c_.mode == ViewMode::kTrain) {
    // Each epoch's order is keyed by (seed, epoch).
    philox_shuffle(*o, c_.seed,
                   rng_subsequence(RngPurpose::kShuffle, static_cast<uint32_t>(epoch & 0xFFFFFF), 0));
  }
  orders_.emplace_back(epoch, o);
  if (orders_.size() > 2) orders_.erase(orders_.begin());
  return o;
}

// Reads the image at `at` in the epoch's order into `image` and returns its index. A damaged one
// stops the stream, or (skip_bad_images) gives way to the next image in the order that reads,
// wrapping around: a choice that depends on the order alone, so on nothing a thread does.
int64_t Loader::read(const std::vector<int64_t>& order, int64_t at, uint8_t* image, Batch& b) const {
  const int64_t wanted = order[at];
  std::string damage;
  for (int64_t k = 0; k < size_; ++k) {
    const int64_t index = order[(at + k) % size_];
    try {
      data_->read_image(c_.split, index, image);
    } catch (const DamagedImage& e) {
      if (!c_.skip_bad_images) {
        throw UserError(std::string(e.what()) + (c_.mode == ViewMode::kTrain
                                                     ? "; repack the dataset, or pass alexnet train "
                                                       "--skip-bad-images to train past damaged images"
                                                     : ""));
      }
      if (k == 0) damage = e.what();
      continue;
    }
    if (k > 0) {
      ++b.bad_images;
      b.bad_image_notes.push_back(damage + "; skipped (--skip-bad-images): image " + std::to_string(index) +
                                  " takes its place in batch " + std::to_string(b.number + 1) + " of epoch " +
                                  std::to_string(b.epoch + 1));
    }
    return index;
  }
  throw UserError(data_->path() + ": no image of split '" + c_.split + "' can be read (image " +
                  std::to_string(wanted) + ": " + damage + ")");
}

void Loader::fill(Slot& slot, int64_t ticket) {
  const DatasetInfo& info = data_->info();
  const auto [epoch, position] = place(ticket);
  std::shared_ptr<const std::vector<int64_t>> indices = order(epoch);
  const int64_t begin = position + int64_t(c_.replica) * c_.batch;  // this replica's part
  const int items = static_cast<int>(std::clamp<int64_t>(size_ - begin, 0, c_.batch));
  const int views = c_.mode == ViewMode::kTenView ? 10 : 1;
  const int64_t view_floats = int64_t(info.channels) * c_.crop * c_.crop;
  const std::vector<int32_t>& labels = data_->labels(c_.split);

  Batch& b = slot.batch;
  b.epoch = epoch;
  b.position = position;
  b.number = position / global_;
  b.items = items;
  b.views = views;
  b.shape = {int64_t(items) * views, info.channels, c_.crop, c_.crop};
  b.images = static_cast<const float*>(slot.buffer.data());
  b.labels.resize(items);
  b.indices.resize(items);
  b.bad_images = 0;
  b.bad_image_notes.clear();
  float* out = static_cast<float*>(slot.buffer.data());
  std::vector<uint8_t> image(size_t(info.height) * info.width * info.channels);
  for (int i = 0; i < items; ++i) {
    const int64_t index = read(*indices, begin + i, image.data(), b);
    b.indices[i] = index;
    b.labels[i] = labels[index];
    float* dst = out + int64_t(i) * views * view_floats;
    if (c_.mode == ViewMode::kTrain) {
      CropDraw d = draw_augmentation(c_.seed, epoch, index, info.height, info.width, c_.crop, info.channels,
                                     c_.lighting_std);
      float offset[3] = {0, 0, 0};
      if (c_.lighting_std > 0) lighting_offset(info, d.alpha, offset);
      crop_image(image.data(), info.mean.data(), info.height, info.width, info.channels, d, c_.crop, offset,
                 dst, c_.input_scale);
    } else if (c_.mode == ViewMode::kCentre) {
      crop_image(image.data(), info.mean.data(), info.height, info.width, info.channels,
                 centre_view(info.height, info.width, c_.crop), c_.crop, nullptr, dst, c_.input_scale);
    } else {
      for (int v = 0; v < 10; ++v) {
        crop_image(image.data(), info.mean.data(), info.height, info.width, info.channels,
                   ten_view(v, info.height, info.width, c_.crop), c_.crop, nullptr, dst + v * view_floats,
                   c_.input_scale);
      }
    }
  }
}

}  // namespace alexnet
