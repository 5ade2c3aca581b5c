// The CPU reference's matrix multiply (OpenBLAS sgemm, row-major) and its thread count.
#pragma once

namespace alexnet::blas {

// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with the given leading dimensions.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

// Sets the threads OpenBLAS and OpenMP use for the CPU reference; 0 means all cores.
void set_cpu_threads(int threads);
int cpu_threads();

// OpenBLAS picks its kernels once, as it loads, from the CPU's model number, or from
// OPENBLAS_CORETYPE when that is set. Debian 12's OpenBLAS (0.3.21) does not know some recent
// Xeons (virtual machines report "Intel(R) Xeon(R) Processor") and falls back to its Prescott
// (SSE3) kernels, which ran alexnet-mini's training step at about two thirds of the speed of its
// AVX-512 ones on such a machine. When it has done so on a CPU with AVX-512 or AVX2 + FMA and
// OPENBLAS_CORETYPE is unset, this re-executes the program (same arguments, same process id)
// with OPENBLAS_CORETYPE naming those kernels (SkylakeX, Haswell). Otherwise, or when the exec
// fails, it returns. Call it first thing in main(). Setting OPENBLAS_CORETYPE turns it off.
void use_the_cpus_kernels(char** argv);
// The kernels OpenBLAS loaded ("SkylakeX", "Haswell", "Prescott", ...).
const char* kernels();

}  // namespace alexnet::blas
