// Philox on the GPU, for the tests that hold our host draws against cuRAND's own.
#pragma once

#include <cstdint>
#include <vector>

namespace alexnet {

// `count` draws from cuRAND itself: curand_init(seed, subsequence, offset + i) then curand(),
// one thread per i, on the current CUDA device.
std::vector<uint32_t> curand_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count);
// The same draws from our philox_draw() compiled for the device.
std::vector<uint32_t> device_philox_draws(uint64_t seed, uint64_t subsequence, uint64_t offset, int count);

}  // namespace alexnet
