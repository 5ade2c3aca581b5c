// The CPU reference's matrix multiply (OpenBLAS sgemm, row-major) and its thread count.
#pragma once

namespace alexnet::blas {

// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with the given leading dimensions.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// Sets the threads OpenBLAS and OpenMP use for the CPU reference; 0 means all cores.
void set_cpu_threads(int threads);
int cpu_threads();

}  // namespace alexnet::blas
