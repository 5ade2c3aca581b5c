#include "core/stream.h"

#include <glog/logging.h>

#include <chrono>

#ifdef ALEXNET_HAVE_CUDA
#include "core/cuda_check.h"
#include "core/cuda_libraries.h"
#else
namespace alexnet {
class StreamLibraries {};
}  // namespace alexnet
#endif

namespace alexnet {

namespace {
double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

#ifdef ALEXNET_HAVE_CUDA
// Creating a stream or event binds it to the current device, so make ours current briefly.
template <typename F>
void on_device(Device device, F&& f) {
  int previous = 0;
  CUDA_CHECK(cudaGetDevice(&previous));
  CUDA_CHECK(cudaSetDevice(device.index));
  f();
  CUDA_CHECK(cudaSetDevice(previous));
}
#endif
}  // namespace

// --- Stream ------------------------------------------------------------------------------------

Stream::Stream() = default;

Stream::Stream(Device device) : device_(device) {
  if (device.is_cpu()) return;
#ifdef ALEXNET_HAVE_CUDA
  on_device(device, [&] { CUDA_CHECK(cudaStreamCreateWithFlags(&handle_, cudaStreamNonBlocking)); });
#else
  LOG(FATAL) << "stream on " << device.str() << " in a build without CUDA";
#endif
}

Stream::~Stream() {
  release();
}

Stream::Stream(Stream&& o) noexcept
    : device_(o.device_), handle_(o.handle_), libraries_(std::move(o.libraries_)) {
  o.handle_ = nullptr;
}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    handle_ = o.handle_;
    libraries_ = std::move(o.libraries_);
    o.handle_ = nullptr;
  }
  return *this;
}

void Stream::release() noexcept {
  libraries_.reset();  // the handles are bound to the stream: they go first
#ifdef ALEXNET_HAVE_CUDA
  if (handle_) CUDA_CHECK_LOG(cudaStreamDestroy(handle_));
#endif
  handle_ = nullptr;
}

void Stream::synchronize() const {
#ifdef ALEXNET_HAVE_CUDA
  if (handle_) CUDA_CHECK(cudaStreamSynchronize(handle_));
#endif
}

StreamLibraries& Stream::libraries() const {
#ifdef ALEXNET_HAVE_CUDA
  CHECK(handle_) << "cuDNN and cuBLAS need a CUDA stream, not " << device_.str();
  if (!libraries_) {
    CudaDeviceGuard guard(device_.index);  // handles belong to the device current at creation
    libraries_ = std::make_unique<StreamLibraries>(*this);
  }
  return *libraries_;
#else
  LOG(FATAL) << "cuDNN and cuBLAS in a build without CUDA";
#endif
}

// --- Event -------------------------------------------------------------------------------------

Event::Event(Device device, bool timing) : device_(device) {
  if (device.is_cpu()) return;
#ifdef ALEXNET_HAVE_CUDA
  unsigned flags = timing ? cudaEventDefault : cudaEventDisableTiming;
  on_device(device, [&] { CUDA_CHECK(cudaEventCreateWithFlags(&handle_, flags)); });
#else
  LOG(FATAL) << "event on " << device.str() << " in a build without CUDA";
#endif
}

Event::~Event() {
  release();
}

Event::Event(Event&& o) noexcept : device_(o.device_), handle_(o.handle_), cpu_ms_(o.cpu_ms_) {
  o.handle_ = nullptr;
}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    release();
    device_ = o.device_;
    handle_ = o.handle_;
    cpu_ms_ = o.cpu_ms_;
    o.handle_ = nullptr;
  }
  return *this;
}

void Event::release() noexcept {
#ifdef ALEXNET_HAVE_CUDA
  if (handle_) CUDA_CHECK_LOG(cudaEventDestroy(handle_));
#endif
  handle_ = nullptr;
}

void Event::record(const Stream& stream) {
  CHECK(stream.device() == device_) << "event on " << device_.str() << " recorded on a stream of "
                                    << stream.device().str();
  if (!handle_) {
    cpu_ms_ = now_ms();
    return;
  }
#ifdef ALEXNET_HAVE_CUDA
  CUDA_CHECK(cudaEventRecord(handle_, stream.handle()));
#endif
}

void Event::make_wait(const Stream& stream) const {
#ifdef ALEXNET_HAVE_CUDA
  // A CUDA event orders any stream after it, the CPU's included: a CPU stream blocks on it.
  if (handle_ && stream.handle()) CUDA_CHECK(cudaStreamWaitEvent(stream.handle(), handle_, 0));
  if (handle_ && !stream.handle()) CUDA_CHECK(cudaEventSynchronize(handle_));
#endif
}

void Event::synchronize() const {
#ifdef ALEXNET_HAVE_CUDA
  if (handle_) CUDA_CHECK(cudaEventSynchronize(handle_));
#endif
}

float Event::elapsed_ms_since(const Event& start) const {
  if (!handle_) return static_cast<float>(cpu_ms_ - start.cpu_ms_);
  float ms = 0;
#ifdef ALEXNET_HAVE_CUDA
  CUDA_CHECK(cudaEventElapsedTime(&ms, start.handle_, handle_));
#endif
  return ms;
}

}  // namespace alexnet
