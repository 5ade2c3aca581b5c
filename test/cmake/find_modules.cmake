# FindCUDNN.cmake and FindNCCL.cmake against fake installs in a temporary folder: empty .so files
# with the names real installs use, and headers with version macros. Configure-only runs of a tiny
# project (LANGUAGES NONE: no compiler), the system's own folders kept out of the search.
#
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P test/cmake/find_modules.cmake
cmake_minimum_required(VERSION 3.24)
file(REMOVE_RECURSE "${WORK_DIR}")
set(W "${WORK_DIR}")

function(fake_cudnn dir major minor patch)  # header in dir/include; no library
  file(WRITE "${dir}/include/cudnn_version.h"
       "#define CUDNN_MAJOR ${major}\n#define CUDNN_MINOR ${minor}\n#define CUDNN_PATCHLEVEL ${patch}\n")
endfunction()
function(fake_nccl dir major minor patch)
  file(WRITE "${dir}/include/nccl.h"
       "#define NCCL_MAJOR ${major}\n#define NCCL_MINOR ${minor}\n#define NCCL_PATCH ${patch}\n")
endfunction()
function(fake_library path)  # an empty file, and links to it: fake_library(real link...)
  file(WRITE "${path}" "")
  foreach(link IN LISTS ARGN)
    get_filename_component(dir "${path}" DIRECTORY)
    file(CREATE_LINK "${path}" "${dir}/${link}" SYMBOLIC)
  endforeach()
endfunction()

# PyTorch's wheels: versioned names only, site-packages/nvidia/{cudnn,nccl}/{include,lib}.
set(wheels "${W}/site-packages/nvidia")
fake_cudnn("${wheels}/cudnn" 9 10 2)
fake_library("${wheels}/cudnn/lib/libcudnn.so.9")
fake_library("${wheels}/cudnn/lib/libcudnn_ops.so.9")
fake_nccl("${wheels}/nccl" 2 28 3)
fake_library("${wheels}/nccl/lib/libnccl.so.2")
# A header-only install of 9.1.0 and a library-only one of 9.0.0 (the two-installs case).
fake_cudnn("${W}/headers-9.1" 9 1 0)
fake_library("${W}/library-9.0/lib64/libcudnn.so.9.0.0" libcudnn.so.9 libcudnn.so)
fake_library("${W}/cudnn-8/lib/libcudnn.so.8")
# Two whole installs: the library beside the header must win over another root.
fake_cudnn("${W}/whole-9.3" 9 3 0)
fake_library("${W}/whole-9.3/lib64/libcudnn.so.9.3.0" libcudnn.so.9)
fake_cudnn("${W}/whole-9.2" 9 2 0)
fake_library("${W}/whole-9.2/lib64/libcudnn.so.9.2.0" libcudnn.so.9)
# NCCL: a 2.28.3 header with a 2.30.4 library.
fake_nccl("${W}/nccl-header" 2 28 3)
fake_library("${W}/nccl-lib/lib/libnccl.so.2.30.4" libnccl.so.2)

file(WRITE "${W}/project/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.24)
project(find_modules_test LANGUAGES NONE)
set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
set(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH FALSE)
list(APPEND CMAKE_MODULE_PATH \"${SOURCE_DIR}/third_party\")
find_package(CUDNN REQUIRED)
find_package(NCCL REQUIRED)
message(STATUS \"result: cuDNN \${CUDNN_VERSION} \${CUDNN_LIBRARY}; NCCL \${NCCL_VERSION} \${NCCL_LIBRARY}\")
")

set(failures 0)
# configure(NAME EXPECT_OK|EXPECT_FAIL "text that must appear"... -- cmake args...)
function(configure name expect)
  cmake_parse_arguments(PARSE_ARGV 2 A "" "" "TEXT;ARGS")
  set(build "${W}/build-${name}")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${W}/project" -B "${build}" -DNVIDIA_WHEELS_DIR= ${A_ARGS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(all "${out}${err}")
  set(ok TRUE)
  if((expect STREQUAL "EXPECT_OK" AND NOT rc EQUAL 0) OR (expect STREQUAL "EXPECT_FAIL" AND rc EQUAL 0))
    set(ok FALSE)
  endif()
  foreach(text IN LISTS A_TEXT)
    string(FIND "${all}" "${text}" at)
    if(at EQUAL -1)
      set(ok FALSE)
      message("  ${name}: missing '${text}'")
    endif()
  endforeach()
  if(ok)
    message("ok      ${name}")
  else()
    message("FAILED  ${name} (exit status ${rc}):\n${all}")
    math(EXPR n "${failures} + 1")
    set(failures ${n} PARENT_SCOPE)
  endif()
endfunction()

configure(wheel_versioned_names EXPECT_OK
  TEXT "cuDNN 9.10.2 ${wheels}/cudnn/lib/libcudnn.so.9" "NCCL 2.28.3 ${wheels}/nccl/lib/libnccl.so.2"
  ARGS "-DNVIDIA_WHEELS_DIR=${wheels}")
configure(wheel_through_roots EXPECT_OK
  TEXT "cuDNN 9.10.2 ${wheels}/cudnn/lib/libcudnn.so.9" "NCCL 2.28.3 ${wheels}/nccl/lib/libnccl.so.2"
  ARGS "-DCUDNN_ROOT=${wheels}/cudnn" "-DNCCL_ROOT=${wheels}/nccl")
configure(cudnn_header_and_library_from_two_installs EXPECT_FAIL
  TEXT "CUDNN: the header and the library come from two installs"
       "header  ${W}/headers-9.1/include/cudnn_version.h is version 9.1.0"
       "library ${W}/library-9.0/lib64/libcudnn.so is version 9.0.0"
  ARGS "-DCUDNN_ROOT=${W}/headers-9.1;${W}/library-9.0" "-DNCCL_ROOT=${wheels}/nccl")
configure(cudnn_major_versions_disagree EXPECT_FAIL
  TEXT "header  ${wheels}/cudnn/include/cudnn_version.h is version 9.10.2" "is version 8"
  ARGS "-DCUDNN_INCLUDE_DIR=${wheels}/cudnn/include" "-DCUDNN_LIBRARY=${W}/cudnn-8/lib/libcudnn.so.8"
       "-DNCCL_ROOT=${wheels}/nccl")
configure(library_beside_the_header_first EXPECT_OK
  TEXT "cuDNN 9.3.0 ${W}/whole-9.3/lib64/libcudnn.so.9"
  ARGS "-DCUDNN_INCLUDE_DIR=${W}/whole-9.3/include" "-DCUDNN_ROOT=${W}/whole-9.2" "-DNCCL_ROOT=${wheels}/nccl")
configure(nccl_header_and_library_from_two_installs EXPECT_FAIL
  TEXT "NCCL: the header and the library come from two installs" "is version 2.28.3"
       "library ${W}/nccl-lib/lib/libnccl.so.2 is version 2.30.4"
  ARGS "-DCUDNN_ROOT=${wheels}/cudnn" "-DNCCL_ROOT=${W}/nccl-header;${W}/nccl-lib")

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} find-module case(s) failed")
endif()
