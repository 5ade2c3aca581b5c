// ALEXNET_HD marks a function that compiles for the host and for the device: the per-element
// bodies our CUDA kernels share with their CPU references (dropout's keep decision, FC's bias
// and its gradient, the softmax loss and its gradient, the SGD update, add and scale), so that
// the CPU tests exercise the very arithmetic the GPU runs; only the loop or the grid differs.
//
// Same source gives the same bits only if both sides round each operation once and treat
// denormals alike: nvcc would fuse a * b + c into one FMA (one rounding instead of two), so our
// .cu files build with --fmad=false --ftz=true (CMakeLists.txt); the host build targets baseline
// x86-64, which has no FMA, and its threads flush denormals (set_cpu_threads, core/blas.cpp). Our
// kernels are memory-bound: the fused form would buy nothing. What may still differ is the last
// bit of a double exp or log (CUDA's libm against glibc's), used only by the loss.
#pragma once

#if defined(__CUDACC__)
#define ALEXNET_HD __host__ __device__
#else
#define ALEXNET_HD
#endif

// ALEXNET_CPU_CLONES marks a hot CPU loop that GCC builds three times, for baseline x86-64, AVX2
// and AVX-512, the widest the CPU runs being chosen when the program loads (an ifunc). Every
// clone gives the same bits: the build passes -ffp-contract=off, so no clone fuses a * b + c,
// and vector sqrt, division, addition and multiplication round as the scalar ones do. Other
// compilers (clang's fuzzing builds) and other architectures build the baseline alone.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ALEXNET_CPU_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define ALEXNET_CPU_CLONES
#endif
