#include "data/sources.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/errors.h"
#include "core/image_codec.h"

namespace fs = std::filesystem;

namespace alexnet {

namespace {

// --- Fashion-MNIST -----------------------------------------------------------------------------

std::vector<uint8_t> gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw UserError(path + ": cannot open (install Debian's dataset-fashion-mnist, or give --input)");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  int err = 0;
  const char* message = gzerror(f, &err);
  std::string why = err != Z_OK && err != Z_STREAM_END ? message : "";
  gzclose(f);
  if (n < 0 || !why.empty()) throw UserError(path + ": corrupt gzip data (" + why + ")");
  return out;
}

uint32_t big_endian(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) | b[at + 3];
}

class FashionMnist final : public ImageSource {
 public:
  explicit FashionMnist(const std::string& dir) : dir_(dir) {
    if (!fs::is_directory(dir)) throw UserError(dir + ": no such folder (Fashion-MNIST idx files expected)");
    load_split("train", "train");
    load_split("test", "t10k");
  }
  std::vector<std::string> classes() const override {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  }
  std::vector<std::string> splits() const override { return {"train", "test"}; }
  std::vector<SourceItem> items(const std::string& split) const override {
    const Split& s = splits_.at(split);
    std::vector<SourceItem> out(s.labels.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = {s.labels[i], split, static_cast<int64_t>(i)};
    return out;
  }
  cv::Mat load(const SourceItem& item) const override {
    const Split& s = splits_.at(item.path);
    return cv::Mat(28, 28, CV_8UC1, const_cast<uint8_t*>(s.pixels.data() + 16 + item.index * 784)).clone();
  }
  int native_size() const override { return 28; }
  int native_channels() const override { return 1; }
  std::string describe() const override { return "fashion-mnist idx files in " + dir_; }

 private:
  struct Split {
    std::string file;
    std::vector<uint8_t> pixels;  // the whole idx3 file, header included
    std::vector<int32_t> labels;
  };
  void load_split(const std::string& split, const std::string& prefix) {
    Split s;
    s.file = dir_ + "/" + prefix + "-images-idx3-ubyte.gz";
    std::string label_file = dir_ + "/" + prefix + "-labels-idx1-ubyte.gz";
    s.pixels = gunzip(s.file);
    std::vector<uint8_t> labels = gunzip(label_file);
    if (s.pixels.size() < 16 || big_endian(s.pixels, 0) != 0x803)
      throw UserError(s.file + ": not an idx3 image file");
    if (labels.size() < 8 || big_endian(labels, 0) != 0x801)
      throw UserError(label_file + ": not an idx1 label file");
    uint32_t n = big_endian(s.pixels, 4), rows = big_endian(s.pixels, 8), cols = big_endian(s.pixels, 12);
    if (rows != 28 || cols != 28)
      throw UserError(s.file + ": images are " + std::to_string(rows) + "x" + std::to_string(cols) +
                      ", expected 28x28");
    if (s.pixels.size() != 16 + size_t(n) * 784) {
      throw UserError(s.file + ": holds " + std::to_string(s.pixels.size() - 16) + " pixel bytes, expected " +
                      std::to_string(size_t(n) * 784) + " for " + std::to_string(n) + " images (truncated?)");
    }
    if (big_endian(labels, 4) != n || labels.size() != 8 + size_t(n)) {
      throw UserError(label_file + ": expected " + std::to_string(n) + " labels to match " + s.file);
    }
    for (uint32_t i = 0; i < n; ++i) {
      if (labels[8 + i] > 9)
        throw UserError(label_file + ": label " + std::to_string(labels[8 + i]) + " at " + std::to_string(i) +
                        " is not 0-9");
      s.labels.push_back(labels[8 + i]);
    }
    splits_[split] = std::move(s);
  }
  std::string dir_;
  std::map<std::string, Split> splits_;
};

// --- CIFAR-10 ----------------------------------------------------------------------------------

class Cifar10 final : public ImageSource {
 public:
  explicit Cifar10(const std::string& dir) : dir_(dir) {
    if (!fs::is_directory(dir)) throw UserError(dir + ": no such folder (CIFAR-10 binary batches expected)");
    for (int i = 1; i <= 5; ++i) read_batch("train", dir + "/data_batch_" + std::to_string(i) + ".bin");
    read_batch("test", dir + "/test_batch.bin");
    std::ifstream meta(dir + "/batches.meta.txt");
    for (std::string line; std::getline(meta, line);)
      if (!line.empty()) classes_.push_back(line);
    if (classes_.size() != 10) {
      classes_ = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    }
  }
  std::vector<std::string> classes() const override { return classes_; }
  std::vector<std::string> splits() const override { return {"train", "test"}; }
  std::vector<SourceItem> items(const std::string& split) const override {
    const std::vector<uint8_t>& records = records_.at(split);
    std::vector<SourceItem> out(records.size() / kRecord);
    for (size_t i = 0; i < out.size(); ++i) out[i] = {records[i * kRecord], split, static_cast<int64_t>(i)};
    return out;
  }
  cv::Mat load(const SourceItem& item) const override {
    // A record is the label byte, then the red, green and blue 32x32 planes.
    const uint8_t* r = records_.at(item.path).data() + item.index * kRecord + 1;
    cv::Mat rgb(32, 32, CV_8UC3);
    for (int p = 0; p < 1024; ++p)
      for (int c = 0; c < 3; ++c) rgb.data[p * 3 + c] = r[c * 1024 + p];
    return rgb;
  }
  int native_size() const override { return 32; }
  int native_channels() const override { return 3; }
  std::string describe() const override { return "cifar-10 binary batches in " + dir_; }

