// alexnet show RUN_DIR|CHECKPOINT [--data FILE.h5] [--output DIR] [options]
//
// The paper's pictures for any run: conv1's kernels per tower with their colour statistic
// (Figure 3; report/colour_statistic.h), val images with their top-5 predictions, and their
// nearest training images by Euclidean distance of fc7 features (Figure 4). Reads the checkpoint,
// the network file and the data as `alexnet eval` does (a run directory's config.toml fills what
// the command line leaves out). Everything is checked and drawn before anything is written, and
// each PNG is written atomically, so bad input leaves nothing behind.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "data/shuffle.h"
#include "report/colour_statistic.h"
#include "report/pictures.h"
#include "train/checkpoint.h"
#include "train/features.h"
#include "train/session.h"

namespace fs = std::filesystem;

namespace alexnet::cli {

namespace {

// `count` indices of [0, size) drawn without replacement, keyed by (seed, purpose).
std::vector<int64_t> choose(int64_t size, int64_t count, uint64_t seed, uint32_t purpose) {
  std::vector<int64_t> all(size);
  std::iota(all.begin(), all.end(), int64_t{0});
  philox_shuffle(all, seed, rng_subsequence(RngPurpose::kShuffle, 0xFFFC00u + purpose, 0));
  all.resize(std::min(size, count));
  return all;
}

// For each query row, the `k` rows of `base` nearest by Euclidean distance, nearest first.
std::vector<std::vector<int64_t>> nearest(const std::vector<float>& queries, const std::vector<float>& base,
                                          int64_t dim, int k) {
  const int64_t n = static_cast<int64_t>(queries.size()) / dim, m = static_cast<int64_t>(base.size()) / dim;
  std::vector<std::vector<int64_t>> result(n);
  std::vector<double> d(m);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      double sum = 0;
      for (int64_t f = 0; f < dim; ++f) {
        const double diff = double(queries[i * dim + f]) - base[j * dim + f];
        sum += diff * diff;
      }
      d[j] = sum;
    }
    std::vector<int64_t> order(m);
    std::iota(order.begin(), order.end(), int64_t{0});
    const int64_t keep = std::min<int64_t>(k, m);
    std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                      [&](int64_t a, int64_t b) { return d[a] < d[b] || (d[a] == d[b] && a < b); });
    order.resize(keep);
    result[i] = std::move(order);
  }
  return result;
}

std::string class_name(const std::vector<std::string>& classes, int32_t label) {
  return label >= 0 && label < static_cast<int32_t>(classes.size()) && !classes[label].empty()
             ? classes[label]
             : std::to_string(label);
}

}  // namespace

