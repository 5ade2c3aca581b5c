// cuDNN convolution.
//
// The algorithms (forward and backward filter the first time the layer meets an input shape,
// backward data the first time it is asked for an input gradient: conv1 never is) are chosen
// among those that fit the workspace limit and use the math the run asked for (--math):
// - by default, timed: cudnnFind* runs every candidate and we take the fastest;
// - with --deterministic, without timing: cudnnGet*_v7 lists the candidates in the order cuDNN's
//   heuristics expect them to run, and we take the first that promises bit-identical results. A
//   timed choice could differ run to run, between the towers or after --resume (timing noise, the
//   other tower's kernels), and with it the bits; the heuristic's depends only on the GPU, cuDNN's
//   version and the shapes.
// - pinned (BackendOptions::conv_*_algo, for the GPU tests): that algorithm, if cuDNN's list offers
//   it for the shape, else AlgorithmUnavailable.
// The choice is kept per shape, so training and evaluation batches of different sizes each pay for
// one search, and algorithm_choices() gives it to the run's manifest. Groups map to cuDNN's group
// count: the paper's own-tower connectivity on one device.
#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

bool is_tensor_math(cudnnMathType_t m) {
  return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

// The first (fastest) result that succeeded and meets the run's constraints, or the pinned
// algorithm (`pinned` >= 0) where the list offers it.
template <typename Perf>
Perf pick(const std::vector<Perf>& results, const BackendOptions& b, const char* which, int pinned) {
  if (pinned >= 0) {
    for (const Perf& p : results) {
      if (static_cast<int>(p.algo) != pinned || p.status != CUDNN_STATUS_SUCCESS) continue;
      if (p.memory > b.workspace_limit || (b.math == MathMode::kFp32 && is_tensor_math(p.mathType))) continue;
      return p;
    }
    throw AlgorithmUnavailable(std::string("conv: cuDNN does not offer ") + which + " algorithm " +
                               std::to_string(pinned) + " for this shape");
  }
  for (const Perf& p : results) {
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > b.workspace_limit) continue;
    if (b.deterministic && p.determinism != CUDNN_DETERMINISTIC) continue;
    if (b.math == MathMode::kFp32 && is_tensor_math(p.mathType)) continue;
    return p;
  }
  throw std::runtime_error(std::string("conv: cuDNN offers no ") + which +
                           " algorithm within --workspace-mb " + std::to_string(b.workspace_limit >> 20) +
                           (b.deterministic ? " that is deterministic" : "") + " for --math " +
                           math_mode_name(b.math) + "; raise --workspace-mb");
}

const char* forward_name(cudnnConvolutionFwdAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
      return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
      return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
      return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT:
      return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
      return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
      return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD:
      return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
      return "winograd_nonfused";
    default:
      return "unknown";
  }
}

const char* data_name(cudnnConvolutionBwdDataAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0:
      return "algo_0";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1:
      return "algo_1";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT:
      return "fft";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING:
      return "fft_tiling";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD:
      return "winograd";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED:
      return "winograd_nonfused";
    default:
      return "unknown";
  }
}

const char* filter_name(cudnnConvolutionBwdFilterAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0:
      return "algo_0";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1:
      return "algo_1";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT:
      return "fft";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3:
      return "algo_3";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED:
      return "winograd_nonfused";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING:
      return "fft_tiling";
    default:
      return "unknown";
  }
}

// "implicit_gemm (1)": the name, and cuDNN's number for it.
template <typename Algo>
std::string algo_text(const char* name, Algo a) {
  return std::string(name) + " (" + std::to_string(static_cast<int>(a)) + ")";
}

