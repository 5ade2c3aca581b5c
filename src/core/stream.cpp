#include "core/stream.h"

#include <glog/logging.h>

#include <chrono>

#include "core/cuda_backend.h"

namespace alexnet {

double host_clock_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

void StreamLibrariesDeleter::operator()(StreamLibraries* libraries) const noexcept {
  detail::cuda_libraries_destroy(libraries);
}

// --- Stream ------------------------------------------------------------------------------------

Stream::Stream() = default;

Stream::Stream(Device device) : device_(device) {
  if (device.is_cpu()) return;
  handle_ = detail::cuda_stream_create(device);
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
  if (handle_) detail::cuda_stream_destroy(handle_);
  handle_ = nullptr;
}

void Stream::synchronize() const {
  if (handle_) detail::cuda_stream_synchronize(handle_);
}

StreamLibraries& Stream::libraries() const {
  CHECK(handle_) << "cuDNN and cuBLAS need a CUDA stream, not " << device_.str();
  if (!libraries_) libraries_.reset(detail::cuda_libraries_create(*this));
  return *libraries_;
}

// --- Event -------------------------------------------------------------------------------------

Event::Event(Device device, bool timing) : device_(device) {
  if (device.is_cpu()) return;
  handle_ = detail::cuda_event_create(device, timing);
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
  if (handle_) detail::cuda_event_destroy(handle_);
  handle_ = nullptr;
}

void Event::record(const Stream& stream) {
  CHECK(stream.device() == device_) << "event on " << device_.str() << " recorded on a stream of "
                                    << stream.device().str();
  if (!handle_) {
    cpu_ms_ = host_clock_ms();
    return;
  }
  detail::cuda_event_record(handle_, stream.handle());
}

void Event::make_wait(const Stream& stream) const {
  // A CUDA event orders any stream after it, the CPU's included: a CPU stream blocks on it.
  if (handle_) detail::cuda_event_make_wait(handle_, stream.handle());
}

void Event::synchronize() const {
  if (handle_) detail::cuda_event_synchronize(handle_);
}

float Event::elapsed_ms_since(const Event& start) const {
  if (!handle_) return static_cast<float>(cpu_ms_ - start.cpu_ms_);
  return detail::cuda_event_elapsed_ms(start.handle_, handle_);
}

}  // namespace alexnet
