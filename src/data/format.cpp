#include "data/format.h"

#include <glog/logging.h>
#include <hdf5.h>

#include <array>
#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/hdf5.h"

namespace alexnet {

using namespace h5;

namespace {

// Far above any dataset's (ImageNet's 21,841 classes; images up to 4K), far below what would
// exhaust memory: the readers refuse what lies outside.
constexpr int64_t kMaxImageSide = 1 << 14;
constexpr hsize_t kMaxClasses = 1 << 20;

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

}  // namespace

// --- writer ------------------------------------------------------------------------------------

struct DatasetWriter::Handles {
  H5Id file;
  H5Id group;
  H5Id images;
};

DatasetWriter::DatasetWriter(const std::string& path, int height, int width, int channels, bool force,
                             int version)
    : path_(path),
      partial_(temporary_path(path)),
      height_(height),
      width_(width),
      channels_(channels),
      version_(version) {
  quiet_hdf5();
  CHECK(version == 1 || version == kDatasetVersion) << "dataset version " << version;
  if (std::filesystem::exists(path) && !force) {
    throw UserError(path + ": already exists; pass --force to replace it");
  }
  std::lock_guard<std::mutex> lock(hdf5_lock());
  h_ = std::make_unique<Handles>();
  h_->file = H5Id(H5Fcreate(partial_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!h_->file.valid())
    throw UserError(partial_ + ": cannot create the output file (" + error_reason() + ")");
}

DatasetWriter::~DatasetWriter() {
  if (finished_) return;
  {
    std::lock_guard<std::mutex> lock(hdf5_lock());
    h_.reset();
  }
  discard_file(partial_);
}

// A write that failed is the machine's fault (a full disk, an I/O error), not the input's: it
// names the output and the reason and is not a UserError (exit status 1). The destructor removes
// the partial file.
void DatasetWriter::failed(const std::runtime_error& e) const {
  if (dynamic_cast<const UserError*>(&e)) throw;  // called from a handler: rethrows as it was
  throw std::runtime_error(path_ + ": cannot write the dataset: " + e.what() + "; nothing written (removed " +
                           partial_ + ")");
}

// Fletcher-32 on every chunk from version 2 on: a flipped bit fails the read of its chunk.
void DatasetWriter::add_checksum(hid_t props) const {
  if (version_ >= 2) check(H5Pset_fletcher32(props), "Fletcher-32 filter");
}

void DatasetWriter::begin_split(const std::string& name) {
  close_split();
  std::lock_guard<std::mutex> lock(hdf5_lock());
  try {
    h_->group = check_id(H5Gcreate2(h_->file.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                         H5Gclose, "group " + name);
    std::array<hsize_t, 4> dims = {0, hsize_t(height_), hsize_t(width_), hsize_t(channels_)};
    std::array<hsize_t, 4> max = {H5S_UNLIMITED, dims[1], dims[2], dims[3]};
    std::array<hsize_t, 4> chunk = {1, dims[1], dims[2], dims[3]};
    H5Id space = check_id(H5Screate_simple(4, dims.data(), max.data()), H5Sclose, "images space");
    H5Id props = check_id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "images properties");
    check(H5Pset_chunk(props.get(), 4, chunk.data()), "images chunking");
    add_checksum(props.get());
    h_->images = check_id(H5Dcreate2(h_->group.get(), "images", H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                                     props.get(), H5P_DEFAULT),
                          H5Dclose, name + "/images");
  } catch (const std::runtime_error& e) {
    failed(e);
  }
  labels_.clear();
  count_ = 0;
}

void DatasetWriter::append(const uint8_t* image, int32_t label) {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  CHECK(h_->images.valid()) << "append() before begin_split()";
  try {
    std::array<hsize_t, 4> size = {hsize_t(count_ + 1), hsize_t(height_), hsize_t(width_),
                                   hsize_t(channels_)};
    check(H5Dset_extent(h_->images.get(), size.data()), "extending images");
    H5Id file_space = check_id(H5Dget_space(h_->images.get()), H5Sclose, "images space");
    std::array<hsize_t, 4> start = {hsize_t(count_), 0, 0, 0};
    std::array<hsize_t, 4> count = {1, size[1], size[2], size[3]};
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
          "selecting an image");
    H5Id memory = check_id(H5Screate_simple(4, count.data(), nullptr), H5Sclose, "image space");
    check(H5Dwrite(h_->images.get(), H5T_NATIVE_UINT8, memory.get(), file_space.get(), H5P_DEFAULT, image),
          "writing an image");
  } catch (const std::runtime_error& e) {
    failed(e);
  }
  labels_.push_back(label);
  ++count_;
}

void DatasetWriter::close_split() {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  if (!h_->group.valid()) return;
  try {
    hsize_t n = labels_.size();
    H5Id space = check_id(H5Screate_simple(1, &n, nullptr), H5Sclose, "labels space");
    H5Id props = check_id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "labels properties");
    if (n > 0 && version_ >= 2) {  // filters need chunks, and a chunk cannot be empty
      hsize_t chunk = std::min<hsize_t>(n, 1 << 16);
      check(H5Pset_chunk(props.get(), 1, &chunk), "labels chunking");
      add_checksum(props.get());
    }
    H5Id set = check_id(H5Dcreate2(h_->group.get(), "labels", H5T_STD_I32LE, space.get(), H5P_DEFAULT,
                                   props.get(), H5P_DEFAULT),
                        H5Dclose, "labels");
    if (n)
      check(H5Dwrite(set.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels_.data()), "labels");
    // Closing a dataset writes out the chunks its cache still holds: a full disk can surface here.
    check(set.close(), "closing labels");
    check(h_->images.close(), "closing images");
    check(h_->group.close(), "closing the split's group");
  } catch (const std::runtime_error& e) {
    failed(e);
  }
}