class ConvCuda final : public ConvLayer {
 public:
  ConvCuda(const ConvConfig& c, Device device, const BackendOptions& backend)
      : ConvLayer(c, device), backend_(backend) {
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_.get(), c.pad, c.pad, c.stride, c.stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv_.get(), c.groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(conv_.get(), descriptor_math()));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(filter_.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, c.out_channels,
                                           c.in_channels / c.groups, c.kernel, c.kernel));
    set_tensor(bias_, 1, c.out_channels, 1, 1);
  }

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    expect_device("y", y.device);
    CudaDeviceGuard guard(device().index);
    StreamLibraries& lib = pass.stream.libraries();
    const Plan& p = plan_for(lib, x.shape, y.shape);
    const float one = 1.0f, zero = 0.0f;
    set_math(p.forward.mathType);
    CUDNN_CHECK(cudnnConvolutionForward(lib.cudnn(), &one, x_.get(), x.data, filter_.get(), param(0).data,
                                        conv_.get(), p.forward.algo, lib.workspace(p.workspace), p.workspace,
                                        &zero, y_.get(), y.data));
    if (c_.bias)
      CUDNN_CHECK(cudnnAddTensor(lib.cudnn(), &one, bias_.get(), param(1).data, &one, y_.get(), y.data));
  }

  void backward(const Pass& pass, ConstView x, ConstView y, ConstView dy, View dx) override {
    CudaDeviceGuard guard(device().index);
    StreamLibraries& lib = pass.stream.libraries();
    Plan& p = plan_for(lib, x.shape, y.shape);
    if (!dx.empty() && !p.has_data) choose_data(lib, p);
    const float one = 1.0f, zero = 0.0f;
    const float beta = pass.grad_mode == GradMode::kAccumulate ? 1.0f : 0.0f;
    if (c_.bias) {
      CUDNN_CHECK(cudnnConvolutionBackwardBias(lib.cudnn(), &one, y_.get(), dy.data, &beta, bias_.get(),
                                               grad(1).data));
    }
    set_math(p.filter.mathType);
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(lib.cudnn(), &one, x_.get(), x.data, y_.get(), dy.data,
                                               conv_.get(), p.filter.algo, lib.workspace(p.workspace),
                                               p.workspace, &beta, filter_.get(), grad(0).data));
    if (dx.empty()) return;
    set_math(p.data.mathType);
    CUDNN_CHECK(cudnnConvolutionBackwardData(lib.cudnn(), &one, filter_.get(), param(0).data, y_.get(),
                                             dy.data, conv_.get(), p.data.algo, lib.workspace(p.workspace),
                                             p.workspace, &zero, x_.get(), dx.data));
  }

 private:
  struct Plan {
    Shape input;
    cudnnConvolutionFwdAlgoPerf_t forward;
    cudnnConvolutionBwdDataAlgoPerf_t data;
    cudnnConvolutionBwdFilterAlgoPerf_t filter;
    bool has_data = false;  // searched on the first backward that wants dx
    size_t workspace = 0;   // the largest of those chosen
  };

 public:
  std::vector<AlgorithmChoice> algorithm_choices() const override {
    std::vector<AlgorithmChoice> out;
    for (const auto& [key, p] : plans_) {
      out.push_back({p.input, algo_text(forward_name(p.forward.algo), p.forward.algo),
                     p.has_data ? algo_text(data_name(p.data.algo), p.data.algo) : "none (no input gradient)",
                     algo_text(filter_name(p.filter.algo), p.filter.algo), chosen_by(),
                     static_cast<int64_t>(p.workspace)});
    }
    return out;
  }

 private:
  cudnnMathType_t descriptor_math() const {
    return backend_.math == MathMode::kTf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
  }
  // cuDNN wants the descriptor's math type to match the chosen algorithm's.
  void set_math(cudnnMathType_t chosen) {
    CUDNN_CHECK(
        cudnnSetConvolutionMathType(conv_.get(), backend_.math == MathMode::kFp32 ? CUDNN_FMA_MATH : chosen));
  }

  std::string chosen_by() const {
    if (backend_.conv_forward_algo >= 0 || backend_.conv_data_algo >= 0 || backend_.conv_filter_algo >= 0)
      return "pinned";
    return backend_.deterministic ? "heuristic" : "timed";
  }
  // Timed (cudnnFind*) by default; in cuDNN's heuristic order (cudnnGet*_v7) with --deterministic
  // or a pinned algorithm (that list has every algorithm with its status).
  bool timed(int pinned) const { return !backend_.deterministic && pinned < 0; }

  // The backward-data algorithm, chosen when first needed. x_ and y_ are at the plan's shape.
  void choose_data(StreamLibraries& lib, Plan& p) {
    CUDNN_CHECK(cudnnSetConvolutionMathType(conv_.get(), descriptor_math()));
    const int pinned = backend_.conv_data_algo;
    int max = 0, returned = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(lib.cudnn(), &max));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data(max);
    CUDNN_CHECK(
        timed(pinned)
            ? cudnnFindConvolutionBackwardDataAlgorithm(lib.cudnn(), filter_.get(), y_.get(), conv_.get(),
                                                        x_.get(), max, &returned, data.data())
            : cudnnGetConvolutionBackwardDataAlgorithm_v7(lib.cudnn(), filter_.get(), y_.get(), conv_.get(),
                                                          x_.get(), max, &returned, data.data()));
    data.resize(returned);
    p.data = pick(data, backend_, "backward-data", pinned);
    p.has_data = true;
    p.workspace = std::max(p.workspace, p.data.memory);
    LOG(INFO) << "conv " << c_.in_channels << "->" << c_.out_channels << " k" << c_.kernel << " input "
              << p.input.str() << " on " << device().str() << ": backward-data "
              << algo_text(data_name(p.data.algo), p.data.algo) << " (" << chosen_by() << ")";
  }

  // The algorithms for this input shape, found on first sight. Also points x_ and y_ at the shape.
  Plan& plan_for(StreamLibraries& lib, const Shape& xs, const Shape& ys) {
    set_tensor(x_, xs);
    set_tensor(y_, ys);
    const std::pair<int64_t, int64_t> key{xs[0], xs[2] * 100000 + xs[3]};
    auto found = plans_.find(key);
    if (found != plans_.end()) return found->second;

    CUDNN_CHECK(cudnnSetConvolutionMathType(conv_.get(), descriptor_math()));
    Plan p;
    p.input = xs;
    int max = 0, returned = 0;
    const int pin_forward = backend_.conv_forward_algo, pin_filter = backend_.conv_filter_algo;
    CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(lib.cudnn(), &max));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> fwd(max);
    CUDNN_CHECK(timed(pin_forward)
                    ? cudnnFindConvolutionForwardAlgorithm(lib.cudnn(), x_.get(), filter_.get(), conv_.get(),
                                                           y_.get(), max, &returned, fwd.data())
                    : cudnnGetConvolutionForwardAlgorithm_v7(lib.cudnn(), x_.get(), filter_.get(),
                                                             conv_.get(), y_.get(), max, &returned,
                                                             fwd.data()));
    fwd.resize(returned);
    p.forward = pick(fwd, backend_, "forward", pin_forward);

    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(lib.cudnn(), &max));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter(max);
    CUDNN_CHECK(
        timed(pin_filter)
            ? cudnnFindConvolutionBackwardFilterAlgorithm(lib.cudnn(), x_.get(), y_.get(), conv_.get(),
                                                          filter_.get(), max, &returned, filter.data())
            : cudnnGetConvolutionBackwardFilterAlgorithm_v7(lib.cudnn(), x_.get(), y_.get(), conv_.get(),
                                                            filter_.get(), max, &returned, filter.data()));
    filter.resize(returned);
    p.filter = pick(filter, backend_, "backward-filter", pin_filter);

    p.workspace = std::max(p.forward.memory, p.filter.memory);
    // Times only where cudnnFind* measured them (the heuristic list has none).
    auto ms = [&](float t, int pinned) {
      return timed(pinned) ? " (" + std::to_string(t) + " ms)" : std::string();
    };
    LOG(INFO) << "conv " << c_.in_channels << "->" << c_.out_channels << " k" << c_.kernel << " input "
              << xs.str() << " on " << device().str() << ": cuDNN algorithms (" << chosen_by() << ") forward "
              << algo_text(forward_name(p.forward.algo), p.forward.algo) << ms(p.forward.time, pin_forward)
              << ", backward-filter " << algo_text(filter_name(p.filter.algo), p.filter.algo)
              << ms(p.filter.time, pin_filter) << ", workspace " << (p.workspace >> 20) << " MiB";
    return plans_.emplace(key, p).first->second;
  }

  BackendOptions backend_;
  ConvolutionDescriptor conv_;
  FilterDescriptor filter_;
  TensorDescriptor x_, y_, bias_;
  std::map<std::pair<int64_t, int64_t>, Plan> plans_;  // by (batch, height and width)
};

}  // namespace

std::unique_ptr<Layer> make_conv_cuda(const ConvConfig& c, Device device, const BackendOptions& backend) {
  detail::require_cuda_device(device);
  CudaDeviceGuard guard(device.index);
  return std::make_unique<ConvCuda>(c, device, backend);
}

}  // namespace alexnet
