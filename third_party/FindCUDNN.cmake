# Finds cuDNN (version 8 or 9) and defines the imported target CUDNN::cudnn.
# Looks in CUDNN_ROOT / $CUDNN_ROOT, next to the CUDA toolkit, the system, then PyTorch's
# nvidia-cudnn wheel (site-packages/nvidia/cudnn, which has only libcudnn.so.9); header and library
# from one install, their versions checked (AlexnetFindHeaderAndLibrary.cmake).
# Sets CUDNN_FOUND, CUDNN_VERSION, CUDNN_INCLUDE_DIR, CUDNN_LIBRARY.
include(${CMAKE_CURRENT_LIST_DIR}/AlexnetFindHeaderAndLibrary.cmake)
alexnet_find_header_and_library(CUDNN HEADER cudnn_version.h LIBRARY cudnn WHEEL cudnn
  VERSION_MACROS CUDNN_MAJOR CUDNN_MINOR CUDNN_PATCHLEVEL
  HINTS ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR} ${CUDAToolkit_INCLUDE_DIRS}
        ${CUDAToolkit_LIBRARY_DIR})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CUDNN REQUIRED_VARS CUDNN_LIBRARY CUDNN_INCLUDE_DIR VERSION_VAR CUDNN_VERSION)
if(CUDNN_FOUND AND NOT TARGET CUDNN::cudnn)
  add_library(CUDNN::cudnn UNKNOWN IMPORTED)
  set_target_properties(CUDNN::cudnn PROPERTIES IMPORTED_LOCATION "${CUDNN_LIBRARY}"
                                                INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
