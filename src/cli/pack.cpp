// alexnet pack --source fashion-mnist|cifar10|folder [--input DIR] --output FILE.h5 [options]
#include "data/pack.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/errors.h"
#include "data/sources.h"

namespace po = boost::program_options;

namespace alexnet::cli {

int pack(int argc, char** argv) {
  PackOptions o;
  po::options_description options(
      "alexnet pack --source SOURCE [--input DIR] --output FILE.h5 [options]\n\n"
      "Packs images into the HDF5 dataset file the trainer reads. Sources:\n"
      "  fashion-mnist  the idx files of Debian's dataset-fashion-mnist (default --input " +
      std::string(kFashionMnistDir) +
      ")\n"
      "  cifar10        CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin)\n"
      "  folder         DIR/train/<class>/<image>, and DIR/val/<class>/<image> or --val-list\n\n"
      "options");
  options.add_options()("help,h", "print this help")(
      "source", po::value(&o.source), "fashion-mnist, cifar10 or folder")("input", po::value(&o.input),
                                                                          "the source's folder")(
      "val-list", po::value(&o.val_list), "folder source: lines '<path under DIR/val> <class>'")(
      "output,o", po::value(&o.output), "the dataset file to write")(
      "size", po::value(&o.size)->default_value(0), "output height and width (0: native; 256 for folder)")(
      "channels", po::value(&o.channels)->default_value(0), "1 or 3 (0: the source's)")(
      "per-class", po::value(&o.per_class)->default_value(0),
      "keep the first N images per class and split (0: all)")(
      "val", po::value(&o.val)->default_value(-1, "a twelfth of train"),
      "train images held out as the val split, drawn by --seed (0: none; a folder source brings its own)")(
      "shuffle", bool_flag(o.shuffle), "store each split in a seeded random order")(
      "seed", po::value(&o.seed)->default_value(0), "seed for the val draw and --shuffle")(
      "strict", bool_flag(o.strict), "fail on an undecodable image instead of skipping it")(
      "colourise", po::value<uint64_t>(),
      "SEED: tint each image (made grey) with a hue drawn around a class-specific centre, giving "
      "three channels; a synthetic stand-in for colour data (docs/design.md)")(
      "force", bool_flag(o.force), "replace an existing output file")(
      "threads", po::value(&o.threads)->default_value(0), "decoding threads (0: all cores)")(
      "no-progress", "no progress line");
  po::variables_map vm;
  try {
    std::vector<std::string> args;
    if (argc > 1) args.assign(argv + 1, argv + argc);
    po::store(po::command_line_parser(join_boolean_values(std::move(args), options)).options(options).run(),
              vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UserError("pack: " + option_error_text(e));
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  if (vm.count("colourise")) o.colourise = vm["colourise"].as<uint64_t>();
  if (o.source.empty()) throw UserError("pack: --source is required (fashion-mnist, cifar10 or folder)");
  o.progress = !vm.count("no-progress") && isatty(STDERR_FILENO);
  PackReport report = pack_dataset(o);
  std::printf("wrote %s:", o.output.c_str());
  for (auto& [split, n] : report.written) std::printf(" %s %lld", split.c_str(), static_cast<long long>(n));
  std::printf(" images in %.1f s", report.seconds);
  if (report.skipped)
    std::printf(" (%lld undecodable images skipped)", static_cast<long long>(report.skipped));
  std::printf("\n");
  return 0;
}

}  // namespace alexnet::cli
