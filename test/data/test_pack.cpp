// Packing: a folder tree with real JPEG and PNG files, CIFAR-10 batches, Fashion-MNIST's idx
// files, and the bad inputs each can hold.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <zlib.h>

#include <fstream>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/image_codec.h"
#include "data/format.h"
#include "data/pack.h"
#include "data/sources.h"
#include "data_testing.h"

namespace alexnet {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A 32x32 RGB image with a pattern that depends on `seed`.
cv::Mat pattern(int seed) {
  cv::Mat rgb(32, 32, CV_8UC3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c)
        rgb.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>((seed * 40 + y * 5 + x * 3 + c * 70) % 256);
  return rgb;
}

Pixels pixels_of(const cv::Mat& rgb) {
  return {rgb.rows, rgb.cols, rgb.channels(),
          std::vector<uint8_t>(rgb.data, rgb.data + rgb.total() * rgb.elemSize())};
}

// Encoded by its extension: .png by libpng, .jpg by libjpeg-turbo (quality 95).
std::vector<uint8_t> encode(const std::string& ext, const cv::Mat& rgb) {
  return ext == ".png" ? encode_png(pixels_of(rgb)) : encode_jpeg(pixels_of(rgb), 95);
}

void write_image(const fs::path& path, const cv::Mat& rgb) {
  fs::create_directories(path.parent_path());
  const std::vector<uint8_t> bytes = encode(path.extension().string(), rgb);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(fs::file_size(path) == bytes.size()) << path;
}

cv::Mat decoded(const fs::path& path) {  // the file's pixels, decoded on their own, as RGB
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes);
}

// train/cat: a.jpg, b.png; train/dog: c.png, d.jpg; val/cat/e.png; val/dog/f.jpg
void make_tree(const fs::path& root) {
  write_image(root / "train/cat/a.jpg", pattern(1));
  write_image(root / "train/cat/b.png", pattern(2));
  write_image(root / "train/dog/c.png", pattern(3));
  write_image(root / "train/dog/d.jpg", pattern(4));
  write_image(root / "val/cat/e.png", pattern(5));
  write_image(root / "val/dog/f.jpg", pattern(6));
}

PackOptions folder_options(const fs::path& root, const std::string& out) {
  PackOptions o;
  o.source = "folder";
  o.input = root.string();
  o.output = out;
  o.size = 32;
  o.progress = false;
  return o;
}

std::vector<uint8_t> image_of(const DatasetReader& r, const std::string& split, int64_t i) {
  const DatasetInfo& info = r.info();
  std::vector<uint8_t> v(size_t(info.height) * info.width * info.channels);
  r.read_image(split, i, v.data());
  return v;
}

std::vector<uint8_t> bytes_of(const cv::Mat& m) {
  return std::vector<uint8_t>(m.data, m.data + m.total() * m.elemSize());
}

