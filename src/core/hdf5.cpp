#include "core/hdf5.h"

#include <stdexcept>

namespace alexnet {

std::mutex& hdf5_lock() {
  static std::mutex lock;
  return lock;
}

namespace h5 {

namespace {
// HDF5 up to 1.14.0 frees a file whose close failed (a full disk: the last flush cannot be
// written) yet keeps its identifier, and the exit handler it registers closes that identifier again
// and crashes (HDFGroup/hdf5#2291: the segmentation fault after "HDF5: conv4.weight failed"). Every
// file here is closed explicitly, so the handler has nothing to do: it is turned off before the
// library starts, which is the only time H5dont_atexit() can.
[[maybe_unused]] const bool kNoExitHandler = [] {
  H5dont_atexit();
  return true;
}();
}  // namespace

// A thread-safe HDF5 (Debian's is) keeps one error stack, and one printing switch, per thread.
void quiet_hdf5() {
  thread_local bool quiet = false;
  if (!quiet) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  quiet = true;
}

namespace {

// The first (innermost) description on the stack; the walk starts at the most specific entry.
herr_t first_description(unsigned, const H5E_error2_t* entry, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (entry->desc && *entry->desc) {
    *text = entry->desc;
    return 1;  // stop the walk
  }
  return 0;
}

// HDF5 puts a failed system call's strerror text inside its description:
//   "file write failed: time = ..., errno = 28, error message = 'No space left on device', ..."
std::string system_reason(const std::string& description) {
  const std::string key = "error message = '";
  size_t begin = description.find(key);
  if (begin == std::string::npos) return {};
  begin += key.size();
  size_t end = description.find('\'', begin);
  return end == std::string::npos ? std::string() : description.substr(begin, end - begin);
}

std::string failure(const std::string& what) {
  const std::string reason = error_reason();
  return "HDF5: " + what + " failed" + (reason.empty() ? "" : " (" + reason + ")");
}

}  // namespace

std::string error_reason() {
  std::string description;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_description, &description);
  const std::string system = system_reason(description);
  return system.empty() ? description : system;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error(failure(what));
}

H5Id check_id(hid_t id, herr_t (*close)(hid_t), const std::string& what) {
  if (id < 0) throw std::runtime_error(failure(what));
  return H5Id(id, close);
}

void close_written_file(H5Id& file, const std::string& what) {
  check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flushing " + what);
  check(file.close(), "closing " + what);
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

// Why `attr` cannot be read as one value of class `want`, or "" when it can.
std::string one_value_problem(hid_t attr, H5T_class_t want) {
  H5Id space = check_id(H5Aget_space(attr), H5Sclose, "attribute space");
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points != 1) return "holds " + std::to_string(points) + " values, expected one";
  H5Id type = check_id(H5Aget_type(attr), H5Tclose, "attribute type");
  const H5T_class_t have = H5Tget_class(type.get());
  const bool number = have == H5T_INTEGER || have == H5T_FLOAT;
  if (want == H5T_STRING ? (have != H5T_STRING || H5Tis_variable_str(type.get()) <= 0) : !number)
    return want == H5T_STRING ? "is not a variable-length string" : "is not a number";
  return {};
}

template <typename T>
T read_scalar_attr(hid_t obj, const char* name, hid_t memory_type) {
  if (H5Aexists(obj, name) <= 0) throw std::runtime_error(std::string("missing attribute '") + name + "'");
  H5Id attr = check_id(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, name);
  if (std::string problem = one_value_problem(attr.get(), H5T_INTEGER); !problem.empty())
    throw std::runtime_error(std::string("attribute '") + name + "' " + problem);
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
  if (!one_value_problem(attr.get(), H5T_STRING).empty()) return {};
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

H5Id open_values(hid_t loc, const std::string& name, Values values) {
  H5Id set = check_id(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, name);
  H5Id type = check_id(H5Dget_type(set.get()), H5Tclose, name + " type");
  const H5T_class_t have = H5Tget_class(type.get());
  if (values == Values::kNumbers && have != H5T_INTEGER && have != H5T_FLOAT)
    throw std::runtime_error("/" + name + " does not hold numbers");
  if (values == Values::kStrings && (have != H5T_STRING || H5Tis_variable_str(type.get()) <= 0))
    throw std::runtime_error("/" + name + " does not hold variable-length strings");
  return set;
}

void check_stored(hid_t set, const std::string& name) {
  H5Id type = check_id(H5Dget_type(set), H5Tclose, name + " type");
  H5Id space = check_id(H5Dget_space(set), H5Sclose, name + " space");
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points < 0) throw std::runtime_error("/" + name + " has no simple shape");
  // A variable-length string is stored as a reference of H5Tget_size() bytes to the heap.
  const size_t element = H5Tget_size(type.get());
  const hsize_t declared = static_cast<hsize_t>(points) * element;
  if (element && declared / element != static_cast<hsize_t>(points))
    throw std::runtime_error("/" + name + " declares more bytes than a file can hold");
  const hsize_t stored = H5Dget_storage_size(set);
  if (stored < declared) {
    throw std::runtime_error("/" + name + " declares " + std::to_string(declared) + " bytes but stores " +
                             std::to_string(stored) + " (truncated, or compressed by another tool)");
  }
  hsize_t file_bytes = 0;
  H5Id file = check_id(H5Iget_file_id(set), H5Fclose, name + " file");
  check(H5Fget_filesize(file.get(), &file_bytes), "file size");
  if (stored > file_bytes) {
    throw std::runtime_error("/" + name + " claims " + std::to_string(stored) + " bytes of a " +
                             std::to_string(file_bytes) + "-byte file");
  }
}

std::string dims_str(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace h5
}  // namespace alexnet
