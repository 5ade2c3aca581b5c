// Streams and events. On the CPU both are no-ops: work runs inline, in program order, so a
// record is already complete and a wait has nothing to wait for. On CUDA they own a
// cudaStream_t / cudaEvent_t (one move-only RAII type each; destructors log, never throw).
#pragma once

#include <memory>

#include "core/device.h"

struct CUstream_st;  // cudaStream_t is CUstream_st*
struct CUevent_st;   // cudaEvent_t is CUevent_st*

namespace alexnet {

// The host's steady clock in ms: what CPU events record, and the time base of traces (one clock
// for every process on a host: Linux's CLOCK_MONOTONIC).
double host_clock_ms();

class StreamLibraries;  // cuDNN and cuBLAS bound to a stream (core/cuda_libraries.h)
// Frees them through the CUDA backend, so that this header needs neither the type nor CUDA.
struct StreamLibrariesDeleter {
  void operator()(StreamLibraries* libraries) const noexcept;
};

class Stream {
 public:
  Stream();  // the CPU stream
  explicit Stream(Device device);
  ~Stream();
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Device device() const { return device_; }
  CUstream_st* handle() const { return handle_; }  // null on the CPU
  void synchronize() const;
  // The cuDNN and cuBLAS handles bound to this CUDA stream, made on first use.
  StreamLibraries& libraries() const;

 private:
  void release() noexcept;
  Device device_;
  CUstream_st* handle_ = nullptr;
  mutable std::unique_ptr<StreamLibraries, StreamLibrariesDeleter> libraries_;
};

class Event {
 public:
  // Timing events measure elapsed_ms(); plain ones are cheaper and only order streams.
  explicit Event(Device device = Device::cpu(), bool timing = false);
  ~Event();
  Event(Event&& o) noexcept;
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(const Stream& stream);
  // Makes later work on `stream` wait for the work recorded before this event.
  void make_wait(const Stream& stream) const;
  void synchronize() const;
  // Milliseconds from `start` to this event; both must be timing events that were recorded.
  float elapsed_ms_since(const Event& start) const;

 private:
  void release() noexcept;
  Device device_;
  CUevent_st* handle_ = nullptr;
  double cpu_ms_ = 0;  // on the CPU, the wall clock at record()
};

}  // namespace alexnet
