// cuBLAS FC. cuBLAS is column-major, so the row-major [N, I] input is the column-major I x N
// matrix X, the row-major weight [O, I] is the column-major I x O matrix W, and
//   forward   Y (O x N)  = W^T X          + b broadcast over columns
//   backward  dW (I x O) = X dY^T,  db = dY 1,  dX (I x N) = W dY
// which are the CPU reference's three sgemms seen from the other side. The bias and its gradient
// are fc.h's per-element functions, as on the CPU. --math tf32 lets the GEMMs use TF32 tensor
// cores; fp32 keeps them in FP32.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

// y[i] = b[i % out] over the row-major [n, out] output; the GEMM then adds x W^T (beta = 1).
__global__ void broadcast_bias_kernel(float* y, const float* b, int64_t total, int64_t out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = fc_bias_broadcast(b, i, out);
}

// One thread per column o (neighbouring threads read neighbouring columns of dy).
__global__ void bias_grad_kernel(const float* dy, int64_t n, int64_t out, bool accumulate, float* db) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < out;
       o += int64_t(gridDim.x) * blockDim.x)
    db[o] = fc_bias_grad(dy, n, out, o, accumulate, db);
}

class FcCuda final : public FcLayer {
 public:
  FcCuda(const FcConfig& c, Device device, const BackendOptions& backend)
      : FcLayer(c, device), backend_(backend) {}

  void forward(const Pass& pass, ConstView x, View y) override {
    expect("y", y.shape, output_shape(x.shape));
    expect_device("x", x.device);
    CudaDeviceGuard guard(device().index);
    cublasHandle_t h = handle(pass);
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    // As the CPU reference: y starts as the broadcast bias and the GEMM adds onto it.
    if (c_.bias) {
      const int64_t total = int64_t(n) * out;
      broadcast_bias_kernel<<<grid_blocks(total), 256, 0, pass.stream.handle()>>>(y.data, param(1).data,
                                                                                  total, out);
      CUDA_CHECK(cudaGetLastError());
    }
    const float one = 1.0f, beta = c_.bias ? 1.0f : 0.0f;
    CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, param(0).data, in, x.data, in,
                             &beta, y.data, out));
  }

  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    CudaDeviceGuard guard(device().index);
    cublasHandle_t h = handle(pass);
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    const float one = 1.0f, zero = 0.0f;
    const bool accumulate = pass.grad_mode == GradMode::kAccumulate;
    const float beta = accumulate ? 1.0f : 0.0f;  // cuBLAS reads C only when beta != 0
    CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x.data, in, dy.data, out, &beta,
                             grad(0).data, in));
    if (c_.bias) {
      bias_grad_kernel<<<grid_blocks(out), 256, 0, pass.stream.handle()>>>(dy.data, n, out, accumulate,
                                                                           grad(1).data);
      CUDA_CHECK(cudaGetLastError());
    }
    if (!dx.empty()) {
      CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, param(0).data, in, dy.data, out,
                               &zero, dx.data, in));
    }
  }

 private:
  cublasHandle_t handle(const Pass& pass) const {
    cublasHandle_t h = pass.stream.libraries().cublas();
    // The handle is the stream's, shared with other layers: state the math each time. For
    // --math fp32 the default math: FP32 throughout, TF32 excluded; the pedantic mode, meant for
    // numerical studies, may pick slower kernels and buys the tests nothing.
    CUBLAS_CHECK(cublasSetMathMode(
        h, backend_.math == MathMode::kTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return h;
  }

  BackendOptions backend_;
};

}  // namespace

std::unique_ptr<Layer> make_fc_cuda(const FcConfig& c, Device device, const BackendOptions& backend) {
  detail::require_cuda_device(device);
  return std::make_unique<FcCuda>(c, device, backend);
}

}  // namespace alexnet