 private:
  static constexpr size_t kRecord = 1 + 3072;
  void read_batch(const std::string& split, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError(path + ": cannot open (CIFAR-10 binary version expected)");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty() || bytes.size() % kRecord) {
      throw UserError(path + ": " + std::to_string(bytes.size()) +
                      " bytes is not a whole number of 3,073-byte records (truncated?)");
    }
    for (size_t i = 0; i < bytes.size(); i += kRecord) {
      if (bytes[i] > 9)
        throw UserError(path + ": record " + std::to_string(i / kRecord) + " has label " +
                        std::to_string(bytes[i]));
    }
    std::vector<uint8_t>& all = records_[split];
    all.insert(all.end(), bytes.begin(), bytes.end());
  }
  std::string dir_;
  std::vector<std::string> classes_;
  std::map<std::string, std::vector<uint8_t>> records_;
};

// --- image folder ------------------------------------------------------------------------------

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  static const char* kExtensions[] = {".jpg", ".jpeg", ".png",  ".bmp", ".ppm",
                                      ".pgm", ".tif",  ".tiff", ".webp"};
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

std::vector<std::string> sorted_images(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && is_image(entry.path())) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

class ImageFolder final : public ImageSource {
 public:
  ImageFolder(const std::string& root, const std::string& val_list) : root_(root) {
    fs::path train = fs::path(root) / "train";
    if (!fs::is_directory(root)) throw UserError(root + ": no such folder");
    if (!fs::is_directory(train))
      throw UserError(root + ": no train/ folder (expected train/<class>/<image>)");
    for (const auto& entry : fs::directory_iterator(train))
      if (entry.is_directory()) classes_.push_back(entry.path().filename().string());
    std::sort(classes_.begin(), classes_.end());
    if (classes_.empty())
      throw UserError(train.string() + ": no class folders (expected train/<class>/<image>)");
    std::map<std::string, int32_t> index;
    for (size_t k = 0; k < classes_.size(); ++k) index[classes_[k]] = static_cast<int32_t>(k);
    for (size_t k = 0; k < classes_.size(); ++k)
      for (const std::string& f : sorted_images(train / classes_[k]))
        items_["train"].push_back({int32_t(k), f});
    if (items_["train"].empty()) throw UserError(train.string() + ": the class folders hold no images");

    fs::path val = fs::path(root) / "val";
    if (!val_list.empty()) {
      std::ifstream in(val_list);
      if (!in) throw UserError(val_list + ": cannot open the val list");
      int line_no = 0;
      for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string file, label;
        if (!(fields >> file >> label)) {
          throw UserError(val_list + ":" + std::to_string(line_no) +
                          ": expected '<image path> <class index or name>'");
        }
        int32_t k = -1;
        if (index.count(label)) {
          k = index[label];
        } else {
          try {
            size_t used = 0;
            k = std::stoi(label, &used);
            if (used != label.size()) k = -1;
          } catch (const std::exception&) {
            k = -1;
          }
        }
        if (k < 0 || k >= static_cast<int32_t>(classes_.size())) {
          throw UserError(val_list + ":" + std::to_string(line_no) + ": '" + label +
                          "' is neither a class folder name nor an index below " +
                          std::to_string(classes_.size()));
        }
        fs::path p = fs::path(file).is_absolute() ? fs::path(file) : val / file;
        items_["val"].push_back({k, p.string()});
      }
    } else if (fs::is_directory(val)) {
      for (const auto& entry : fs::directory_iterator(val)) {
        if (!entry.is_directory()) continue;
        std::string name = entry.path().filename().string();
        if (!index.count(name))
          throw UserError(entry.path().string() + ": val class '" + name + "' has no train folder");
        for (const std::string& f : sorted_images(entry.path())) items_["val"].push_back({index[name], f});
      }
      std::stable_sort(items_["val"].begin(), items_["val"].end(),
                       [](const SourceItem& a, const SourceItem& b) { return a.label < b.label; });
    }
  }
  std::vector<std::string> classes() const override { return classes_; }
  std::vector<std::string> splits() const override {
    return items_.count("val") && !items_.at("val").empty() ? std::vector<std::string>{"train", "val"}
                                                            : std::vector<std::string>{"train"};
  }
  std::vector<SourceItem> items(const std::string& split) const override { return items_.at(split); }
  cv::Mat load(const SourceItem& item) const override {
    std::ifstream in(item.path, std::ios::binary);
    if (!in) throw DecodeError("cannot open");
    return decode_image(
        std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  int native_size() const override { return 0; }
  int native_channels() const override { return 3; }
  std::string describe() const override { return "image folder " + root_; }

 private:
  std::string root_;
  std::vector<std::string> classes_;
  std::map<std::string, std::vector<SourceItem>> items_;
};

}  // namespace

cv::Mat decode_image(const std::vector<uint8_t>& bytes) {
  Pixels p;
  try {
    p = decode_image_bytes(bytes.data(), bytes.size());
  } catch (const CodecError& e) {
    throw DecodeError(e.what());
  }
  cv::Mat image(p.height, p.width, CV_8UC3);
  std::copy(p.data.begin(), p.data.end(), image.data);
  return image;
}

std::unique_ptr<ImageSource> open_fashion_mnist(const std::string& dir) {
  return std::make_unique<FashionMnist>(dir);
}
std::unique_ptr<ImageSource> open_cifar10(const std::string& dir) {
  return std::make_unique<Cifar10>(dir);
}
std::unique_ptr<ImageSource> open_image_folder(const std::string& root, const std::string& val_list) {
  return std::make_unique<ImageFolder>(root, val_list);
}

}  // namespace alexnet
