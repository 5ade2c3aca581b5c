// Dataset format version 2: Fletcher-32 on every image and label chunk, so that bytes flipped on
// disk fail the read of their chunk (naming the file, split and image) instead of training on
// wrong pixels; the loader stops there, or skips and counts with skip_bad_images. Version 1 files
// (no checksums) still read.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <array>
#include <fstream>
#include <set>

#include "core/errors.h"
#include "data/format.h"
#include "data/loader.h"
#include "data_testing.h"

namespace alexnet {
namespace {

using testing::TempDir;

// Where chunk `coordinate` of `dataset` lies in the file: (offset, bytes).
std::pair<haddr_t, hsize_t> chunk_location(const std::string& path, const std::string& dataset,
                                           const std::vector<hsize_t>& coordinate) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  unsigned mask = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t size = 0;
  herr_t rc = H5Dget_chunk_info_by_coord(d, coordinate.data(), &mask, &address, &size);
  H5Dclose(d);
  H5Fclose(f);
  EXPECT_GE(rc, 0);
  EXPECT_NE(address, HADDR_UNDEF);
  return {address, size};
}

// Inverts a few bytes in the middle of the chunk, as a bad sector or a stray write would.
void damage_chunk(const std::string& path, const std::string& dataset,
                  const std::vector<hsize_t>& coordinate) {
  auto [address, size] = chunk_location(path, dataset, coordinate);
  ASSERT_GT(size, 8u);
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::array<char, 4> bytes{};
  file.seekg(static_cast<std::streamoff>(address + size / 2));
  file.read(bytes.data(), bytes.size());
  for (char& b : bytes) b = static_cast<char>(~b);
  file.seekp(static_cast<std::streamoff>(address + size / 2));
  file.write(bytes.data(), bytes.size());
  ASSERT_TRUE(file.good());
}

bool has_fletcher32(const std::string& path, const std::string& dataset) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  hid_t props = H5Dget_create_plist(d);
  unsigned flags = 0;
  size_t n = 0;
  const bool found =
      H5Pget_filter_by_id2(props, H5Z_FILTER_FLETCHER32, &flags, &n, nullptr, 0, nullptr, nullptr) >= 0;
  H5Pclose(props);
  H5Dclose(d);
  H5Fclose(f);
  return found;
}

bool image_is(const DatasetReader& data, const std::string& split, int64_t i, int salt) {
  const DatasetInfo& info = data.info();
  std::vector<uint8_t> image(size_t(info.height) * info.width * info.channels);
  data.read_image(split, i, image.data());
  for (int y = 0; y < info.height; ++y)
    for (int x = 0; x < info.width; ++x)
      for (int c = 0; c < info.channels; ++c)
        if (image[(y * info.width + x) * info.channels + c] != testing::test_pixel(i, y, x, c, salt))
          return false;
  return true;
}

TEST(DatasetChecksums, VersionTwoChecksumsImagesAndLabels) {
  TempDir dir;
  testing::write_test_dataset(dir.file("d.h5"), 12, 3, 4, {{"train", 10}, {"val", 4}});
  EXPECT_EQ(kDatasetVersion, 2);
  EXPECT_EQ(DatasetReader(dir.file("d.h5")).version(), 2);
  for (const char* set : {"train/images", "train/labels", "val/images", "val/labels"})
    EXPECT_TRUE(has_fletcher32(dir.file("d.h5"), set)) << set;
}

TEST(DatasetChecksums, VersionOneFilesWithoutChecksumsStillRead) {
  TempDir dir;
  testing::write_test_dataset(dir.file("v1.h5"), 12, 3, 4, {{"train", 10}, {"val", 4}}, 1);
  EXPECT_FALSE(has_fletcher32(dir.file("v1.h5"), "train/images"));
  DatasetReader data(dir.file("v1.h5"));
  EXPECT_EQ(data.version(), 1);
  EXPECT_EQ(data.size("train"), 10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(image_is(data, "train", i, 0)) << i;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(image_is(data, "val", i, 11)) << i;
  EXPECT_EQ(data.labels("val")[3], 3);
}

TEST(DatasetChecksums, ADamagedImageFailsItsReadNamingFileSplitAndIndex) {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  testing::write_test_dataset(path, 12, 3, 4, {{"train", 10}, {"val", 4}});
  damage_chunk(path, "train/images", {6, 0, 0, 0});
  DatasetReader data(path);
  std::vector<uint8_t> image(12 * 12 * 3);
  ::testing::internal::CaptureStderr();
  try {
    data.read_image("train", 6, image.data());
    ADD_FAILURE() << "a damaged chunk read back without error";
  } catch (const DamagedImage& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("image 6 of split 'train'"), std::string::npos) << what;
    EXPECT_NE(what.find("Fletcher32"), std::string::npos) << what;  // HDF5's reason
    EXPECT_EQ(e.split(), "train");
    EXPECT_EQ(e.index(), 6);
  }
  // HDF5's own error stack stays off the terminal.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // The neighbours, in their own chunks, are intact.
  for (int i : {0, 5, 7, 9}) EXPECT_TRUE(image_is(data, "train", i, 0)) << i;
}

