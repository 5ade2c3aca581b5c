#include "core/nvtx.h"

#include <atomic>

#include "core/cuda_backend.h"

namespace alexnet {

namespace {
std::atomic<bool> enabled{false};
NvtxHook hook;  // set and cleared by tests only, while no range is open
}  // namespace

void set_nvtx(bool on) {
  enabled.store(on, std::memory_order_relaxed);
}

bool nvtx_on() {
  return enabled.load(std::memory_order_relaxed);
}

std::string nvtx_name(const std::string& node, const std::string& phase, int tower) {
  return node + (phase.empty() ? "" : " " + phase) + " tower " + std::to_string(tower);
}

NvtxRange::NvtxRange(const std::string& name) {
  if (!nvtx_on()) return;
  open_ = true;
  detail::nvtx_push(name.c_str());
  if (hook) {
    hooked_name_ = name;
    hook(true, name);
  }
}

NvtxRange::~NvtxRange() {
  if (!open_) return;
  detail::nvtx_pop();
  if (hook) hook(false, hooked_name_);
}

void set_nvtx_hook(NvtxHook h) {
  hook = std::move(h);
}

}  // namespace alexnet
