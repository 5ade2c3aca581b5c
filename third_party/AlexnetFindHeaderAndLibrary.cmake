# The search FindCUDNN.cmake and FindNCCL.cmake share: a header and its library from one install,
# whichever way the install is laid out, and a clear failure when they come from two.
#
#   alexnet_find_header_and_library(PKG HEADER file LIBRARY name VERSION_MACROS major minor patch
#                                   WHEEL folder HINTS dirs...)
#
# Sets PKG_INCLUDE_DIR and PKG_LIBRARY (cache), PKG_VERSION (from the header's macros).
#   - Names: the plain one (libcudnn.so) and the versioned one (libcudnn.so.9), which is all that
#     PyTorch's nvidia-* wheels ship (site-packages/nvidia/cudnn/{include,lib}).
#   - Order: PKG_ROOT and $ENV{PKG_ROOT}, then HINTS (the CUDA toolkit's folders), then the
#     system; last the wheels' folder, NVIDIA_WHEELS_DIR (site-packages/nvidia), which defaults to
#     what python3 reports, so that a system install wins over a wheel.
#   - The library is looked for beside the header's install first, then everywhere as above.
#   - The library's version (its file name after resolving links, e.g. libcudnn.so.9.19.0, else
#     its soname) must agree with the header's in every part it has; otherwise FATAL_ERROR naming
#     both paths, since a program compiled against one and loaded with the other fails later and
#     less clearly.
include_guard(GLOBAL)

function(_alexnet_nvidia_wheels_dir out)
  if(DEFINED NVIDIA_WHEELS_DIR)
    set(${out} "${NVIDIA_WHEELS_DIR}" PARENT_SCOPE)
    return()
  endif()
  find_program(_alexnet_python3 python3)
  set(_dir "")
  if(_alexnet_python3)
    # nvidia is a namespace package: its __path__ lists every site-packages that has one.
    execute_process(COMMAND ${_alexnet_python3} -c "import nvidia; print(';'.join(nvidia.__path__))"
                    OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  set(NVIDIA_WHEELS_DIR "${_dir}" CACHE PATH "site-packages/nvidia of PyTorch's nvidia-* wheels (searched last)")
  set(${out} "${_dir}" PARENT_SCOPE)
endfunction()

# The version in a library's file name (links resolved), else in its soname: "9.19.0", "9" or "".
function(_alexnet_library_version library out)
  file(REAL_PATH "${library}" _real)
  get_filename_component(_name "${_real}" NAME)
  if(_name MATCHES "\\.so\\.([0-9]+(\\.[0-9]+)*)$")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    return()
  endif()
  find_program(_alexnet_readelf readelf)
  set(${out} "" PARENT_SCOPE)
  if(_alexnet_readelf)
    execute_process(COMMAND ${_alexnet_readelf} -d "${_real}" OUTPUT_VARIABLE _dynamic ERROR_QUIET)
    if(_dynamic MATCHES "soname: \\[[^]]*\\.so\\.([0-9]+(\\.[0-9]+)*)\\]")
      set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

function(alexnet_find_header_and_library pkg)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "HEADER;LIBRARY;WHEEL" "VERSION_MACROS;HINTS")
  _alexnet_nvidia_wheels_dir(_wheels)
  set(_wheel_dirs "")
  foreach(_dir IN LISTS _wheels)
    list(APPEND _wheel_dirs "${_dir}/${A_WHEEL}")
  endforeach()
  set(_roots ${${pkg}_ROOT} $ENV{${pkg}_ROOT})
  set(_suffixes lib64 lib lib/x64 lib/${CMAKE_LIBRARY_ARCHITECTURE})

  find_path(${pkg}_INCLUDE_DIR ${A_HEADER} HINTS ${_roots} ${A_HINTS} PATH_SUFFIXES include
            PATHS ${_wheel_dirs})
  set(_version "")
  if(${pkg}_INCLUDE_DIR AND EXISTS "${${pkg}_INCLUDE_DIR}/${A_HEADER}")
    file(READ "${${pkg}_INCLUDE_DIR}/${A_HEADER}" _header)
    foreach(_macro IN LISTS A_VERSION_MACROS)
      string(REGEX MATCH "define ${_macro} +([0-9]+)" _ "${_header}")
      list(APPEND _version "${CMAKE_MATCH_1}")
    endforeach()
    list(JOIN _version "." _version)
  endif()
  set(_names ${A_LIBRARY})
  if(_version MATCHES "^([0-9]+)\\.")
    list(APPEND _names lib${A_LIBRARY}.so.${CMAKE_MATCH_1})
  endif()

  if(${pkg}_INCLUDE_DIR)  # beside the header first: <install>/include and <install>/lib*
    get_filename_component(_install "${${pkg}_INCLUDE_DIR}" DIRECTORY)
    find_library(${pkg}_LIBRARY NAMES ${_names} PATHS "${_install}" PATH_SUFFIXES ${_suffixes}
                 NO_DEFAULT_PATH)
  endif()
  find_library(${pkg}_LIBRARY NAMES ${_names} HINTS ${_roots} ${A_HINTS} PATH_SUFFIXES ${_suffixes}
               PATHS ${_wheel_dirs})

  if(_version AND ${pkg}_LIBRARY)
    _alexnet_library_version("${${pkg}_LIBRARY}" _library_version)
    string(REPLACE "." ";" _library_parts "${_library_version}")
    string(REPLACE "." ";" _header_parts "${_version}")
    set(_index 0)
    foreach(_part IN LISTS _library_parts)
      list(LENGTH _header_parts _count)
      if(_index LESS _count)
        list(GET _header_parts ${_index} _header_part)
        if(NOT _part EQUAL _header_part)
          message(FATAL_ERROR
            "${pkg}: the header and the library come from two installs:\n"
            "  header  ${${pkg}_INCLUDE_DIR}/${A_HEADER} is version ${_version}\n"
            "  library ${${pkg}_LIBRARY} is version ${_library_version}\n"
            "Point ${pkg}_ROOT at one install in a fresh build folder, or set ${pkg}_INCLUDE_DIR and "
            "${pkg}_LIBRARY to the same one (docs/gpu.md).")
        endif()
      endif()
      math(EXPR _index "${_index} + 1")
    endforeach()
  endif()
  set(${pkg}_VERSION "${_version}" PARENT_SCOPE)
endfunction()