TEST(Pack, FolderRoundTripWithRealJpegAndPng) {
  TempDir dir;
  make_tree(dir.path() / "tree");
  PackReport report = pack_dataset(folder_options(dir.path() / "tree", dir.file("out.h5")));
  EXPECT_EQ(report.skipped, 0);
  DatasetReader r(dir.file("out.h5"));
  EXPECT_EQ(r.info().classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(r.info().channels, 3);
  ASSERT_EQ(r.size("train"), 4);
  ASSERT_EQ(r.size("val"), 2);
  EXPECT_EQ(r.labels("train"), (std::vector<int32_t>{0, 0, 1, 1}));
  // PNG is lossless: the very pixels come back. JPEG: exactly what the decoder gives.
  EXPECT_EQ(image_of(r, "train", 1), bytes_of(pattern(2)));
  EXPECT_EQ(image_of(r, "train", 0), bytes_of(decoded(dir.path() / "tree/train/cat/a.jpg")));
  EXPECT_EQ(image_of(r, "val", 1), bytes_of(decoded(dir.path() / "tree/val/dog/f.jpg")));
  // The mean image is the train split's.
  std::vector<double> mean(32 * 32 * 3, 0.0);
  for (int i = 0; i < 4; ++i) {
    std::vector<uint8_t> img = image_of(r, "train", i);
    for (size_t k = 0; k < mean.size(); ++k) mean[k] += img[k] / 4.0;
  }
  for (size_t k = 0; k < mean.size(); k += 97) EXPECT_NEAR(r.info().mean[k], mean[k], 1e-3) << k;
  EXPECT_GE(r.info().pca_eigenvalues[0], r.info().pca_eigenvalues[1]);
  EXPECT_GE(r.info().pca_eigenvalues[1], r.info().pca_eigenvalues[2]);
}

TEST(Pack, FolderRescalesTheShortSideAndCropsTheCentre) {
  TempDir dir;
  // 40 wide, 20 high: scaled by 1.6 to 64x32 for size 32, then columns 16..47 are kept. A white
  // band at columns 15..24 lands at 24..39 scaled, 8..23 in the crop.
  cv::Mat wide(20, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  wide(cv::Rect(15, 0, 10, 20)).setTo(cv::Scalar(255, 255, 255));
  write_image(dir.path() / "tree/train/a/wide.png", wide);
  pack_dataset(folder_options(dir.path() / "tree", dir.file("out.h5")));
  DatasetReader r(dir.file("out.h5"));
  std::vector<uint8_t> img = image_of(r, "train", 0);
  EXPECT_GT(img[(16 * 32 + 16) * 3], 200);
  EXPECT_LT(img[(16 * 32 + 2) * 3], 60);
  EXPECT_LT(img[(16 * 32 + 29) * 3], 60);
}

TEST(Pack, ValListFileGivesTheLabels) {
  TempDir dir;
  make_tree(dir.path() / "tree");
  write_image(dir.path() / "tree/val/flat1.png", pattern(7));
  write_image(dir.path() / "tree/val/flat2.png", pattern(8));
  std::ofstream(dir.file("val.txt")) << "flat1.png dog\nflat2.png 0\n";
  PackOptions o = folder_options(dir.path() / "tree", dir.file("out.h5"));
  o.val_list = dir.file("val.txt");
  pack_dataset(o);
  DatasetReader r(dir.file("out.h5"));
  EXPECT_EQ(r.labels("val"), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(image_of(r, "val", 0), bytes_of(pattern(7)));

  std::ofstream(dir.file("bad.txt")) << "flat1.png horse\n";
  o.val_list = dir.file("bad.txt");
  o.force = true;
  try {
    pack_dataset(o);
    ADD_FAILURE() << "an unknown class in the val list was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:1: 'horse'"), std::string::npos) << e.what();
  }
}

TEST(Pack, CorruptAndTruncatedImagesAreSkippedAndNamed) {
  TempDir dir;
  make_tree(dir.path() / "tree");
  std::ofstream(dir.path() / "tree/train/dog/garbage.jpg") << "this is not an image";
  std::ifstream jpeg(dir.path() / "tree/train/cat/a.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(jpeg)), std::istreambuf_iterator<char>());
  std::ofstream(dir.path() / "tree/train/cat/truncated.jpg", std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  std::ifstream png(dir.path() / "tree/train/cat/b.png", std::ios::binary);
  std::string png_bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
  std::ofstream(dir.path() / "tree/train/dog/truncated.png", std::ios::binary)
      << png_bytes.substr(0, png_bytes.size() / 2);

  PackReport report = pack_dataset(folder_options(dir.path() / "tree", dir.file("out.h5")));
  EXPECT_EQ(report.skipped, 3);
  EXPECT_EQ(DatasetReader(dir.file("out.h5")).size("train"), 4);

  PackOptions strict = folder_options(dir.path() / "tree", dir.file("strict.h5"));
  strict.strict = true;
  try {
    pack_dataset(strict);
    ADD_FAILURE() << "--strict accepted a corrupt image";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.jpg"), std::string::npos) << e.what();
  }
  // The failed pack leaves neither the output nor its partial file.
  EXPECT_FALSE(fs::exists(dir.file("strict.h5")));
  EXPECT_FALSE(fs::exists(dir.file("strict.h5.partial")));
}

TEST(Pack, BadFoldersAndExistingOutputAreClearErrors) {
  TempDir dir;
  auto message = [](const PackOptions& o) -> std::string {
    try {
      pack_dataset(o);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message(folder_options(dir.path() / "missing", dir.file("o.h5"))).find("no such folder"),
            std::string::npos);
  fs::create_directories(dir.path() / "empty/train");
  EXPECT_NE(message(folder_options(dir.path() / "empty", dir.file("o.h5"))).find("no class folders"),
            std::string::npos);
  make_tree(dir.path() / "tree");
  std::ofstream(dir.file("exists.h5")) << "keep me";
  EXPECT_NE(message(folder_options(dir.path() / "tree", dir.file("exists.h5")))
                .find("already exists; pass --force"),
            std::string::npos);
  std::ifstream kept(dir.file("exists.h5"));
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>()), "keep me");
}

TEST(Pack, SubsetShuffleAndChannels) {
  TempDir dir;
  make_tree(dir.path() / "tree");
  PackOptions o = folder_options(dir.path() / "tree", dir.file("out.h5"));
  o.per_class = 1;
  o.channels = 1;
  o.size = 16;
  pack_dataset(o);
  DatasetReader r(dir.file("out.h5"));
  EXPECT_EQ(r.size("train"), 2);
  EXPECT_EQ(r.labels("train"), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(r.info().channels, 1);
  EXPECT_EQ(r.info().height, 16);
  EXPECT_NE(r.info().source.find("first 1 per class"), std::string::npos);

  // Shuffling keeps the multiset of labels and is reproducible from its seed.
  std::vector<int32_t> orders[2];
  for (int k = 0; k < 2; ++k) {
    PackOptions s = folder_options(dir.path() / "tree", dir.file("s" + std::to_string(k) + ".h5"));
    s.shuffle = true;
    s.seed = 5;
    pack_dataset(s);
    orders[k] = DatasetReader(s.output).labels("train");
  }
  EXPECT_EQ(orders[0], orders[1]);
  std::sort(orders[0].begin(), orders[0].end());
  EXPECT_EQ(orders[0], (std::vector<int32_t>{0, 0, 1, 1}));
}

// CIFAR-10 records: label byte, then the R, G and B planes.
void write_cifar(const fs::path& dir, int records_per_file) {
  fs::create_directories(dir);
  auto write = [&](const std::string& name, int salt) {
    std::ofstream out(dir / name, std::ios::binary);
    for (int r = 0; r < records_per_file; ++r) {
      out.put(static_cast<char>((r + salt) % 10));
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p) out.put(static_cast<char>((p + c * 85 + r + salt) % 256));
    }
  };
  for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", i);
  write("test_batch.bin", 0);
}

TEST(Pack, Cifar10PlanesBecomeRgbPixels) {
  TempDir dir;
  write_cifar(dir.path() / "cifar", 3);
  PackOptions o;
  o.source = "cifar10";
  o.input = (dir.path() / "cifar").string();
  o.output = dir.file("c.h5");
  o.progress = false;
  o.val = 0;
  pack_dataset(o);
  DatasetReader r(o.output);
  EXPECT_EQ(r.size("train"), 15);
  EXPECT_FALSE(r.has_split("val"));
  EXPECT_EQ(r.size("test"), 3);
  EXPECT_EQ(r.info().classes[0], "airplane");
  EXPECT_EQ(r.labels("train")[0], 1);  // record 0 of data_batch_1
  std::vector<uint8_t> img = image_of(r, "train", 0);
  for (int p : {0, 5, 1023})
    for (int c = 0; c < 3; ++c) EXPECT_EQ(img[p * 3 + c], (p + c * 85 + 0 + 1) % 256) << p << "," << c;

  std::ofstream(dir.path() / "cifar/test_batch.bin", std::ios::binary | std::ios::app) << "xx";
  o.force = true;
  EXPECT_THROW(pack_dataset(o), UserError);
}

// The pixels of every image of a split, one string per image, in stored order.
std::vector<std::string> images_of(const DatasetReader& r, const std::string& split) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < r.size(split); ++i) {
    std::vector<uint8_t> img = image_of(r, split, i);
    out.emplace_back(img.begin(), img.end());
  }
  return out;
}

