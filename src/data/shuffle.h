// The one shuffle: Fisher-Yates driven by 64-bit Philox draws, addressed by (seed, subsequence,
// position) rather than drawn in sequence, so an order is a pure function of its key. The loader
// keys each epoch's order by (seed, epoch) and `alexnet pack --shuffle` keys each split's by
// (seed, split); both orders are part of what a run or a packed file reproduces, so this must not
// change.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/philox.h"

namespace alexnet {

template <class T>
void philox_shuffle(std::vector<T>& items, uint64_t seed, uint64_t subsequence) {
  for (uint64_t i = items.size(); i > 1; --i) {
    const uint64_t r =
        (uint64_t(philox_draw(seed, subsequence, 2 * i)) << 32) | philox_draw(seed, subsequence, 2 * i + 1);
    std::swap(items[i - 1], items[r % i]);
  }
}

}  // namespace alexnet