void DatasetWriter::finish(const DatasetInfo& info) {
  close_split();
  {
    std::lock_guard<std::mutex> lock(hdf5_lock());
    try {
      hid_t root = h_->file.get();
      write_string_attr(root, "format", kDatasetFormat);
      write_int_attr(root, "version", version_);
      write_string_attr(root, "source", info.source);
      write_string_attr(root, "created", info.created.empty() ? utc_now() : info.created);
      write_int_attr(root, "height", height_);
      write_int_attr(root, "width", width_);
      write_int_attr(root, "channels", channels_);

      H5Id type = string_type();
      hsize_t k = info.classes.size();
      H5Id space = check_id(H5Screate_simple(1, &k, nullptr), H5Sclose, "classes space");
      H5Id set = check_id(
          H5Dcreate2(root, "classes", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          H5Dclose, "classes");
      std::vector<const char*> names;
      for (const std::string& c : info.classes) names.push_back(c.c_str());
      if (k) check(H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, names.data()), "classes");
      const hsize_t h = height_, w = width_, c = channels_;
      CHECK_EQ(info.mean.size(), h * w * c);
      write_floats(root, "mean", info.mean, {h, w, c});
      write_floats(root, "pca_eigenvalues", info.pca_eigenvalues, {c});
      write_floats(root, "pca_eigenvectors", info.pca_eigenvectors, {c, c});
      check(set.close(), "closing classes");
      close_written_file(h_->file, partial_);
    } catch (const std::runtime_error& e) {
      failed(e);
    }
    h_.reset();
  }
  finished_ = true;  // commit_file removes the temporary itself if it fails
  commit_file(partial_, path_);
}

// --- reader ------------------------------------------------------------------------------------

struct DatasetReader::Handles {
  H5Id file;
};

struct DatasetReader::Split {
  std::string name;
  H5Id images;
  std::vector<int32_t> labels;
};

