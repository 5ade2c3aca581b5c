// A session: the placed, allocated network that `train`, `eval` and `time` all start from, with
// its devices and the communicator between its towers. The network file is read and the net is
// built exactly once here.
#pragma once

#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "data/format.h"
#include "net/net.h"
#include "train/run_config.h"

namespace alexnet {

struct Session {
  std::shared_ptr<const DatasetReader> data;  // null for `time`, which needs no dataset
  std::vector<Device> devices;
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Net> net;
  BackendOptions backend;
  int crop = 0;  // the input's height and width
};

// With a dataset: its channels and classes size the net, and the crop must fit its images.
Session make_session(const RunConfig& config, std::shared_ptr<const DatasetReader> data);

// Without one: `classes` and `channels` override the network file's where not 0.
Session make_session(const RunConfig& config, int classes, int channels);

}  // namespace alexnet
