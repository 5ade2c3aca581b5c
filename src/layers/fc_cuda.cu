// cuBLAS FC. cuBLAS is column-major, so the row-major [N, I] input is the column-major I x N
// matrix X, the row-major weight [O, I] is the column-major I x O matrix W, and
//   forward   Y (O x N)  = W^T X          + b broadcast over columns
//   backward  dW (I x O) = X dY^T,  db = dY 1,  dX (I x N) = W dY
// which are the CPU reference's three sgemms seen from the other side. --math tf32 lets the
// GEMMs use TF32 tensor cores; fp32 keeps them on FMA.
#include "core/cuda_libraries.h"
#include "core/cuda_memory.h"
#include "layers/cuda_layers.h"

namespace alexnet {

namespace {

// y[n, o] += b[o]
__global__ void add_bias_kernel(float* y, const float* b, int64_t n, int out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * out;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] += b[i % out];
}

// db[o] = sum_n dy[n, o] + beta * db[o]; neighbouring threads read neighbouring columns.
__global__ void bias_grad_kernel(const float* dy, int n, int out, float beta, float* db) {
  int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= out) return;
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += dy[int64_t(i) * out + o];
  db[o] = s + beta * db[o];
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
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, param(0).data, in, x.data, in,
                             &zero, y.data, out));
    if (c_.bias) {
      add_bias_kernel<<<grid_blocks(int64_t(n) * out), 256, 0, pass.stream.handle()>>>(y.data, param(1).data,
                                                                                       n, out);
      CUDA_CHECK(cudaGetLastError());
    }
  }

  void backward(const Pass& pass, ConstView x, ConstView, ConstView dy, View dx) override {
    CudaDeviceGuard guard(device().index);
    cublasHandle_t h = handle(pass);
    const int n = static_cast<int>(x.shape[0]), in = static_cast<int>(c_.in_features),
              out = static_cast<int>(c_.out_features);
    const float one = 1.0f, zero = 0.0f;
    const float beta = pass.grad_mode == GradMode::kAccumulate ? 1.0f : 0.0f;
    CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x.data, in, dy.data, out, &beta,
                             grad(0).data, in));
    if (c_.bias) {
      bias_grad_kernel<<<(out + 255) / 256, 256, 0, pass.stream.handle()>>>(dy.data, n, out, beta,
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
    // The handle is the stream's, shared with other layers: state the math each time.
    CUBLAS_CHECK(cublasSetMathMode(
        h, backend_.math == MathMode::kTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
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
