// Placed nets, batches and tolerance checks shared by the net, training and GPU tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "net/net.h"
#include "testing.h"

namespace alexnet::testing {

constexpr uint64_t kNetSeed = 2012;

inline NetworkSpec preset_network(const std::string& name) {
  return load_network_file(testing::experiment_file(name));
}

// A net and the communicator that joins its towers.
struct PlacedNet {
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Net> net;
};

struct PlaceOptions {
  Placement placement = Placement::kSplit;
  int towers = 2;  // K
  std::optional<std::vector<std::string>> exchange;
  int batch = 4;
  std::vector<Device> devices;  // empty: all on the CPU
  std::string comm = "auto";
  std::string preset = "alexnet-mini";  // when no network is given
  uint64_t seed = kNetSeed;             // of the initial weights
  BackendOptions backend;               // math and cuDNN algorithms (GPU tests: deterministic)
};

// A network placed as asked, its parameters initialised from options.seed.
inline PlacedNet place(const NetworkSpec& network, const PlaceOptions& options) {
  Plan plan = make_plan(
      network, {.placement = options.placement, .towers = options.towers, .exchange = options.exchange});
  std::vector<Device> devices = options.devices;
  if (devices.empty()) devices.assign(plan.towers, Device::cpu());
  PlacedNet p;
  if (plan.towers > 1) p.comm = make_communicator(options.comm, devices, false);
  p.net = std::make_unique<Net>(std::move(plan), devices, p.comm.get(), options.batch, options.backend);
  p.net->init_parameters(options.seed);
  return p;
}

// The preset named in the options, placed as asked.
inline PlacedNet place(const PlaceOptions& options) {
  return place(preset_network(options.preset), options);
}

// Random images in [0, 1) for alexnet-mini's 1x28x28 input, and labels that vary with the seed.
struct TestBatch {
  Tensor images;
  std::vector<int32_t> labels;
};
inline TestBatch mini_batch(int batch, uint64_t seed) {
  TestBatch b{random_tensor({batch, 1, 28, 28}, seed, 0.0f, 1.0f), {}};
  for (int i = 0; i < batch; ++i) b.labels.push_back(static_cast<int32_t>((seed * 7 + i * 3) % 10));
  return b;
}

// rtol against each element, with an absolute floor scaled to the tensor's largest magnitude so
// that elements that cancel to ~0 do not demand a relative match.
inline ::testing::AssertionResult agree(const std::vector<float>& a, const std::vector<float>& b,
                                        float rtol) {
  float scale = 0;
  for (float v : b) scale = std::max(scale, std::abs(v));
  return all_close(a, b, rtol * 1e-2f * scale, rtol);
}

}  // namespace alexnet::testing
