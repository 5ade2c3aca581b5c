#include "train/evaluate.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "comm/communicator.h"
#include "core/atomic_file.h"
#include "core/bytes.h"
#include "core/errors.h"
#include "core/host_buffer.h"
#include "data/loader.h"
#include "net/net.h"

namespace alexnet {

std::vector<int32_t> top_k(const float* p, int classes, int k) {
  std::vector<int32_t> idx(classes);
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, classes);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  idx.resize(k);
  return idx;
}

namespace {

// Every process's predictions, in split order.
void gather_predictions(Communicator& world, std::vector<Prediction>& predictions) {
  std::vector<Prediction> all;
  for (const std::string& part : world.all_gather_host(as_bytes(predictions))) {
    std::vector<Prediction> theirs = from_bytes<Prediction>(part);
    all.insert(all.end(), theirs.begin(), theirs.end());
  }
  std::sort(all.begin(), all.end(),
            [](const Prediction& a, const Prediction& b) { return a.index < b.index; });
  predictions = std::move(all);
}

// One worker's images in a batch under hybrid: how many, their labels and their indices.
struct WorkerItems {
  int items = 0;
  std::vector<int32_t> labels;
  std::vector<int64_t> indices;
};

// Every worker's part of this batch, in worker (rank) order: each sends its count, labels and
// indices.
std::vector<WorkerItems> gather_worker_items(Communicator& world, const Batch& b) {
  std::vector<int64_t> mine = {b.items};
  for (int i = 0; i < b.items; ++i) mine.push_back(b.labels[i]);
  for (int i = 0; i < b.items; ++i) mine.push_back(b.indices[i]);
  std::vector<WorkerItems> all;
  for (const std::string& part : world.all_gather_host(as_bytes(mine))) {
    const std::vector<int64_t> v = from_bytes<int64_t>(part);
    WorkerItems w;
    w.items = static_cast<int>(v.at(0));
    CHECK_EQ(v.size(), size_t(1 + 2 * w.items)) << "a worker's items";
    for (int i = 0; i < w.items; ++i) w.labels.push_back(static_cast<int32_t>(v[1 + i]));
    for (int i = 0; i < w.items; ++i) w.indices.push_back(v[1 + w.items + i]);
    all.push_back(std::move(w));
  }
  return all;
}

// Each image's row came from one process; the others hold zeros there, so the sum is the whole.
void gather_logits(Communicator& world, std::vector<float>& logits) {
  std::vector<float> sum(logits.size(), 0.0f);
  for (const std::string& part : world.all_gather_host(as_bytes(logits))) {
    std::vector<float> theirs = from_bytes<float>(part);
    if (theirs.empty()) continue;
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += theirs[i];
  }
  logits = std::move(sum);
}

}  // namespace

