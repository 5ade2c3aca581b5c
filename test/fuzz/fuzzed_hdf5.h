// Structure-aware fuzzing of our HDF5 files: the fuzzer's bytes choose how a well-formed HDF5 file
// differs from what our format says (an attribute missing, of another type, an array; a dataset
// missing, misshapen, of another type, declared far larger than what is stored, holding NaN or
// out-of-range values), and the target then opens the file with our reader.
//
// Raw-byte mutation of an HDF5 file mostly exercises HDF5's own parser, whose bugs we cannot fix
// and which our validation cannot reach (it runs after H5Fopen); the structure is what our readers
// check, so that is what these targets vary. Every choice's 0, which an exhausted input gives, is
// what the format says: the empty input is a valid file, and the fuzzer starts from there.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/hdf5.h"

namespace alexnet::fuzzing {

using h5::H5Id;

// A file under /tmp for this process, rewritten for each input.
inline std::string scratch_file(const char* what) {
  return "/tmp/alexnet-fuzz-" + std::string(what) + "-" + std::to_string(getpid()) + ".h5";
}

class FuzzedHdf5 {
 public:
  explicit FuzzedHdf5(FuzzedDataProvider& in) : in_(in) {}

  // An integer attribute: as given, absent, another integer, a float, a string, or an array.
  void int_attr(hid_t obj, const char* name, int64_t right) {
    switch (in_.ConsumeIntegralInRange(0, 7)) {
      case 0:
      case 1:
        return h5::write_int_attr(obj, name, right);
      case 2:
        return;
      case 3:
        return h5::write_int_attr(obj, name, in_.ConsumeIntegral<int64_t>());
      case 4:
        return h5::write_double_attr(obj, name, number());
      case 5:
        return h5::write_string_attr(obj, name, std::to_string(right));
      default:
        return array_attr(obj, name, static_cast<double>(right));
    }
  }

  // A floating-point attribute, varied as int_attr's.
  void double_attr(hid_t obj, const char* name, double right) {
    switch (in_.ConsumeIntegralInRange(0, 6)) {
      case 0:
      case 1:
        return h5::write_double_attr(obj, name, right);
      case 2:
        return;
      case 3:
        return h5::write_double_attr(obj, name, number());
      case 4:
        return h5::write_int_attr(obj, name, in_.ConsumeIntegral<int64_t>());
      case 5:
        return h5::write_string_attr(obj, name, "0.5");
      default:
        return array_attr(obj, name, right);
    }
  }

  // A string attribute: as given, absent, another string, a number, a fixed-length string.
  void string_attr(hid_t obj, const char* name, const std::string& right) {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0:
      case 1:
        return h5::write_string_attr(obj, name, right);
      case 2:
        return;
      case 3:
        return h5::write_string_attr(obj, name, in_.ConsumeRandomLengthString(16));
      case 4:
        return h5::write_int_attr(obj, name, 7);
      default: {
        H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(type.get(), right.size() + 1);
        H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
        H5Id attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        H5Awrite(attr.get(), type.get(), right.c_str());
      }
    }
  }

