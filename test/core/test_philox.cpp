// Philox 4x32-10 against the known-answer vectors published with Random123 (Salmon et al.,
// kat_vectors), and the curand_init(seed, subsequence, offset) addressing against cuRAND itself
// where a GPU is present.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cuda_backend.h"
#include "core/philox.h"
#include "testing.h"

namespace alexnet {
namespace {

struct Kat {
  PhiloxBlock counter;
  uint32_t key[2];
  PhiloxBlock expected;
};

TEST(Philox, MatchesRandom123KnownAnswers) {
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, {0, 0}, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       {0xffffffff, 0xffffffff},
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       {0xa4093822, 0x299f31d0},
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    PhiloxBlock out = philox4x32_10(k.counter, k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], k.expected.v[i]) << "word " << i;
  }
}

// curand_init(seed, subsequence, offset): key = seed (low word first), counter words 0-1 =
// offset / 4, words 2-3 = subsequence, and curand() returns word offset % 4.
TEST(Philox, DrawAddressingFollowsCurandInit) {
  EXPECT_EQ(philox_draw(0, 0, 0), 0x6627e8d5u);
  EXPECT_EQ(philox_draw(0, 0, 3), 0x9b00dbd8u);
  // The layout, word by word: seed low word first in the key, offset / 4 in counter words 0-1,
  // subsequence in words 2-3. (The pi vector's counter cannot be reached this way: it would need
  // an offset of 2^66 and more.)
  uint64_t seed = 0x299f31d0a4093822ull, subsequence = 0x0370734413198a2eull;
  uint64_t block = 0x05a308d3243f6a88ull;
  PhiloxBlock expected =
      philox4x32_10({{0x243f6a88, 0x05a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822, 0x299f31d0);
  for (int word = 0; word < 4; ++word)
    EXPECT_EQ(philox_draw(seed, subsequence, block * 4 + word), expected.v[word]);
  // Successive offsets walk through a block and then to the next counter, as curand() does.
  EXPECT_EQ(philox_draw(1, 2, 4), philox4x32_10({{1, 0, 2, 0}}, 1, 0).v[0]);
  EXPECT_EQ(philox_draw(1, 2, (1ull << 34) + 5), philox4x32_10({{1, 1, 2, 0}}, 1, 0).v[1]);
}

TEST(Philox, UniformIsInTheHalfOpenUnitIntervalLikeCurand) {
  EXPECT_GT(philox_uniform(0), 0.0f);
  EXPECT_EQ(philox_uniform(0), std::ldexp(1.0f, -33));
  EXPECT_EQ(philox_uniform(0xffffffffu), 1.0f);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) sum += philox_uniform(philox_draw(42, 1, i));
  EXPECT_NEAR(sum / n, 0.5, 0.005);
}

TEST(Philox, NormalHasUnitVariance) {
  double sum = 0, sum_sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    float z = philox_normal(philox_draw(5, 9, 2 * i), philox_draw(5, 9, 2 * i + 1));
    sum += z;
    sum_sq += static_cast<double>(z) * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

TEST(Philox, SubsequencesByPurposeDoNotCollide) {
  EXPECT_NE(rng_subsequence(RngPurpose::kDropout, 6, 0), rng_subsequence(RngPurpose::kInit, 6, 0));
  EXPECT_NE(rng_subsequence(RngPurpose::kDropout, 6, 1), rng_subsequence(RngPurpose::kDropout, 7, 1));
  EXPECT_NE(rng_subsequence(RngPurpose::kDropout, 6, 1), rng_subsequence(RngPurpose::kDropout, 6, 2));
}

TEST(GpuPhilox, HostDrawsAreBitIdenticalToCurand) {
  SKIP_WITHOUT_GPU();
  struct Key {
    uint64_t seed, subsequence, offset;
  };
  for (Key k : {Key{0, 0, 0}, Key{42, 7, 3}, Key{0x123456789abcdefull, 1ull << 40, (1ull << 34) - 5}}) {
    const int n = 4099;
    std::vector<uint32_t> theirs = detail::curand_philox_draws(k.seed, k.subsequence, k.offset, n);
    std::vector<uint32_t> device_ours = detail::device_philox_draws(k.seed, k.subsequence, k.offset, n);
    for (int i = 0; i < n; ++i) {
      uint32_t host = philox_draw(k.seed, k.subsequence, k.offset + i);
      ASSERT_EQ(host, theirs[i]) << "seed " << k.seed << " subsequence " << k.subsequence << " offset "
                                 << k.offset + i;
      ASSERT_EQ(host, device_ours[i]) << "offset " << k.offset + i;
    }
  }
}

}  // namespace
}  // namespace alexnet