// The val split is held out of train: train and val together are the source's train images,
// each once, both in source order; the draw is fixed by the seed; the test split is untouched.
TEST(Pack, ValIsHeldOutOfTrainBySeed) {
  TempDir dir;
  write_cifar(dir.path() / "cifar", 4);  // 20 train images, all different
  auto pack_with = [&](int64_t val, uint64_t seed, const std::string& name) {
    PackOptions o;
    o.source = "cifar10";
    o.input = (dir.path() / "cifar").string();
    o.output = dir.file(name);
    o.progress = false;
    o.val = val;
    o.seed = seed;
    pack_dataset(o);
    return o.output;
  };
  DatasetReader all(pack_with(0, 0, "all.h5"));
  const std::vector<std::string> source = images_of(all, "train");
  DatasetReader a(pack_with(6, 3, "a.h5")), b(pack_with(6, 3, "b.h5")), c(pack_with(6, 4, "c.h5"));
  ASSERT_EQ(a.size("train"), 14);
  ASSERT_EQ(a.size("val"), 6);
  EXPECT_EQ(images_of(a, "test"), images_of(all, "test"));
  const std::vector<std::string> train = images_of(a, "train"), val = images_of(a, "val");
  // Merging the two by source position gives back the source, so they partition it in order.
  std::vector<std::string> merged;
  size_t t = 0, v = 0;
  for (const std::string& image : source) {
    if (t < train.size() && train[t] == image)
      merged.push_back(train[t++]);
    else if (v < val.size() && val[v] == image)
      merged.push_back(val[v++]);
  }
  EXPECT_EQ(merged, source);
  EXPECT_EQ(images_of(b, "val"), val);
  EXPECT_NE(images_of(c, "val"), val);
  EXPECT_NE(a.info().source.find("val = 6 train images held out with seed 3"), std::string::npos)
      << a.info().source;
  // The default holds out a twelfth: 1 of 20.
  DatasetReader d(pack_with(-1, 0, "d.h5"));
  EXPECT_EQ(d.size("train"), 19);
  EXPECT_EQ(d.size("val"), 1);

  try {
    pack_with(20, 0, "e.h5");
    ADD_FAILURE() << "--val 20 of 20 train images was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--val 20 would leave no train images"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.file("e.h5")));
}