TEST(DatasetChecksums, DamagedLabelsRefuseTheFileNamingTheDataset) {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  testing::write_test_dataset(path, 12, 3, 4, {{"train", 10}, {"val", 4}});
  damage_chunk(path, "val/labels", {0});
  ::testing::internal::CaptureStderr();
  try {
    DatasetReader data(path);
    ADD_FAILURE() << "damaged labels read back without error";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("val/labels"), std::string::npos) << what;
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

LoaderConfig train_config(int threads, bool skip) {
  LoaderConfig c;
  c.batch = 8;
  c.crop = 10;
  c.seed = 5;
  c.threads = threads;
  c.prefetch = 3;
  c.skip_bad_images = skip;
  return c;
}

TEST(DatasetChecksums, TheLoaderStopsAtADamagedImageNamingIt) {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  testing::write_test_dataset(path, 12, 3, 4, {{"train", 40}});
  damage_chunk(path, "train/images", {13, 0, 0, 0});
  Loader loader(std::make_shared<DatasetReader>(path), train_config(2, false));
  ::testing::internal::CaptureStderr();
  try {
    for (int k = 0; k < 5; ++k) loader.next();  // one epoch visits image 13
    ADD_FAILURE() << "an epoch over a damaged image went through";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("image 13 of split 'train'"), std::string::npos) << what;
    EXPECT_NE(what.find("--skip-bad-images"), std::string::npos) << what;
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

// Each epoch replaces image 13 once: batches stay full, hold no damaged image, and are the same
// whatever the thread count.
TEST(DatasetChecksums, SkipBadImagesReplacesAndCountsThem) {
  TempDir dir;
  const std::string path = dir.file("d.h5");
  testing::write_test_dataset(path, 12, 3, 4, {{"train", 40}});
  damage_chunk(path, "train/images", {13, 0, 0, 0});
  auto data = std::make_shared<DatasetReader>(path);
  ::testing::internal::CaptureStderr();
  Loader one(data, train_config(1, true)), three(data, train_config(3, true));
  for (int epoch = 0; epoch < 2; ++epoch) {
    int bad = 0;
    std::set<int64_t> seen;
    for (int k = 0; k < 5; ++k) {
      const Batch* a = one.next();
      const Batch* b = three.next();
      ASSERT_EQ(a->items, 8);
      ASSERT_EQ(a->indices, b->indices);
      ASSERT_EQ(std::vector<float>(a->images, a->images + a->shape.numel()),
                std::vector<float>(b->images, b->images + b->shape.numel()));
      EXPECT_EQ(a->bad_images, b->bad_images);
      EXPECT_EQ(a->bad_image_notes.size(), static_cast<size_t>(a->bad_images));
      for (const std::string& note : a->bad_image_notes)
        EXPECT_NE(note.find("image 13 of split 'train'"), std::string::npos) << note;
      bad += a->bad_images;
      for (int i = 0; i < a->items; ++i) EXPECT_EQ(a->labels[i], a->indices[i] % 4);
      seen.insert(a->indices.begin(), a->indices.end());
    }
    EXPECT_EQ(bad, 1) << "epoch " << epoch;
    EXPECT_EQ(seen.count(13), 0u);
    EXPECT_EQ(seen.size(), 39u);  // the substitute appears twice
  }
  // The workers' failed reads print nothing of HDF5's; next() logs each replacement once.
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("HDF5-DIAG"), std::string::npos) << err;
}

}  // namespace
}  // namespace alexnet
