// Small RAII and convenience layer over HDF5's C API, shared by the dataset and checkpoint files.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace alexnet {

// HDF5's serial library is not thread-safe: every call into it holds this lock.
std::mutex& hdf5_lock();

namespace h5 {

// One move-only owner per HDF5 identifier, closed with the function that matches its kind.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() { close(); }
  // Closes now and returns the close's status (a file or dataset writes out its caches on
  // closing); the identifier is released either way.
  herr_t close() {
    herr_t status = 0;
    if (id_ >= 0 && close_) status = close_(id_);
    id_ = -1;
    return status;
  }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// Our messages replace HDF5's own error stack printout. Per thread: call it (under hdf5_lock())
// in any thread that calls HDF5, such as the loader's workers.
void quiet_hdf5();
// Why the last HDF5 call failed, from the innermost entry of its error stack: the system's
// reason where a read or write system call failed ("No space left on device"), else HDF5's
// ("data error detected by Fletcher32 checksum"); "" when the stack is empty.
std::string error_reason();
// Failures of these throw std::runtime_error naming `what` and the reason; callers turn them into
// UserError where a damaged file is the likely cause.
void check(herr_t status, const std::string& what);
H5Id check_id(hid_t id, herr_t (*close)(hid_t), const std::string& what);
// Flushes and closes a file that was written, checking both: HDF5 keeps metadata (and chunks) in
// its caches until then, so a full disk can surface only here. An unchecked close would let a
// truncated file be committed as complete.
void close_written_file(H5Id& file, const std::string& what);
H5Id string_type();  // variable-length UTF-8

// Attribute readers check what the file declares before reading: one value (a scalar or a
// one-element array; HDF5 would write every element of a longer array into the single value),
// numbers for the numeric readers, a variable-length string for the string reader.
void write_string_attr(hid_t obj, const char* name, const std::string& value);
void write_int_attr(hid_t obj, const char* name, int64_t value);
void write_double_attr(hid_t obj, const char* name, double value);
bool has_attr(hid_t obj, const char* name);
std::string read_string_attr(hid_t obj, const char* name);  // "" when absent or not a string
int64_t read_int_attr(hid_t obj, const char* name);         // throws when absent
double read_double_attr(hid_t obj, const char* name);       // throws when absent

void write_floats(hid_t loc, const char* name, const std::vector<float>& values, std::vector<hsize_t> dims);
bool has_link(hid_t loc, const char* name);
std::vector<hsize_t> dims_of(hid_t dataset);

// What a dataset holds, checked before anything is read or allocated from what a (possibly
// damaged or hostile) file declares.
enum class Values { kNumbers, kStrings };  // integer or float; variable-length strings
// Opens dataset `name` under `loc` and checks that its elements are `values`.
H5Id open_values(hid_t loc, const std::string& name, Values values);
// Checks that the file stores at least the bytes the dataset's shape declares (so a header cannot
// make a reader allocate more than the file holds, nor hand back never-written fill values as
// data) and no more than the file's size. Call it once the shape is known to be the expected one.
// Both throw std::runtime_error saying which check failed.
void check_stored(hid_t set, const std::string& name);
std::string dims_str(const std::vector<hsize_t>& dims);

}  // namespace h5
}  // namespace alexnet
