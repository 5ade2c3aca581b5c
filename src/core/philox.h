// Philox 4x32-10, the counter-based generator of Salmon et al. (SC'11), as cuRAND implements it.
//
// Every random number in the trainer is addressed, not drawn in sequence: a draw is the pure
// function philox_draw(seed, subsequence, offset), bit-identical to what cuRAND's curand()
// returns right after curand_init(seed, subsequence, offset, &state) with a
// curandStatePhilox4_32_10_t. So the CPU and every GPU agree on every draw, and no draw depends
// on which device or how many towers asked for it. The same functions compile for host and
// device.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace alexnet {

struct PhiloxBlock {
  uint32_t v[4];
};

// One round: two 32x32->64 multiplies, then a mix of the halves with the key.
ALEXNET_HD inline PhiloxBlock philox_round(PhiloxBlock c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  uint64_t p0 = static_cast<uint64_t>(kM0) * c.v[0];
  uint64_t p1 = static_cast<uint64_t>(kM1) * c.v[2];
  uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
  uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
  return {{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
}

// The block function: ten rounds, the key bumped by the Weyl constants between rounds.
ALEXNET_HD inline PhiloxBlock philox4x32_10(PhiloxBlock counter, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 9; ++round) {
    counter = philox_round(counter, k0, k1);
    k0 += kW0;
    k1 += kW1;
  }
  return philox_round(counter, k0, k1);
}

// curand_init(seed, subsequence, offset) sets key = seed, counter = (offset / 4 in words 0-1,
// subsequence in words 2-3), and curand() then returns word offset % 4 of the block.
// The block holding offsets 4 block .. 4 block + 3, for callers that draw consecutive offsets.
ALEXNET_HD inline PhiloxBlock philox_block(uint64_t seed, uint64_t subsequence, uint64_t block) {
  PhiloxBlock counter = {{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                          static_cast<uint32_t>(subsequence), static_cast<uint32_t>(subsequence >> 32)}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}
ALEXNET_HD inline uint32_t philox_draw(uint64_t seed, uint64_t subsequence, uint64_t offset) {
  return philox_block(seed, subsequence, offset >> 2).v[offset & 3];
}

// cuRAND's curand_uniform: a float in (0, 1]. The multiply by 2^-32 is exact, so host and device
// round identically.
ALEXNET_HD inline float philox_uniform(uint32_t bits) {
  constexpr float k2Pow32Inv = 2.3283064e-10f;  // 2^-32
  return static_cast<float>(bits) * k2Pow32Inv + k2Pow32Inv / 2.0f;
}

// Box-Muller on two draws, with cuRAND's constants: a standard normal. Host and device libm may
// differ in the last ulp here, which only initial weights see.
ALEXNET_HD inline float philox_normal(uint32_t bits_u, uint32_t bits_v) {
  constexpr float k2Pow32Inv = 2.3283064e-10f;
  constexpr float k2Pow32Inv2Pi = 2.3283064e-10f * 6.2831855f;
  float u = static_cast<float>(bits_u) * k2Pow32Inv + k2Pow32Inv / 2.0f;
  float v = static_cast<float>(bits_v) * k2Pow32Inv2Pi + k2Pow32Inv2Pi / 2.0f;
  float radius = sqrtf(-2.0f * logf(u));
  return radius * sinf(v);
}

// Subsequences by purpose, so that no two uses of one seed share draws. The top bits say what the
// draws are for; the rest say which layer (id < 2^24), which step or which tensor.
enum class RngPurpose : uint64_t { kDropout = 1, kInit = 2, kAugment = 3, kShuffle = 4, kColourise = 5 };

ALEXNET_HD inline uint64_t rng_subsequence(RngPurpose purpose, uint32_t id, uint32_t sub_id) {
  return (static_cast<uint64_t>(purpose) << 56) ^ (static_cast<uint64_t>(id) << 32) ^ sub_id;
}

}  // namespace alexnet
