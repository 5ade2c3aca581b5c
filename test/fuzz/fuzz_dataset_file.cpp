// libFuzzer target: a dataset file whose structure the input chooses (test/fuzz/fuzzed_hdf5.h) ->
// DatasetReader, then one training batch of each split through the Loader (crop, flip, lighting),
// what `alexnet train` does with --data. A malformed file must end in UserError (exit status 2);
// any other exception, a crash, a hang, a huge allocation or a sanitizer report is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/errors.h"
#include "data/format.h"
#include "data/loader.h"
#include "fuzzed_hdf5.h"

namespace alexnet {
using h5::H5Id;

namespace {

// Writes the file the input describes: the right layout (data/format.h) for an exhausted input.
void write_dataset_file(const std::string& path, FuzzedDataProvider& in) {
  fuzzing::FuzzedHdf5 f(in);
  const hsize_t h = in.ConsumeIntegralInRange(4, 12), w = in.ConsumeIntegralInRange(4, 12);
  const hsize_t c = in.ConsumeBool() ? 3 : 1;
  const int classes = in.ConsumeIntegralInRange(2, 5);
  std::lock_guard<std::mutex> lock(hdf5_lock());
  h5::quiet_hdf5();
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  hid_t root = file.get();
  f.string_attr(root, "format", kDatasetFormat);
  f.int_attr(root, "version", kDatasetVersion);
  f.string_attr(root, "source", "fuzz");
  f.int_attr(root, "height", h);
  f.int_attr(root, "width", w);
  f.int_attr(root, "channels", c);
  f.strings(root, "classes", {hsize_t(classes)}, [](size_t i) { return "class " + std::to_string(i); });
  f.numbers(root, "mean", H5T_IEEE_F32LE, {h, w, c}, [](size_t i) { return double(i % 256); });
  f.numbers(root, "pca_eigenvalues", H5T_IEEE_F32LE, {c}, [](size_t i) { return 0.1 / (i + 1); });
  f.numbers(root, "pca_eigenvectors", H5T_IEEE_F32LE, {c, c},
            [c](size_t i) { return i % (c + 1) ? 0.0 : 1.0; });
  for (const char* name : {"train", "val", "test"}) {
    if (f.chance(3)) continue;  // a split the file does not have
    H5Id group = f.group(root, name);
    if (!group.valid()) continue;
    const hsize_t n = in.ConsumeIntegralInRange(1, 6);
    f.numbers(group.get(), "images", H5T_STD_U8LE, {n, h, w, c},
              [&](size_t) { return in.ConsumeIntegral<uint8_t>(); }, {1, h, w, c});
    f.numbers(group.get(), "labels", H5T_STD_I32LE, {n}, [&](size_t i) { return double(i % classes); }, {n});
  }
  h5::close_written_file(file, path);
}

}  // namespace
}  // namespace alexnet

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alexnet;
  static const std::string path = fuzzing::scratch_file("dataset");
  FuzzedDataProvider in(data, size);
  const bool skip_bad = in.ConsumeBool();
  write_dataset_file(path, in);
  try {
    auto reader = std::make_shared<const DatasetReader>(path);
    for (const char* split : {"train", "val", "test"}) {
      if (!reader->has_split(split)) continue;
      const DatasetInfo& info = reader->info();
      LoaderConfig config{.split = split,
                          .batch = static_cast<int>(std::clamp<int64_t>(reader->size(split), 1, 4)),
                          .crop = std::min(info.height, info.width) - 1,
                          .seed = 1,
                          .threads = 1,
                          .prefetch = 2,
                          .epochs = 1,
                          .pinned = false,
                          .skip_bad_images = skip_bad};
      Loader loader(reader, config);
      loader.next();
    }
  } catch (const UserError&) {
  }
  return 0;
}
