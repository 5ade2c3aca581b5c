#include "core/blas.h"

#include <cblas.h>
#include <omp.h>

#include <thread>

namespace alexnet::blas {

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void set_cpu_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

int cpu_threads() {
  return openblas_get_num_threads();
}

}  // namespace alexnet::blas
