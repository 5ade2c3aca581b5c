// What a dataset or checkpoint file declares is checked before our readers read or allocate by it
// (the checks tools/fuzz.sh's dataset_file and checkpoint_file targets exercise): an attribute
// that is an array where one value belongs (HDF5 would write every element into the one value),
// sizes far beyond any dataset, a dataset declared but never written (HDF5 hands back fill
// values), values that are not finite, counters that would index before a stream's start. Each
// is one UserError naming the file and what is wrong.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <limits>
#include <mutex>

#include "core/errors.h"
#include "core/hdf5.h"
#include "data/format.h"
#include "data_testing.h"
#include "net/net_testing.h"
#include "train/checkpoint.h"

namespace alexnet {
namespace {

using h5::H5Id;
using testing::TempDir;

using testing::error_of;

// Opens `path` for writing and hands its root to `edit`.
void edit_file(const std::string& path, const std::function<void(hid_t)>& edit) {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  ASSERT_TRUE(file.valid()) << path;
  edit(file.get());
}

void replace_with_array_attr(hid_t obj, const char* name) {
  H5Adelete(obj, name);
  const hsize_t n = 3;
  const int64_t values[3] = {8, 8, 8};
  H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5Id attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  ASSERT_GE(H5Awrite(attr.get(), H5T_NATIVE_INT64, values), 0);
}

std::string dataset_error(const std::function<void(hid_t)>& edit) {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  testing::write_test_dataset(path, 8, 1, 3, {{"train", 6}});
  edit_file(path, edit);
  const std::string why = error_of([&] { DatasetReader reader(path); });
  EXPECT_EQ(why.rfind(path + ": ", 0), 0u) << why;
  return why;
}

TEST(FileStructure, AnArrayAttributeWhereOneValueBelongsIsRefused) {
  const std::string why = dataset_error([](hid_t root) { replace_with_array_attr(root, "height"); });
  EXPECT_NE(why.find("attribute 'height' holds 3 values, expected one"), std::string::npos) << why;
}

TEST(FileStructure, ImageSizesBeyondAnyDatasetAreRefused) {
  const std::string why =
      dataset_error([](hid_t root) { h5::write_int_attr(root, "width", int64_t{1} << 40); });
  EXPECT_NE(why.find("'width' = 1099511627776 is outside 1..16384"), std::string::npos) << why;
}

// Declares `name` afresh as `dims` of `type`, never written.
void declare_unwritten(hid_t root, const char* name, hid_t type, const std::vector<hsize_t>& dims) {
  ASSERT_GE(H5Ldelete(root, name, H5P_DEFAULT), 0);
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Id set(H5Dcreate2(root, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  ASSERT_TRUE(set.valid());
}

TEST(FileStructure, ADatasetDeclaredButNeverWrittenIsRefused) {
  const std::string why =
      dataset_error([](hid_t root) { declare_unwritten(root, "train/labels", H5T_STD_I32LE, {6}); });
  EXPECT_NE(why.find("/train/labels declares 24 bytes but stores 0"), std::string::npos) << why;
}

TEST(FileStructure, ASplitDeclaredFarLargerThanTheFileIsRefusedBeforeAllocating) {
  // A billion images and labels declared, none stored: 4 GB of labels would be allocated.
  const std::string why = dataset_error([](hid_t root) {
    declare_unwritten(root, "train/images", H5T_STD_U8LE, {1'000'000'000, 8, 8, 1});
    declare_unwritten(root, "train/labels", H5T_STD_I32LE, {1'000'000'000});
  });
  EXPECT_NE(why.find("/train/images declares 64000000000 bytes but stores 0"), std::string::npos) << why;
}

TEST(FileStructure, ClassNamesThatAreNotStringsAreRefused) {
  const std::string why = dataset_error([](hid_t root) {
    ASSERT_GE(H5Ldelete(root, "classes", H5P_DEFAULT), 0);
    h5::write_floats(root, "classes", {1, 2, 3}, {3});
  });
  EXPECT_NE(why.find("/classes does not hold variable-length strings"), std::string::npos) << why;
}

TEST(FileStructure, AMeanImageThatIsNotFiniteIsRefused) {
  const std::string why = dataset_error([](hid_t root) {
    H5Id set(H5Dopen2(root, "mean", H5P_DEFAULT), H5Dclose);
    std::vector<float> mean(8 * 8, 100.0f);
    mean[5] = std::numeric_limits<float>::quiet_NaN();
    ASSERT_GE(H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, mean.data()), 0);
  });
  EXPECT_NE(why.find("/mean[5] is not finite"), std::string::npos) << why;
}

// A checkpoint of a single-tower alexnet-mini, edited by `edit`, then loaded.
std::string checkpoint_error(const std::function<void(hid_t)>& edit) {
  TempDir dir;
  const std::string path = dir.file("step-1.h5");
  testing::PlacedNet placed = testing::place({.placement = Placement::kSingle, .batch = 2});
  save_checkpoint(path, *placed.net, nullptr, TrainState{.step = 1});
  edit_file(path, edit);
  const std::string why = error_of([&] { load_checkpoint(path, *placed.net, nullptr); });
  EXPECT_EQ(why.rfind(path + ": ", 0), 0u) << why;
  return why;
}

TEST(FileStructure, ACheckpointWithAnArrayCounterIsRefused) {
  const std::string why = checkpoint_error([](hid_t root) { replace_with_array_attr(root, "position"); });
  EXPECT_NE(why.find("attribute 'position' holds 3 values, expected one"), std::string::npos) << why;
}

TEST(FileStructure, ACheckpointWithANegativePositionIsRefused) {
  const std::string why = checkpoint_error([](hid_t root) { h5::write_int_attr(root, "position", -4); });
  EXPECT_NE(why.find("negative counters"), std::string::npos) << why;
  EXPECT_NE(why.find("position -4"), std::string::npos) << why;
}

TEST(FileStructure, ACheckpointWithANonFiniteRateIsRefused) {
  const std::string why = checkpoint_error(
      [](hid_t root) { h5::write_double_attr(root, "lr", std::numeric_limits<double>::infinity()); });
  EXPECT_NE(why.find("learning rate inf is not a rate"), std::string::npos) << why;
}

}  // namespace
}  // namespace alexnet
