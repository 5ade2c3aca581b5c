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
