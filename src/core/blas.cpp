#include "core/blas.h"

#include <cblas.h>
#include <omp.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
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

namespace {

// The best of OpenBLAS's x86-64 kernel sets that this CPU's instruction sets run; null for none
// better than the baseline.
const char* kernels_this_cpu_runs() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512cd"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

}  // namespace

void use_the_cpus_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // chosen already, by the user or by us
  const char* loaded = openblas_get_corename();
  if (!loaded || strcasecmp(loaded, "Prescott") != 0) return;  // OpenBLAS knew the CPU
  const char* better = kernels_this_cpu_runs();
  if (!better) return;
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: carry on with what is loaded
}

const char* kernels() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

}  // namespace alexnet::blas
