#include "train/features.h"

#include <glog/logging.h>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "data/augment.h"
#include "net/net.h"

namespace alexnet {

std::vector<int64_t> node_item_shape(const Net& net, const std::string& name) {
  const Plan& plan = net.plan();
  std::string known;
  for (const PlanNode& node : plan.nodes) {
    known += (known.empty() ? "" : ", ") + node.name;
    if (node.name != name) continue;
    std::vector<int64_t> shape;
    for (size_t t = 0; t < node.tower.size(); ++t) {
      const TowerWork& w = node.tower[t];
      if (!w.active || (node.out_spread == Spread::kOneTower && int(t) != node.home)) continue;
      if (shape.empty()) {
        for (int d = 0; d < w.out.rank(); ++d) shape.push_back(w.out[d]);
      } else if (node.out_spread == Spread::kSplit) {
        shape[0] += w.out[0];  // the towers hold shares of the channels
      }
    }
    return shape;
  }
  throw UserError("no node named '" + name + "' in " + plan.net.path + " as placed (" +
                  placement_name(plan.placement) + "); its nodes: " + known);
}

std::vector<float> node_outputs(Net& net, const DatasetReader& data, const std::string& split,
                                const std::vector<int64_t>& indices, int crop, const std::string& name,
                                std::vector<float>* probs) {
  CHECK(net.whole()) << "node_outputs runs in one process holding every tower";
  int64_t item = 1;
  for (int64_t d : node_item_shape(net, name)) item *= d;
  const DatasetInfo& info = data.info();
  const int classes = static_cast<int>(info.classes.size());
  const int batch = net.batch();
  const int64_t image_floats = int64_t(info.channels) * crop * crop;
  const std::string loss_node = net.plan().nodes.back().name;
  std::vector<float> input(batch * image_floats), out(indices.size() * item);
  if (probs) probs->assign(indices.size() * classes, 0.0f);
  std::vector<int32_t> labels(batch, 0);
  std::vector<uint8_t> image(size_t(info.height) * info.width * info.channels);
  const CropDraw centre = centre_view(info.height, info.width, crop);
  const Shape shape = {batch, info.channels, crop, crop};
  for (size_t begin = 0; begin < indices.size(); begin += batch) {
    const int items = static_cast<int>(std::min<size_t>(batch, indices.size() - begin));
    // A short last batch is padded with zeros; the padded rows are ignored.
    std::fill(input.begin(), input.end(), 0.0f);
    std::fill(labels.begin(), labels.end(), 0);
    for (int i = 0; i < items; ++i) {
      data.read_image(split, indices[begin + i], image.data());
      labels[i] = data.labels(split)[indices[begin + i]];
      crop_image(image.data(), info.mean.data(), info.height, info.width, info.channels, centre, crop,
                 nullptr, input.data() + i * image_floats, net.plan().net.input_scale);
    }
    net.forward(ConstView{input.data(), shape, Device::cpu()}, labels.data(), StepContext{.training = false});
    const std::vector<float> a = net.activation(name);
    std::copy(a.begin(), a.begin() + items * item, out.begin() + begin * item);
    if (probs) {
      const std::vector<float> p = net.activation(loss_node);
      std::copy(p.begin(), p.begin() + items * classes, probs->begin() + begin * classes);
    }
  }
  return out;
}

void write_node_outputs(Net& net, const DatasetReader& data, const std::string& split, int crop,
                        const std::string& name, const std::string& path) {
  std::vector<int64_t> shape = node_item_shape(net, name);
  std::vector<int64_t> indices(data.size(split));
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i);
  const std::vector<float> values = node_outputs(net, data, split, indices, crop, name);
  shape.insert(shape.begin(), static_cast<int64_t>(indices.size()));
  write_npy(path, values, shape);
}

void write_npy(const std::string& path, const std::vector<float>& values, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  std::string dims;
  for (int64_t d : shape) n *= d, dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  CHECK_EQ(n, static_cast<int64_t>(values.size()));
  if (shape.size() == 1) dims += ",";  // a tuple of one: "(5,)"
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic, version 1.0, then the header padded with spaces to a multiple of 64 bytes with the newline.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  AtomicFile file(path);
  const uint16_t length = static_cast<uint16_t>(header.size());
  file.write("\x93NUMPY\x01\x00", 8);
  file.write(&length, 2);
  file.write(header);
  file.write(values.data(), values.size() * sizeof(float));
  file.commit();
}

}  // namespace alexnet
