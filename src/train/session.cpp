#include "train/session.h"

#include "core/blas.h"
#include "core/errors.h"

namespace alexnet {

namespace {

Session build(const RunConfig& c, std::shared_ptr<const DatasetReader> data, int classes, int channels) {
  blas::set_cpu_threads(c.threads);
  Session s;
  s.data = std::move(data);
  NetworkSpec spec = load_network_file(c.net);
  PlanOptions o;
  o.placement = parse_placement(c.placement);
  o.towers = c.towers;
  if (!c.exchange.empty()) o.exchange = split_commas(c.exchange);
  s.crop = c.crop ? c.crop : spec.height;
  o.classes = classes;
  o.channels = channels;
  if (s.data) {
    const DatasetInfo& info = s.data->info();
    if (s.crop > info.height || s.crop > info.width) {
      throw UserError("crop " + std::to_string(s.crop) + " (" + (c.crop ? "--crop" : c.net + "'s input") +
                      ") is larger than the " + std::to_string(info.height) + "x" +
                      std::to_string(info.width) + " images of " + s.data->path() +
                      "; pass a smaller --crop");
    }
    o.channels = info.channels;
    o.classes = static_cast<int>(info.classes.size());
  }
  o.height = o.width = s.crop;
  Plan plan = make_plan(spec, o);
  s.devices = resolve_devices(c.devices, plan.towers);
  if (plan.towers > 1) s.comm = make_communicator(c.comm, s.devices, c.nccl_multi_rank_gpu);
  s.backend = backend_options(c);
  s.net = std::make_unique<Net>(std::move(plan), s.devices, s.comm.get(), c.batch, s.backend);
  return s;
}

}  // namespace

Session make_session(const RunConfig& config, std::shared_ptr<const DatasetReader> data) {
  return build(config, std::move(data), 0, 0);
}

Session make_session(const RunConfig& config, int classes, int channels) {
  return build(config, nullptr, classes, channels);
}

}  // namespace alexnet
