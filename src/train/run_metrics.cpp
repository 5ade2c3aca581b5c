#include "train/run_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "core/blas.h"
#include "core/cuda_backend.h"
#include "core/tensor.h"

namespace alexnet {

double training_flops_per_image(const Plan& plan) {
  return 6.0 * static_cast<double>(plan.macs_per_item());
}

double gpu_peak_flops(const std::string& name, MathMode math) {
  // Dense peaks (TFLOP/s) from NVIDIA's datasheets: FP32 on the CUDA cores, TF32 on the tensor cores.
  struct Chip {
    const char* match;
    const char* unless;  // a variant of the name with other figures
    double fp32, tf32;
  };
  static const Chip chips[] = {
      {"H200", nullptr, 67, 494.7},  {"H100", "PCIe", 67, 494.7},  {"H100", nullptr, 51, 378},
      {"A100", nullptr, 19.5, 156},  {"L40S", nullptr, 91.6, 183}, {"A10", nullptr, 31.2, 62.5},
      {"V100", nullptr, 15.7, 15.7},
  };
  for (const Chip& c : chips) {
    if (name.find(c.match) == std::string::npos) continue;
    if (c.unless && name.find(c.unless) != std::string::npos) continue;
    return (math == MathMode::kTf32 ? c.tf32 : c.fp32) * 1e12;
  }
  return 0;
}

namespace {
double measured_sgemm_flops() {
  constexpr int n = 1024;
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  double best = 1e30;
  for (int r = 0; r < 4; ++r) {  // the first warms the caches and OpenBLAS's threads
    const auto t = std::chrono::steady_clock::now();
    blas::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    if (r > 0) best = std::min(best, s);
  }
  return 2.0 * n * n * n / best;
}
}  // namespace

PeakFlops peak_flops(const std::vector<Device>& devices, const BackendOptions& backend, double peak_gflops) {
  char text[160];
  if (peak_gflops > 0) {
    std::snprintf(text, sizeof text, "--peak-gflops %g", peak_gflops);
    return {peak_gflops * 1e9, text};
  }
  PeakFlops p;
  std::vector<Device> seen;
  bool cpu = false;
  for (Device d : devices) {
    if (std::find(seen.begin(), seen.end(), d) != seen.end()) continue;
    seen.push_back(d);
    if (d.is_cpu()) {
      cpu = true;
      continue;
    }
    const std::string name = detail::cuda_device_name(d);
    const double f = gpu_peak_flops(name, backend.math);
    if (f == 0) return {0, name + ": a chip without a known peak (give --peak-gflops)"};
    p.flops += f;
    p.source += (p.source.empty() ? "" : " + ") + name + " " + math_mode_name(backend.math) + " " +
                std::to_string(static_cast<int>(f / 1e12)) + " TFLOP/s";
  }
  if (cpu) {  // the CPU towers of one process share its threads: one measurement
    const double f = measured_sgemm_flops();
    std::snprintf(text, sizeof text, "sgemm 1024^3 measured at start-up on %d thread(s): %.1f GFLOP/s",
                  blas::cpu_threads(), f / 1e9);
    p.flops += f;
    p.source += (p.source.empty() ? "" : " + ") + std::string(text);
  }
  return p;
}

MemoryNow memory_now(const std::vector<Device>& devices) {
  MemoryNow m;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) m.host_rss_mib = std::stod(line.substr(6)) / 1024;  // kB
  }
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) == 0) m.host_peak_mib = static_cast<double>(u.ru_maxrss) / 1024;  // kB
  std::vector<Device> seen;
  for (Device d : devices) {
    if (!d.is_cuda() || std::find(seen.begin(), seen.end(), d) != seen.end()) continue;
    seen.push_back(d);
    m.device_mib += device_bytes_in_use(d) / 1048576.0;
    m.device_peak_mib += peak_device_bytes(d) / 1048576.0;
  }
  return m;
}

}  // namespace alexnet
