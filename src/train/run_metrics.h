// The figures a training run logs beside its loss, as torchtitan and Megatron log them: model FLOP
// utilisation (MFU), memory, and under many processes the step time over the ranks.
//
//   MFU = the net's training FLOPs per image x images per second / the peak FLOP/s of the job's
//         devices. Training FLOPs per image: 6 x the forward MACs of `alexnet info` (2 FLOPs a
//         MAC; the backward pass's input and weight gradients twice the forward's), the usual
//         count. The peak: --peak-gflops when given (this process's devices together); else, on
//         the CPU, an sgemm of 1024 x 1024 x 1024 on the run's threads measured at start-up (the
//         best of 3), and on a GPU the chip's dense FP32 or TF32 (with --math tf32) peak from
//         NVIDIA's datasheets for the chips the table knows (none for others: MFU is left out).
//   memory = this process's resident set now and at its peak (the kernel's VmRSS and ru_maxrss),
//         and on a GPU what our buffers hold now and at most (core/tensor.h; not cuDNN's or
//         NCCL's own); under many processes the largest over the ranks.
//   step time over the ranks = each rank's mean step over the last --log-every steps less its
//         wait for data and its time blocked in the step's collectives (the loss's all-reduce, the
//         step boundary's, the gradient all-reduce's finish): its own work, so that the slowest
//         rank is the one the others wait for. Gathered once a metrics row over the host
//         (no synchronisation of a GPU: the step reads its loss back already).
#pragma once

#include <string>
#include <vector>

#include "core/backend_options.h"
#include "core/device.h"
#include "net/plan.h"

namespace alexnet {

double training_flops_per_image(const Plan& plan);

struct PeakFlops {
  double flops = 0;    // per second; 0: unknown
  std::string source;  // for the log: "--peak-gflops", "sgemm 1024^3 on 2 threads: 61.2 GFLOP/s", ...
};
// The peak of this process's devices together (two towers on one GPU count it once).
PeakFlops peak_flops(const std::vector<Device>& devices, const BackendOptions& backend, double peak_gflops);
// A known chip's dense peak in FLOP/s (0 for one the table lacks), by the driver's name.
double gpu_peak_flops(const std::string& name, MathMode math);

struct MemoryNow {
  double host_rss_mib = 0, host_peak_mib = 0;
  double device_mib = 0, device_peak_mib = 0;  // 0 on the CPU
};
MemoryNow memory_now(const std::vector<Device>& devices);

}  // namespace alexnet
