#include "core/device.h"

#include <charconv>
#include <stdexcept>

#include "core/cuda_backend.h"
#include "core/shape.h"

namespace alexnet {

Device Device::parse(std::string_view text) {
  if (text == "cpu") return cpu();
  constexpr std::string_view kCuda = "cuda:";
  if (text.substr(0, kCuda.size()) == kCuda) {
    std::string_view digits = text.substr(kCuda.size());
    int index = -1;
    auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (err == std::errc() && end == digits.data() + digits.size() && !digits.empty() && index >= 0) {
      return cuda(index);
    }
  }
  throw std::invalid_argument("unknown device '" + std::string(text) +
                              "': expected 'cpu' or 'cuda:N' with N >= 0");
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

bool cuda_built() {
  return detail::cuda_built();
}

int cuda_device_count() {
  return detail::cuda_device_count();
}

void use_device(Device device) {
  if (device.is_cuda()) detail::cuda_use_device(device);
}

// --- Shape -------------------------------------------------------------------------------------

Shape::Shape(std::initializer_list<int64_t> dims) {
  if (dims.size() > kMaxRank) throw std::invalid_argument("shape rank above 4");
  for (int64_t d : dims) dims_[rank_++] = d;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return rank_ == 0 ? 0 : n;
}

int64_t Shape::item_numel() const {
  return rank_ == 0 || dims_[0] == 0 ? 0 : numel() / dims_[0];
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + "]";
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] != o.dims_[i]) return false;
  return true;
}

}  // namespace alexnet