DatasetReader::DatasetReader(const std::string& path) : path_(path), h_(std::make_unique<Handles>()) {
  quiet_hdf5();
  std::lock_guard<std::mutex> lock(hdf5_lock());
  try {
    open();
  } catch (const UserError&) {
    throw;
  } catch (const std::runtime_error& e) {
    // An HDF5 call that fails on a file that opened is a damaged or truncated file.
    throw UserError(path + ": damaged or truncated dataset file (" + e.what() + ")");
  }
}

void DatasetReader::open() {
  const std::string& path = path_;
  if (!std::filesystem::exists(path)) throw UserError(path + ": no such dataset file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw UserError(path + ": not an HDF5 file (pack one with alexnet pack)");
  h_->file = H5Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!h_->file.valid()) throw UserError(path + ": cannot open the HDF5 file (truncated or damaged?)");
  hid_t root = h_->file.get();
  auto fail = [&](const std::string& what) -> void { throw UserError(path + ": " + what); };

  auto string_attr = [&](const char* name) { return read_string_attr(root, name); };
  auto int_attr = [&](const char* name) -> int64_t {
    if (!has_attr(root, name)) fail(std::string("missing root attribute '") + name + "'");
    return read_int_attr(root, name);
  };

  if (string_attr("format") != kDatasetFormat) {
    fail(std::string("not an alexnet dataset (its root attribute 'format' is not \"") + kDatasetFormat +
         "\"; pack one with alexnet pack)");
  }
  version_ = static_cast<int>(int_attr("version"));
  if (version_ > kDatasetVersion || version_ < 1) {
    fail("dataset version " + std::to_string(version_) + " is not one this alexnet reads (version " +
         std::to_string(kDatasetVersion) + " and older); upgrade alexnet or repack");
  }
  // Bounds before anything is sized by them: the loader and the mean image multiply them out.
  auto bounded_attr = [&](const char* name, int64_t low, int64_t high) {
    const int64_t v = int_attr(name);
    if (v < low || v > high) {
      fail(std::string("root attribute '") + name + "' = " + std::to_string(v) + " is outside " +
           std::to_string(low) + ".." + std::to_string(high));
    }
    return static_cast<int>(v);
  };
  info_.height = bounded_attr("height", 1, kMaxImageSide);
  info_.width = bounded_attr("width", 1, kMaxImageSide);
  info_.channels = bounded_attr("channels", 1, 4);
  info_.source = string_attr("source");
  info_.created = string_attr("created");
  const hsize_t h = info_.height, w = info_.width, c = info_.channels;

  auto read_floats = [&](const char* name, std::vector<hsize_t> want) {
    if (!has_link(root, name)) fail(std::string("missing dataset /") + name);
    H5Id set = open_values(root, name, Values::kNumbers);
    std::vector<hsize_t> d = dims_of(set.get());
    if (d != want)
      fail(std::string("/") + name + " has shape " + dims_str(d) + ", expected " + dims_str(want));
    check_stored(set.get(), name);
    size_t n = 1;
    for (hsize_t x : d) n *= x;
    std::vector<float> v(n);
    check(H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), name);
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i])) fail(std::string("/") + name + "[" + std::to_string(i) + "] is not finite");
    return v;
  };
  info_.mean = read_floats("mean", {h, w, c});
  info_.pca_eigenvalues = read_floats("pca_eigenvalues", {c});
  info_.pca_eigenvectors = read_floats("pca_eigenvectors", {c, c});

  if (!has_link(root, "classes")) fail("missing dataset /classes");
  {
    H5Id set = open_values(root, "classes", Values::kStrings);
    std::vector<hsize_t> d = dims_of(set.get());
    if (d.size() != 1) fail("/classes has shape " + dims_str(d) + ", expected [K]");
    if (d[0] > kMaxClasses)
      fail("/classes holds " + std::to_string(d[0]) + " names, more than " + std::to_string(kMaxClasses));
    check_stored(set.get(), "classes");
    std::vector<char*> names(d[0]);
    H5Id type = string_type();
    if (d[0]) check(H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, names.data()), "classes");
    for (char* n : names) {
      info_.classes.emplace_back(n ? n : "");
      H5free_memory(n);
    }
  }

  for (const char* name : {"train", "val", "test"}) {
    if (!has_link(root, name)) continue;
    auto s = std::make_unique<Split>();
    s->name = name;
    std::string images = std::string(name) + "/images", labels = std::string(name) + "/labels";
    if (!has_link(root, images.c_str()) || !has_link(root, labels.c_str())) {
      fail(std::string("split '") + name + "' lacks /" + images + " or /" + labels);
    }
    s->images = open_values(root, images, Values::kNumbers);
    std::vector<hsize_t> d = dims_of(s->images.get());
    if (d.size() != 4 || d[1] != h || d[2] != w || d[3] != c) {
      fail("/" + images + " has shape " + dims_str(d) + ", expected [N, " + std::to_string(h) + ", " +
           std::to_string(w) + ", " + std::to_string(c) + "]");
    }
    H5Id label_set = open_values(root, labels, Values::kNumbers);
    std::vector<hsize_t> ld = dims_of(label_set.get());
    if (ld.size() != 1 || ld[0] != d[0]) {
      fail("/" + labels + " has shape " + dims_str(ld) + ", expected [" + std::to_string(d[0]) +
           "] (one per image)");
    }
    check_stored(s->images.get(), images);
    check_stored(label_set.get(), labels);
    s->labels.resize(d[0]);
    if (d[0])
      check(H5Dread(label_set.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->labels.data()),
            labels);
    for (size_t i = 0; i < s->labels.size(); ++i) {
      if (s->labels[i] < 0 || s->labels[i] >= static_cast<int32_t>(info_.classes.size())) {
        fail("/" + labels + "[" + std::to_string(i) + "] = " + std::to_string(s->labels[i]) +
             " is outside the " + std::to_string(info_.classes.size()) + " classes");
      }
    }
    splits_.push_back(std::move(s));
  }
  if (splits_.empty()) fail("holds no split (expected /train, /val or /test)");
}

