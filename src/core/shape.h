// Shapes and non-owning views of float tensors.
//
// Activations are NCHW; a fully connected layer sees [N, F] (rank 2). Parameter shapes are the
// logical ones that checkpoints store: conv weights [O, I/groups, kh, kw], FC weights [O, I],
// biases [O]. Rank is at most 4, which is all AlexNet needs.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "core/device.h"

namespace alexnet {

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t numel() const;
  // Elements per item of the leading dimension (C*H*W for NCHW).
  int64_t item_numel() const;
  std::string str() const;  // "[2, 3, 5, 5]"

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// A pointer, a shape and the device the memory lives on. Views never own memory; they are what
// layers read and write, so that parameters can live inside one flat buffer per tower.
template <typename T>
struct BasicView {
  T* data = nullptr;
  Shape shape;
  Device device;

  int64_t numel() const { return shape.numel(); }
  bool empty() const { return data == nullptr; }
  // A view of the same memory under another shape with the same element count.
  BasicView reshaped(Shape s) const;
  // Implicit View -> ConstView.
  template <typename U = T, typename = std::enable_if_t<!std::is_const_v<U>>>
  operator BasicView<const U>() const {
    return {data, shape, device};
  }
};

using View = BasicView<float>;
using ConstView = BasicView<const float>;

template <typename T>
BasicView<T> BasicView<T>::reshaped(Shape s) const {
  return {data, s, device};
}

}  // namespace alexnet
