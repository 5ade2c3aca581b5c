# Finds NCCL and defines the imported target NCCL::nccl.
# Looks in NCCL_ROOT / $NCCL_ROOT, next to the CUDA toolkit, the system, then PyTorch's
# nvidia-nccl wheel (site-packages/nvidia/nccl, which has only libnccl.so.2); header and library
# from one install, their versions checked (AlexnetFindHeaderAndLibrary.cmake).
# Sets NCCL_FOUND, NCCL_VERSION, NCCL_INCLUDE_DIR, NCCL_LIBRARY.
include(${CMAKE_CURRENT_LIST_DIR}/AlexnetFindHeaderAndLibrary.cmake)
alexnet_find_header_and_library(NCCL HEADER nccl.h LIBRARY nccl WHEEL nccl
  VERSION_MACROS NCCL_MAJOR NCCL_MINOR NCCL_PATCH
  HINTS ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR} ${CUDAToolkit_INCLUDE_DIRS}
        ${CUDAToolkit_LIBRARY_DIR})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NCCL REQUIRED_VARS NCCL_LIBRARY NCCL_INCLUDE_DIR VERSION_VAR NCCL_VERSION)
if(NCCL_FOUND AND NOT TARGET NCCL::nccl)
  add_library(NCCL::nccl UNKNOWN IMPORTED)
  set_target_properties(NCCL::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
endif()
mark_as_advanced(NCCL_INCLUDE_DIR NCCL_LIBRARY)
