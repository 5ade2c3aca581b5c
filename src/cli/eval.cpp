// alexnet eval --checkpoint FILE.h5|RUN_DIR --data FILE.h5 [--views 1|10] [--predictions FILE.csv]
//
// Evaluates the test split when the file has one (nothing in training looked at it), else val.
// Given a run directory, evaluates its latest checkpoint with the run's own config.toml filling
// the options not given (the network file, the placement, the crop...). A checkpoint loads under
// any placement, so --placement single evaluates a split run's weights on one device. Launched as
// many processes, the replicas share the images and rank 0 reads the checkpoint and reports.
#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/errors.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/features.h"
#include "train/session.h"

namespace alexnet::cli {

int eval(int argc, char** argv) {
  RunConfig c;
  c.batch = 100;
  EvalFlags f;
  po::options_description desc = eval_options(c, f);
  po::variables_map vm = parse_options("eval", argc, argv, desc, nullptr, {});
  if (vm.count("help")) {
    print_help("alexnet eval --checkpoint FILE.h5|RUN_DIR --data FILE.h5 [options]\n", desc);
    return 0;
  }
  if (f.checkpoint.empty())
    throw UserError("eval: --checkpoint is required (a checkpoint file or a run directory)");
  const std::string file = checkpoint_with_run_files(f.checkpoint, f.config, desc, vm, c);
  const int views = f.views;
  std::string split = f.split;
  const std::string& predictions = f.predictions;
  const std::string& logits_path = f.logits;
  const std::vector<std::string> features = f.features;  // NODE FILE.npy
  if (!features.empty() && features.size() != 2)
    throw UserError("--features takes a node and a file: --features relu7 FILE.npy");
  if (!logits_path.empty() && views != 1) throw UserError("--logits is for the centre crop (--views 1)");
  if (c.data.empty()) throw UserError("eval: --data is required (a dataset file from alexnet pack)");
  auto data = std::make_shared<DatasetReader>(c.data);
  if (split.empty()) split = data->has_split("test") ? "test" : "val";
  if (!data->has_split(split)) throw UserError(c.data + ": has no split '" + split + "'");
  if (views == 10 && c.batch % 10) c.batch = (c.batch / 10 + 1) * 10;
  Session s = make_session(c, data, resolve_processes(f.processes));
  agree_on_configuration(s, to_toml(c));
  if (!features.empty() && s.many()) throw UserError("--features: run eval as one process");
  if (!features.empty()) node_item_shape(*s.net, features[0]);  // UserError naming the nodes
  // Rank 0 reads the checkpoint and sends it to the others.
  CheckpointTensors tensors;
  std::string bytes;
  on_leader(s, [&] {
    read_checkpoint(file, *s.net, false, &tensors);
    if (s.many()) bytes = encode_checkpoint({}, tensors);
  });
  if (s.many()) {
    from_leader(s, bytes);
    decode_checkpoint(bytes, &tensors);
  }
  apply_checkpoint(tensors, *s.net, nullptr);
  std::vector<Prediction> rows;
  std::vector<float> logits;
  EvalResult r =
      evaluate(*s.net, data, split, views, s.crop, c.loader_threads, predictions.empty() ? nullptr : &rows,
               logits_path.empty() ? nullptr : &logits, EvalShare{s.shards(), s.shard(), s.world.get()});
  if (!s.leader()) return 0;  // rank 0 reports for all
  std::printf("%s on %lld %s images (%s, %s): top-1 error %.2f%%, top-5 error %.2f%%, loss %.4f\n",
              file.c_str(), static_cast<long long>(r.images), split.c_str(),
              views == 10 ? "10 views" : "centre crop", placement_name(s.net->plan().placement),
              r.top1_error * 100, r.top5_error * 100, r.loss);
  if (!predictions.empty()) write_predictions(predictions, rows, data->info().classes);
  if (!logits_path.empty())
    write_npy(logits_path, logits,
              {static_cast<int64_t>(logits.size() / data->info().classes.size()),
               static_cast<int64_t>(data->info().classes.size())});
  if (!features.empty()) write_node_outputs(*s.net, *data, split, s.crop, features[0], features[1]);
  return 0;
}

}  // namespace alexnet::cli
