// Evaluation: top-1 and top-5 error over a whole split, on the centre crop or the ten-view test
// (the softmax averaged over the four corner crops, the centre crop and their mirror images).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/format.h"

namespace alexnet {

class Communicator;
class Net;

// How data-parallel replicas share an evaluation: replica r takes its part of each global batch
// (data/loader.h), and the counts, predictions and logits are summed and gathered over `world`.
struct EvalShare {
  int replicas = 1, replica = 0;
  Communicator* world = nullptr;  // null: one process
};

struct EvalResult {
  int64_t images = 0;
  double loss = 0;  // mean cross-entropy of the (view-averaged) probabilities
  double top1_error = 0, top5_error = 0;
};

struct Prediction {
  int64_t index = 0;  // the image's index in the split
  int32_t label = 0;
  int32_t top[5] = {0, 0, 0, 0, 0};
  float probability[5] = {0, 0, 0, 0, 0};
};

// Runs `net` in test mode over `split`. views: 1 (centre crop) or 10. Fills `predictions` (in
// split order) when given, and `logits` ([images, classes] row by row in split order, the input of
// the softmax; centre crop only) when given. Under many processes every process gets the whole
// result, predictions and logits included.
EvalResult evaluate(Net& net, std::shared_ptr<const DatasetReader> data, const std::string& split, int views,
                    int crop, int loader_threads, std::vector<Prediction>* predictions = nullptr,
                    std::vector<float>* logits = nullptr, const EvalShare& share = {});

// Writes predictions as CSV: index, label, then top-5 class indices, names and probabilities.
void write_predictions(const std::string& path, const std::vector<Prediction>& predictions,
                       const std::vector<std::string>& classes);

// Indices of the k largest of `p` (k clipped to its size), largest first.
std::vector<int32_t> top_k(const float* p, int classes, int k);

}  // namespace alexnet