int show(int argc, char** argv) {
  RunConfig c;
  c.batch = 100;
  ShowFlags f;
  po::options_description desc = show_options(c, f);
  po::positional_options_description positional;
  positional.add("checkpoint", 1);
  po::variables_map vm = parse_options("show", argc, argv, desc, &positional, {});
  if (vm.count("help")) {
    print_help(
        "alexnet show RUN_DIR|CHECKPOINT [--data FILE.h5] [--output DIR] [options]\n\n"
        "Draws the paper's pictures for a checkpoint: conv1.png (conv1's kernels, one panel per tower;\n"
        "for single and dense, the halves a split would have), each kernel scaled on its own so that\n"
        "its smallest weight is black and its largest white (the paper does not say how it scaled);\n"
        "predictions.png (N images with their top-5 classes and probabilities) and neighbours.png\n"
        "(their K nearest training images by Euclidean distance of --feature-node's outputs). Prints\n"
        "each tower's colour statistic: the mean share of its kernels' energy off the grey axis\n"
        "(0 grey, 1 colour-opponent, 2/3 for random weights; docs/design.md), also written as colour.csv,\n"
        "and the gap between the towers with its permutation p-value (colour_gap.csv).\n",
        desc);
    return 0;
  }
  if (f.checkpoint.empty())
    throw UserError("show: a checkpoint file or a run directory is required (alexnet show RUN_DIR)");
  const std::string checkpoint = f.checkpoint;
  const std::string file = checkpoint_with_run_files(checkpoint, f.config, desc, vm, c);
  const ShowFlags o = f;
  std::set<std::string> pictures;
  for (const std::string& p : split_commas(o.pictures)) {
    if (p != "conv1" && p != "predictions" && p != "neighbours")
      throw UserError("--pictures: unknown picture '" + p + "' (expected conv1, predictions, neighbours)");
    pictures.insert(p);
  }
  if (pictures.empty()) throw UserError("--pictures: names no picture (conv1, predictions, neighbours)");
  if (o.images < 1 || o.images > 1000) throw UserError("--images must be between 1 and 1000");
  if (o.neighbours < 1 || o.neighbours > 100) throw UserError("--neighbours must be between 1 and 100");
  if (o.train_images < o.neighbours)
    throw UserError("--train-images must be at least --neighbours (" + std::to_string(o.neighbours) + ")");
  if (c.data.empty()) throw UserError("show: --data is required (a dataset file from alexnet pack)");
  auto data = std::make_shared<DatasetReader>(c.data);
  const bool examples = pictures.count("predictions") || pictures.count("neighbours");
  std::string split = o.split.empty() ? (data->has_split("val") ? "val" : "test") : o.split;
  if (examples && !data->has_split(split)) throw UserError(c.data + ": has no split '" + split + "'");
  if (pictures.count("neighbours") && !data->has_split("train"))
    throw UserError(c.data + ": has no train split to find neighbours in");
  const fs::path folder = fs::is_directory(checkpoint) ? fs::path(checkpoint) : fs::path(file).parent_path();
  const std::string output = !o.output.empty() ? o.output : (folder / "show").string();

  Session s = make_session(c, data);
  CheckpointTensors tensors;
  const TrainState state = read_checkpoint(file, *s.net, false, &tensors);
  apply_checkpoint(tensors, *s.net, nullptr);
  const Plan& plan = s.net->plan();
  if (pictures.count("neighbours")) node_item_shape(*s.net, o.feature_node);  // a UserError naming the nodes
  std::printf("%s (step %lld, epoch %lld), %s placement\n", file.c_str(), static_cast<long long>(state.step),
              static_cast<long long>(state.epoch), placement_name(plan.placement));

  // ---- draw everything, then write ----------------------------------------------------------
  std::vector<std::pair<std::string, cv::Mat>> out;
  std::string colour_csv, colour_gap_csv;
  if (pictures.count("conv1")) {
    // The first convolution's weight: conv1 in the paper's net and its variants.
    size_t p = 0;
    while (p < plan.params.size() && (plan.params[p].is_bias || plan.params[p].shape.rank() != 4)) ++p;
    if (p == plan.params.size()) throw UserError(plan.net.path + ": has no convolution to draw");
    const LogicalParam& w = plan.params[p];
    const int kernels = static_cast<int>(w.shape[0]), channels = static_cast<int>(w.shape[1]);
    const int kh = static_cast<int>(w.shape[2]), kw = static_cast<int>(w.shape[3]);
    const int towers = plan.logical_towers > 1 ? plan.logical_towers : std::max(c.towers, 1);
    const auto colour = tower_colour(tensors.params[p], kernels, channels, int64_t(kh) * kw, towers);
    std::printf(
        "%s colour statistic (mean share of each kernel's energy off the grey axis: 0 grey, "
        "1 colour-opponent, 2/3 for random weights):\n",
        w.name.c_str());
    if (!colour) std::printf("  n/a: one channel\n");
    std::ostringstream csv;
    csv << "tower,first_kernel,kernels,colour,share_above_two_thirds\n";
    for (int t = 0; colour && t < towers; ++t) {
      const TowerColour& tc = (*colour)[t];
      std::printf("  tower %d (kernels %d-%d): %.3f, %.0f%% of its kernels above 2/3\n", t, tc.first_kernel,
                  tc.first_kernel + tc.kernels - 1, tc.mean, 100 * tc.colourful);
      csv << t << "," << tc.first_kernel << "," << tc.kernels << "," << tc.mean << "," << tc.colourful
          << "\n";
    }
    if (colour) colour_csv = csv.str();
    if (colour && towers > 1) {
      const TowerGap g = tower_gap(tensors.params[p], kernels, channels, int64_t(kh) * kw, towers);
      std::printf(
          "  gap between towers: %.3f; p = %.3g (share of %d random splits of these kernels into "
          "towers of the same sizes whose gap is as large)\n",
          g.gap, g.p_value, g.draws);
      std::ostringstream gap;
      gap << "gap,p_value,draws\n" << g.gap << "," << g.p_value << "," << g.draws << "\n";
      colour_gap_csv = gap.str();
    }
    out.emplace_back("conv1.png", draw_kernels(tensors.params[p], kernels, channels, kh, kw, towers, colour));
  }
  if (examples) {
    const std::vector<int64_t> shown = choose(data->size(split), o.images, o.subset_seed, 0);
    if (shown.empty()) throw UserError(c.data + ": split '" + split + "' has no images");
    std::vector<cv::Mat> images;
    std::vector<int32_t> labels;
    for (int64_t i : shown) {
      images.push_back(dataset_image(*data, split, i));
      labels.push_back(data->labels(split)[i]);
    }
    std::vector<std::string> classes;  // the file's names, else the indices
    for (size_t k = 0; k < data->info().classes.size(); ++k)
      classes.push_back(class_name(data->info().classes, static_cast<int32_t>(k)));
    const std::string node = pictures.count("neighbours") ? o.feature_node : plan.nodes.back().name;
    std::vector<float> probs;
    const std::vector<float> features = node_outputs(*s.net, *data, split, shown, s.crop, node, &probs);
    if (pictures.count("predictions"))
      out.emplace_back("predictions.png", draw_predictions(images, labels, probs, classes));
    if (pictures.count("neighbours")) {
      const std::vector<int64_t> base = choose(data->size("train"), o.train_images, o.subset_seed, 1);
      const std::vector<float> base_features = node_outputs(*s.net, *data, "train", base, s.crop, node);
      const int64_t dim = static_cast<int64_t>(features.size() / shown.size());
      std::vector<std::string> query_captions;
      std::vector<std::vector<cv::Mat>> found;
      std::vector<std::vector<std::string>> captions;
      for (const std::vector<int64_t>& row : nearest(features, base_features, dim, o.neighbours)) {
        found.emplace_back();
        captions.emplace_back();
        for (int64_t j : row) {
          found.back().push_back(dataset_image(*data, "train", base[j]));
          captions.back().push_back(class_name(classes, data->labels("train")[base[j]]));
        }
      }
      for (int32_t label : labels) query_captions.push_back(class_name(classes, label));
      out.emplace_back("neighbours.png", draw_neighbours(images, query_captions, found, captions));
      std::printf("neighbours: %zu %s images against %zu train images by %s (%lld features)\n", shown.size(),
                  split.c_str(), base.size(), node.c_str(), static_cast<long long>(dim));
    }
  }
  std::error_code ec;
  fs::create_directories(output, ec);
  if (ec) throw UserError("--output " + output + ": cannot create the folder (" + ec.message() + ")");
  if (!colour_csv.empty()) write_file_atomically(output + "/colour.csv", colour_csv);
  if (!colour_gap_csv.empty()) write_file_atomically(output + "/colour_gap.csv", colour_gap_csv);
  for (const auto& [name, image] : out) {
    write_png(output + "/" + name, image);
    std::printf("wrote %s/%s (%dx%d)\n", output.c_str(), name.c_str(), image.cols, image.rows);
  }
  return 0;
}

}  // namespace alexnet::cli
