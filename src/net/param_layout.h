// The flat parameter layout: where each logical parameter's slice sits in each tower's one flat
// buffer, and the moves between the towers' slices and whole logical tensors.
//
// A tower's buffer holds, node by node in plan order, the slices of the parameters of the layers
// it runs, each in its layer's param_specs() order (weight, then bias). The optimizer runs one
// loop over each flat buffer; checkpoints and tests see logical tensors (conv2.weight
// [256, 48, 5, 5]) whatever the placement. Buffers laid out the same way (gradients, SGD's
// velocity) use the same layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "net/plan.h"

namespace alexnet {

class ParamLayout {
 public:
  explicit ParamLayout(const Plan& plan);

  int towers() const { return static_cast<int>(flat_size_.size()); }
  // Floats in tower t's flat buffer.
  int64_t flat_size(int tower) const { return flat_size_.at(tower); }
  // Where parameter `param` (an index into plan.params) starts in tower t's flat buffer.
  int64_t flat_offset(size_t param, int tower) const { return offset_.at(param).at(tower); }
  const std::vector<LogicalParam>& params() const { return params_; }
  // Throws UserError naming the network file when there is no such parameter.
  size_t find(const std::string& name) const;

  // The paper's initialisation into flat buffers: weights ~ N(0, init_std^2) drawn from Philox by
  // logical element (seed, layer, element), biases constant; identical under every placement.
  void initialise(uint64_t seed, const std::vector<View>& flat) const;
  // Whole logical tensors from the towers' slices and back. Synchronous copies: the caller makes
  // sure no queued work still writes (or reads) the buffers. Towers whose flat view is empty (held
  // by another process) are skipped: their part of a gathered tensor stays 0. A replicated
  // parameter (hybrid's conv part) is read from the first tower held and written to every one
  // (initialise, too, draws the whole tensor on each: the same values).
  std::vector<float> gather(const std::string& name, const std::vector<ConstView>& flat) const;
  void scatter(const std::string& name, const std::vector<float>& values,
               const std::vector<View>& flat) const;

 private:
  std::vector<LogicalParam> params_;
  std::string origin_;  // the network file, for messages
  std::vector<int64_t> flat_size_;
  std::vector<std::vector<int64_t>> offset_;  // [param][tower]
};

}  // namespace alexnet