TEST(Pack, FolderSourceKeepsItsOwnVal) {
  TempDir dir;
  make_tree(dir.path() / "tree");
  PackOptions o = folder_options(dir.path() / "tree", dir.file("out.h5"));
  o.val = 1;
  try {
    pack_dataset(o);
    ADD_FAILURE() << "--val with a folder that has a val split was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("has its own val split"), std::string::npos) << e.what();
  }
}

// Reads byte `at` of a gzip'd file, independently of the packer.
std::vector<uint8_t> gz_bytes(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  return out;
}

TEST(Pack, FashionMnistFromDebiansPackage) {
  if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (tools/setup.sh installs it)";
  }
  TempDir dir;
  PackOptions o;
  o.source = "fashion-mnist";
  o.output = dir.file("fm.h5");
  o.progress = false;
  o.val = 0;
  pack_dataset(o);
  DatasetReader r(o.output);
  EXPECT_EQ(r.size("train"), 60000);
  EXPECT_EQ(r.size("test"), 10000);
  EXPECT_EQ(r.info().classes.size(), 10u);
  EXPECT_EQ(r.info().height, 28);
  std::vector<uint8_t> idx = gz_bytes(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz");
  std::vector<uint8_t> labels = gz_bytes(std::string(kFashionMnistDir) + "/train-labels-idx1-ubyte.gz");
  for (int64_t i : {0, 1234, 59999}) {
    std::vector<uint8_t> img = image_of(r, "train", i);
    for (int p : {0, 14 * 28 + 14, 20 * 28 + 7})
      EXPECT_EQ(img[p], idx[16 + i * 784 + p]) << "image " << i << " pixel " << p;
    EXPECT_EQ(r.labels("train")[i], labels[8 + i]);
  }
  std::vector<uint8_t> test_idx = gz_bytes(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz");
  EXPECT_EQ(image_of(r, "test", 9999)[400], test_idx[16 + 9999 * 784 + 400]);
}

TEST(Pack, TruncatedIdxFileIsAClearError) {
  TempDir dir;
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    gzFile f = gzopen(dir.file(name).c_str(), "wb");
    const uint8_t header[16] = {
        0, 0, 8, std::string(name).find("images") != std::string::npos ? uint8_t(3) : uint8_t(1),
        0, 0, 0, 5,
        0, 0, 0, 28,
        0, 0, 0, 28};
    gzwrite(f, header, 16);
    gzwrite(f, std::vector<uint8_t>(100).data(), 100);
    gzclose(f);
  }
  PackOptions o;
  o.source = "fashion-mnist";
  o.input = dir.path().string();
  o.output = dir.file("fm.h5");
  o.progress = false;
  try {
    pack_dataset(o);
    ADD_FAILURE() << "a truncated idx file was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

// --- reading files that are not ours -----------------------------------------------------------

std::string open_error(const std::string& path) {
  try {
    DatasetReader r(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

void set_version(const std::string& path, int64_t version) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Adelete(f, "version");
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f, "version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT64, &version);
  H5Aclose(a);
  H5Sclose(space);
  H5Fclose(f);
}

TEST(DatasetReader, RefusesFilesThatAreNotOurs) {
  TempDir dir;
  std::ofstream(dir.file("text.h5")) << "hello";
  EXPECT_NE(open_error(dir.file("text.h5")).find("not an HDF5 file"), std::string::npos);
  EXPECT_NE(open_error(dir.file("missing.h5")).find("no such dataset file"), std::string::npos);

  hid_t f = H5Fcreate(dir.file("other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  EXPECT_NE(open_error(dir.file("other.h5")).find("not an alexnet dataset"), std::string::npos);

  testing::write_test_dataset(dir.file("newer.h5"), 8, 1, 2, {{"train", 4}});
  set_version(dir.file("newer.h5"), kDatasetVersion + 1);
  std::string e = open_error(dir.file("newer.h5"));
  EXPECT_NE(
      e.find("dataset version " + std::to_string(kDatasetVersion + 1) + " is not one this alexnet reads"),
      std::string::npos)
      << e;
}

TEST(DatasetReader, ShapesThatDisagreeNameTheDataset) {
  TempDir dir;
  testing::write_test_dataset(dir.file("d.h5"), 8, 1, 2, {{"train", 4}});
  hid_t f = H5Fopen(dir.file("d.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(f, "mean", H5P_DEFAULT);
  hsize_t dims[3] = {8, 8, 3};
  hid_t space = H5Screate_simple(3, dims, nullptr);
  hid_t d = H5Dcreate2(f, "mean", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
  std::string e = open_error(dir.file("d.h5"));
  EXPECT_NE(e.find("/mean has shape [8, 8, 3], expected [8, 8, 1]"), std::string::npos) << e;
}

TEST(DatasetReader, TruncatedFileIsAClearError) {
  TempDir dir;
  testing::write_test_dataset(dir.file("d.h5"), 16, 3, 2, {{"train", 40}});
  std::ifstream in(dir.file("d.h5"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir.file("cut.h5"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::string e = open_error(dir.file("cut.h5"));
  EXPECT_NE(e.find("cut.h5"), std::string::npos) << e;
  EXPECT_FALSE(e.empty());
}

}  // namespace
}  // namespace alexnet

namespace alexnet {
namespace {

// Only JPEG and PNG, by their first bytes, are decoded: a BMP or TIFF, and bytes that merely
// start like a JPEG, are refused with the reason.
TEST(Pack, OnlyJpegAndPngReachTheDecoder) {
  cv::Mat image(4, 5, CV_8UC3, cv::Scalar(10, 20, 30));
  auto encoded = [&](const std::string& ext) {
    if (ext == ".bmp") {  // a BMP's first bytes: its "BM" signature and a header
      return std::vector<uint8_t>{'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0};
    }
    return encode(ext, image);
  };
  for (const std::string ext : {".png", ".jpg"}) {
    cv::Mat decoded = decode_image(encoded(ext));
    EXPECT_EQ(decoded.rows, 4) << ext;
    EXPECT_EQ(decoded.cols, 5) << ext;
  }
  auto reason = [](const std::vector<uint8_t>& bytes) {
    try {
      decode_image(bytes);
    } catch (const DecodeError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(reason(encoded(".bmp")), "not a JPEG or PNG file (by its first bytes)");
  EXPECT_EQ(reason({'I', 'I', 42, 0, 8, 0, 0, 0}), "not a JPEG or PNG file (by its first bytes)");
  EXPECT_EQ(reason({}), "not a JPEG or PNG file (by its first bytes)");
  EXPECT_EQ(reason({0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}), "truncated JPEG (no end-of-image marker)");
  std::vector<uint8_t> png = encoded(".png");
  png.resize(png.size() / 2);
  EXPECT_NE(reason(png).find("not a decodable PNG"), std::string::npos) << reason(png);
}

}  // namespace
}  // namespace alexnet