DatasetReader::~DatasetReader() {
  std::lock_guard<std::mutex> lock(hdf5_lock());
  splits_.clear();
  h_.reset();
}

bool DatasetReader::has_split(const std::string& name) const {
  for (const auto& s : splits_)
    if (s->name == name) return true;
  return false;
}

const DatasetReader::Split& DatasetReader::split(const std::string& name) const {
  for (const auto& s : splits_)
    if (s->name == name) return *s;
  throw UserError(path_ + ": has no split '" + name + "'");
}

int64_t DatasetReader::size(const std::string& name) const {
  return static_cast<int64_t>(split(name).labels.size());
}

const std::vector<int32_t>& DatasetReader::labels(const std::string& name) const {
  return split(name).labels;
}

void DatasetReader::read_image(const std::string& name, int64_t index, uint8_t* out) const {
  const Split& s = split(name);
  CHECK(index >= 0 && index < static_cast<int64_t>(s.labels.size())) << "image " << index << " of " << name;
  std::lock_guard<std::mutex> lock(hdf5_lock());
  quiet_hdf5();  // the loader's worker threads read here
  H5Id file_space = check_id(H5Dget_space(s.images.get()), H5Sclose, "images space");
  std::array<hsize_t, 4> start = {hsize_t(index), 0, 0, 0};
  std::array<hsize_t, 4> count = {1, hsize_t(info_.height), hsize_t(info_.width), hsize_t(info_.channels)};
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "selecting an image");
  H5Id memory = check_id(H5Screate_simple(4, count.data(), nullptr), H5Sclose, "image space");
  if (H5Dread(s.images.get(), H5T_NATIVE_UINT8, memory.get(), file_space.get(), H5P_DEFAULT, out) < 0) {
    const std::string reason = error_reason();
    throw DamagedImage(path_ + ": image " + std::to_string(index) + " of split '" + name +
                           "' cannot be read: " + (reason.empty() ? "truncated or damaged file" : reason),
                       name, index);
  }
}

}  // namespace alexnet
