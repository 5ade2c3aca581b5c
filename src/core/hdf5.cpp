#include "core/hdf5.h"

#include <stdexcept>

namespace alexnet {

std::mutex& hdf5_lock() {
  static std::mutex lock;
  return lock;
}

namespace h5 {

void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error("HDF5: " + what + " failed");
}

H5Id check_id(hid_t id, herr_t (*close)(hid_t), const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5: " + what + " failed");
  return H5Id(id, close);
}

H5Id string_type() {
  H5Id t = check_id(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "string size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "string charset");
  return t;
}

namespace {
template <typename T>
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t memory_type, const T& value) {
  H5Id space = check_id(H5Screate(H5S_SCALAR), H5Sclose, "scalar space");
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  H5Id attr =
      check_id(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, name);
  check(H5Awrite(attr.get(), memory_type, &value), name);
}

template <typename T>
T read_scalar_attr(hid_t obj, const char* name, hid_t memory_type) {
  if (H5Aexists(obj, name) <= 0) throw std::runtime_error(std::string("missing attribute '") + name + "'");
  H5Id attr = check_id(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
  T v{};
  check(H5Aread(attr.get(), memory_type, &v), std::string("reading attribute ") + name);
  return v;
}
}  // namespace

void write_string_attr(hid_t obj, const char* name, const std::string& value) {
  H5Id type = string_type();
  const char* p = value.c_str();
  write_scalar_attr(obj, name, type.get(), type.get(), p);
}

void write_int_attr(hid_t obj, const char* name, int64_t value) {
  write_scalar_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}

void write_double_attr(hid_t obj, const char* name, double value) {
  write_scalar_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

bool has_attr(hid_t obj, const char* name) {
  return H5Aexists(obj, name) > 0;
}

std::string read_string_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return {};
  H5Id attr = check_id(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
  H5Id type = string_type();
  char* value = nullptr;
  if (H5Aread(attr.get(), type.get(), &value) < 0 || !value) return {};
  std::string s(value);
  H5free_memory(value);
  return s;
}

int64_t read_int_attr(hid_t obj, const char* name) {
  return read_scalar_attr<int64_t>(obj, name, H5T_NATIVE_INT64);
}
double read_double_attr(hid_t obj, const char* name) {
  return read_scalar_attr<double>(obj, name, H5T_NATIVE_DOUBLE);
}

void write_floats(hid_t loc, const char* name, const std::vector<float>& v, std::vector<hsize_t> dims) {
  H5Id space =
      check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, name);
  H5Id set =
      check_id(H5Dcreate2(loc, name, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               H5Dclose, name);
  if (!v.empty()) check(H5Dwrite(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), name);
}

bool has_link(hid_t loc, const char* name) {
  return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

std::vector<hsize_t> dims_of(hid_t set) {
  H5Id space = check_id(H5Dget_space(set), H5Sclose, "dataspace");
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return d;
}

std::string dims_str(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace h5
}  // namespace alexnet
