// Rectified linear unit, y = max(x, 0). Its backward reads y, so x and y may share memory.
#pragma once

#include <memory>

#include "layers/layer.h"

namespace alexnet {

std::unique_ptr<Layer> make_relu(Device device);

}  // namespace alexnet
