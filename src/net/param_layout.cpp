#include "net/param_layout.h"

#include "core/errors.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace alexnet {

ParamLayout::ParamLayout(const Plan& plan)
    : params_(plan.params), origin_(plan.net.path), flat_size_(plan.towers, 0), offset_(plan.params.size()) {
  // Node by node, then parameter by parameter within a node, as the layers bind them.
  for (size_t node = 0; node < plan.nodes.size(); ++node) {
    for (size_t p = 0; p < params_.size(); ++p) {
      if (params_[p].node != static_cast<int>(node)) continue;
      offset_[p].assign(plan.towers, 0);
      for (int t = 0; t < plan.towers; ++t) {
        offset_[p][t] = flat_size_[t];
        flat_size_[t] += params_[p].count[t];
      }
    }
  }
}

size_t ParamLayout::find(const std::string& name) const {
  for (size_t p = 0; p < params_.size(); ++p)
    if (params_[p].name == name) return p;
  throw UserError("no parameter named '" + name + "' in " + origin_);
}

void ParamLayout::initialise(uint64_t seed, const std::vector<View>& flat) const {
  for (size_t p = 0; p < params_.size(); ++p) {
    const LogicalParam& lp = params_[p];
    const uint64_t subsequence =
        rng_subsequence(RngPurpose::kInit, static_cast<uint32_t>(lp.layer), lp.param_index);
    for (int t = 0; t < towers(); ++t) {
      if (!lp.count[t] || !flat[t].data) continue;  // none, or held by another process
      std::vector<float> values(lp.count[t]);
      // Each element's draw depends on its logical index alone (counter-based): any thread count
      // gives the same bits. Paper-net sized tensors (fc6: 37.7 M) are what makes this worth it.
#pragma omp parallel for schedule(static) if (lp.count[t] > 65536)
      for (int64_t k = 0; k < lp.count[t]; ++k) {
        const uint64_t e = static_cast<uint64_t>(lp.offset[t] + k);
        values[k] = lp.is_bias ? lp.init_value
                               : lp.init_std * philox_normal(philox_draw(seed, subsequence, 2 * e),
                                                             philox_draw(seed, subsequence, 2 * e + 1));
      }
      copy(ConstView{values.data(), {lp.count[t]}, Device::cpu()},
           View{flat[t].data + offset_[p][t], {lp.count[t]}, flat[t].device});
    }
  }
}

std::vector<float> ParamLayout::gather(const std::string& name, const std::vector<ConstView>& flat) const {
  const size_t p = find(name);
  const LogicalParam& lp = params_[p];
  std::vector<float> out(lp.shape.numel());
  for (int t = 0; t < towers(); ++t) {
    if (!lp.count[t] || !flat[t].data) continue;  // none, or held by another process
    copy(ConstView{flat[t].data + offset_[p][t], {lp.count[t]}, flat[t].device},
         View{out.data() + lp.offset[t], {lp.count[t]}, Device::cpu()});
    if (lp.replicated) break;  // whole on the first tower held
  }
  return out;
}

void ParamLayout::scatter(const std::string& name, const std::vector<float>& values,
                          const std::vector<View>& flat) const {
  const size_t p = find(name);
  const LogicalParam& lp = params_[p];
  if (static_cast<int64_t>(values.size()) != lp.shape.numel()) {
    throw UserError(name + ": got " + std::to_string(values.size()) + " values for shape " + lp.shape.str());
  }
  for (int t = 0; t < towers(); ++t) {
    if (!lp.count[t] || !flat[t].data) continue;  // none, or held by another process
    copy(ConstView{values.data() + lp.offset[t], {lp.count[t]}, Device::cpu()},
         View{flat[t].data + offset_[p][t], {lp.count[t]}, flat[t].device});
  }
}

}  // namespace alexnet