  // A numeric dataset whose format says `right_type` with shape `dims` and values value(i):
  //   as given (contiguous, or chunked like `chunk` with Fletcher-32 when given), some values
  //   replaced by fuzzed ones (NaN, infinities, out of range), absent, a group in its place, another
  //   shape (stored when small, else declared only), declared but never written, another type.
  // Returns the values written as float (what a checksum covers), empty when none were.
  std::vector<float> numbers(hid_t loc, const char* name, hid_t right_type, std::vector<hsize_t> dims,
                             const std::function<double(size_t)>& value, std::vector<hsize_t> chunk = {}) {
    hid_t type = right_type;
    bool write = true;
    switch (in_.ConsumeIntegralInRange(0, 9)) {
      case 0:
      case 1:
      case 2:
        break;
      case 3:
        return {};
      case 4:
        H5Id(H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        return {};
      case 5:
        dims = fuzzed_dims();
        chunk.clear();
        break;
      case 6:
        write = false;
        break;
      case 7:
        type = in_.PickValueInArray({H5T_IEEE_F64LE, H5T_STD_I64LE, H5T_STD_U8LE, H5T_IEEE_F32BE});
        break;
      case 8: {
        string_dataset(loc, name, dims, [](size_t i) { return std::to_string(i); });
        return {};
      }
      default:
        break;
    }
    const size_t n = count(dims);
    const bool small = n <= (size_t{1} << 16);
    H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (!chunk.empty() && chunk.size() == dims.size() && n > 0) {
      H5Pset_chunk(props.get(), static_cast<int>(chunk.size()), chunk.data());
      H5Pset_fletcher32(props.get());
    }
    H5Id set(H5Dcreate2(loc, name, type, space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT), H5Dclose);
    if (!set.valid() || !write || !small || n == 0) return {};
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = value(i);
    // A few values replaced by what the reader must survive.
    for (int k = in_.ConsumeIntegralInRange(0, 3); k > 0; --k)
      values[in_.ConsumeIntegralInRange<size_t>(0, n - 1)] = number();
    H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    std::vector<float> as_float(values.begin(), values.end());
    return as_float;
  }

  // A variable-length string dataset of shape `dims` (the right one), varied as numbers() is.
  void strings(hid_t loc, const char* name, std::vector<hsize_t> dims,
               const std::function<std::string(size_t)>& value) {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0:
      case 1:
        return string_dataset(loc, name, dims, value);
      case 2:
        return;
      case 3:
        return string_dataset(loc, name, fuzzed_dims(), value);
      case 4:
        numbers(loc, name, H5T_STD_I32LE, dims, [](size_t i) { return double(i); });
        return;
      default:
        H5Id(H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    }
  }

  // A group, or (rarely) a dataset in its place; returns the group or an invalid id.
  H5Id group(hid_t loc, const char* name) {
    if (in_.ConsumeIntegralInRange(0, 15) == 15) {
      numbers(loc, name, H5T_STD_I32LE, {1}, [](size_t) { return 0.0; });
      return {};
    }
    return H5Id(H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  }

  bool chance(int one_in) { return in_.ConsumeIntegralInRange(1, one_in) == one_in; }
  FuzzedDataProvider& in() { return in_; }

  static size_t count(const std::vector<hsize_t>& dims) {
    size_t n = 1;
    for (hsize_t d : dims) n = d && n > std::numeric_limits<size_t>::max() / d ? 0 : n * d;
    return n;
  }

 private:
  // Ranks 0-5 with sides that are mostly small, sometimes 0, sometimes far beyond any file.
  std::vector<hsize_t> fuzzed_dims() {
    std::vector<hsize_t> dims(in_.ConsumeIntegralInRange(0, 5));
    for (hsize_t& d : dims) {
      d = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<hsize_t>(0, 40)
                            : in_.ConsumeIntegralInRange<hsize_t>(0, hsize_t{1} << 40);
    }
    return dims;
  }

  double number() {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0:
        return std::nan("");
      case 1:
        return std::numeric_limits<double>::infinity();
      case 2:
        return -1;
      case 3:
        return 1e30;
      default:
        return in_.ConsumeFloatingPoint<double>();
    }
  }

  void array_attr(hid_t obj, const char* name, double value) {
    const hsize_t n = in_.ConsumeIntegralInRange<hsize_t>(2, 64);
    std::vector<double> values(n, value);
    H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    H5Id attr(H5Acreate2(obj, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, values.data());
  }

  void string_dataset(hid_t loc, const char* name, const std::vector<hsize_t>& dims,
                      const std::function<std::string(size_t)>& value) {
    H5Id type = h5::string_type();
    H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Id set(H5Dcreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    const size_t n = count(dims);
    if (!set.valid() || n == 0 || n > (size_t{1} << 12)) return;
    std::vector<std::string> values(n);
    std::vector<const char*> pointers(n);
    for (size_t i = 0; i < n; ++i) pointers[i] = (values[i] = value(i)).c_str();
    H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data());
  }

  FuzzedDataProvider& in_;
};

}  // namespace alexnet::fuzzing
