#include "core/blas.h"

#include <cblas.h>
#include <omp.h>

#include <thread>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

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
#if defined(__x86_64__)
  // Flush denormals to zero (FTZ) and treat denormal inputs as zero (DAZ) on every thread of the
  // pool, as GPUs' fast paths do: gradients that decay into the denormal range otherwise slow
  // each multiply by two orders of magnitude, and training by half as it goes on.
#pragma omp parallel
  _mm_setcsr(_mm_getcsr() | 0x8040);
  _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

int cpu_threads() {
  return openblas_get_num_threads();
}

}  // namespace alexnet::blas
