#include "layers/layer.h"

#include <stdexcept>

namespace alexnet {

void Layer::bind(std::vector<View> params, std::vector<View> grads) {
  std::vector<ParamSpec> specs = param_specs();
  if (params.size() != specs.size() || grads.size() != specs.size()) {
    throw std::invalid_argument(std::string(type()) + ": bind() got " + std::to_string(params.size()) +
                                " parameters and " + std::to_string(grads.size()) + " gradients, expected " +
                                std::to_string(specs.size()));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    expect(specs[i].name.c_str(), params[i].shape, specs[i].shape);
    expect(specs[i].name.c_str(), grads[i].shape, specs[i].shape);
    expect_device(specs[i].name.c_str(), params[i].device);
    expect_device(specs[i].name.c_str(), grads[i].device);
  }
  params_ = std::move(params);
  grads_ = std::move(grads);
}

void Layer::expect(const char* what, const Shape& actual, const Shape& expected) const {
  if (actual != expected) {
    throw std::invalid_argument(std::string(type()) + ": " + what + " has shape " + actual.str() +
                                ", expected " + expected.str());
  }
}

void Layer::expect_device(const char* what, Device actual) const {
  if (actual != device_) {
    throw std::invalid_argument(std::string(type()) + ": " + what + " is on " + actual.str() +
                                " but the layer runs on " + device_.str());
  }
}

}  // namespace alexnet
