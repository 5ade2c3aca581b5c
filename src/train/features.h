// Any node's output for chosen images of a split, on the centre crop as `alexnet eval` sees them:
// the fc7 features of the paper's Figure 4 (`alexnet show`), and `alexnet eval --features NODE
// FILE.npy` for users' own analysis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/format.h"

namespace alexnet {

class Net;

// The logical shape of one item of node `name`'s output ([C, H, W] or [F]), whatever the
// placement. Throws UserError naming the network file and listing the nodes when there is none.
std::vector<int64_t> node_item_shape(const Net& net, const std::string& name);

// The outputs of node `name` (row i: image indices[i], node_item_shape floats) and, when `probs`
// is given, the loss node's class probabilities (row i: classes floats), running the net in test
// mode in batches of net.batch(). One process holding every tower.
std::vector<float> node_outputs(Net& net, const DatasetReader& data, const std::string& split,
                                const std::vector<int64_t>& indices, int crop, const std::string& name,
                                std::vector<float>* probs = nullptr);

// `alexnet eval --features NODE FILE.npy`: node_outputs over the whole split, written as float32
// [images, item shape...] in split order.
void write_node_outputs(Net& net, const DatasetReader& data, const std::string& split, int crop,
                        const std::string& name, const std::string& path);

// Writes float32 values of shape `shape` (C order) as a NumPy .npy file, atomically.
void write_npy(const std::string& path, const std::vector<float>& values, const std::vector<int64_t>& shape);

}  // namespace alexnet