EvalResult evaluate(Net& net, std::shared_ptr<const DatasetReader> data, const std::string& split, int views,
                    int crop, int loader_threads, std::vector<Prediction>* predictions,
                    std::vector<float>* logits, const EvalShare& share) {
  if (views != 1 && views != 10) throw UserError("--views must be 1 or 10, got " + std::to_string(views));
  const int batch = net.batch();
  if (batch < views) throw UserError("ten-view evaluation needs --batch of at least 10");
  LoaderConfig c;
  c.split = split;
  c.batch = batch / views;
  c.crop = crop;
  c.mode = views == 10 ? ViewMode::kTenView : ViewMode::kCentre;
  c.threads = loader_threads;
  c.epochs = 1;
  c.drop_last = false;
  c.input_scale = net.plan().net.input_scale;
  c.replicas = share.replicas;
  c.replica = share.replica;
  Loader loader(data, c);
  const int classes = static_cast<int>(data->info().classes.size());
  const std::string loss_node = net.plan().nodes.back().name;
  Shape input = {batch, data->info().channels, crop, crop};
  // Page-locked where a GPU is present, so that the copy to a device is asynchronous.
  HostBuffer staging_buffer(sizeof(float) * input.numel());
  float* staging = static_cast<float*>(staging_buffer.data());
  std::vector<int32_t> labels(batch, 0);
  const StepContext ctx{.training = false};
  EvalResult r;
  double loss = 0;
  int64_t top1 = 0, top5 = 0;
  if (predictions) predictions->clear();
  if (logits) {
    CHECK_EQ(views, 1) << "logits are the centre crop's";
    logits->assign(data->size(split) * classes, 0.0f);
  }
  const std::string logits_node = net.plan().nodes[net.plan().nodes.size() - 2].name;
  while (const Batch* b = loader.next()) {
    // A short last batch is padded with zeros; the padded rows are ignored.
    const int64_t floats = b->shape.numel();
    std::copy(b->images, b->images + floats, staging);
    std::fill(staging + floats, staging + input.numel(), 0.0f);
    for (int v = 0; v < b->items * views; ++v) labels[v] = b->labels[v / views];
    net.forward(ConstView{staging, input, Device::cpu()}, labels.data(), ctx);
    // Every tower's process asks for the logits (collective where they are split); the loss's
    // tower holds the probabilities, and its process counts this replica's images.
    const std::vector<float> z = logits ? net.activation(logits_node) : std::vector<float>();
    // Under hybrid the loss's rows are every worker's batch in worker order; the workers say which
    // images theirs are (one small gather), and the loss's process counts them all.
    std::vector<WorkerItems> workers;
    if (net.plan().hybrid() && !net.whole()) {
      workers = gather_worker_items(*share.world, *b);
    } else {
      workers.push_back({b->items, b->labels, b->indices});
    }
    if (!net.holds_loss()) continue;
    std::vector<float> probs = net.activation(loss_node);
    std::vector<float> mean(classes);
    for (size_t w = 0; w < workers.size(); ++w) {
      const WorkerItems& part = workers[w];
      const int64_t row0 = int64_t(w) * batch;  // this worker's first row of the loss's batch
      if (logits && !z.empty()) {
        for (int i = 0; i < part.items; ++i)
          std::copy(z.begin() + (row0 + i) * classes, z.begin() + (row0 + i + 1) * classes,
                    logits->begin() + part.indices[i] * classes);
      }
      for (int i = 0; i < part.items; ++i) {
        std::fill(mean.begin(), mean.end(), 0.0f);
        for (int v = 0; v < views; ++v)
          for (int k = 0; k < classes; ++k)
            mean[k] += probs[(row0 + int64_t(i) * views + v) * classes + k] / views;
        const int32_t label = part.labels[i];
        std::vector<int32_t> best = top_k(mean.data(), classes, 5);
        top1 += best[0] == label;
        top5 += std::find(best.begin(), best.end(), label) != best.end();
        loss += -std::log(std::max(mean[label], 1e-30f));
        if (predictions) {
          Prediction p;
          p.index = part.indices[i];
          p.label = label;
          for (size_t j = 0; j < best.size(); ++j) {
            p.top[j] = best[j];
            p.probability[j] = mean[best[j]];
          }
          predictions->push_back(p);
        }
      }
      r.images += part.items;
    }
  }
  if (share.world) {
    std::vector<double> sums = {double(r.images), loss, double(top1), double(top5)};
    share.world->all_reduce_host(sums);
    r.images = static_cast<int64_t>(sums[0]), loss = sums[1];
    top1 = static_cast<int64_t>(sums[2]), top5 = static_cast<int64_t>(sums[3]);
    if (predictions) gather_predictions(*share.world, *predictions);
    if (logits) gather_logits(*share.world, *logits);
  }
  r.loss = r.images ? loss / r.images : 0;
  r.top1_error = r.images ? 1.0 - double(top1) / r.images : 0;
  r.top5_error = r.images ? 1.0 - double(top5) / r.images : 0;
  return r;
}

void write_predictions(const std::string& path, const std::vector<Prediction>& predictions,
                       const std::vector<std::string>& classes) {
  std::ostringstream out;
  out << "index,label";
  for (int j = 1; j <= 5; ++j) out << ",top" << j << ",name" << j << ",probability" << j;
  out << "\n";
  for (const Prediction& p : predictions) {
    out << p.index << "," << p.label;
    for (int j = 0; j < 5 && j < static_cast<int>(classes.size()); ++j) {
      std::string name = classes[p.top[j]];
      std::replace(name.begin(), name.end(), ',', ';');
      out << "," << p.top[j] << "," << name << "," << p.probability[j];
    }
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

}  // namespace alexnet
