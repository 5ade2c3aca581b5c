// How the CUDA backend computes, chosen per run (--math, --deterministic, --workspace-mb) and
// handed to the layers that have a choice to make (convolution, FC). The CPU reference ignores it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace alexnet {

enum class MathMode {
  kFp32,  // plain FP32 FMA: what the CPU reference computes, up to summation order
  kTf32,  // TF32 tensor cores for convolution and GEMM (10-bit mantissa products, FP32 sums)
};

struct BackendOptions {
  MathMode math = MathMode::kFp32;
  // Only algorithms whose results do not depend on scheduling (cuDNN's CUDNN_DETERMINISTIC):
  // two runs from one seed then give identical weights.
  bool deterministic = false;
  // The most scratch memory one convolution algorithm may ask for.
  size_t workspace_limit = size_t{512} << 20;
  // cuDNN's number of a convolution algorithm to use (cudnnConvolutionFwdAlgo_t, ...BwdDataAlgo_t,
  // ...BwdFilterAlgo_t) instead of choosing one; -1 chooses. For the GPU tests, which check each
  // algorithm against the CPU in turn: a pinned one that cuDNN does not offer for a shape throws
  // AlgorithmUnavailable (layers/conv.h).
  int conv_forward_algo = -1, conv_data_algo = -1, conv_filter_algo = -1;
};

// "fp32" or "tf32"; throws UserError naming the flag otherwise.
MathMode parse_math_mode(std::string_view text);
const char* math_mode_name(MathMode mode);

}  // namespace alexnet
