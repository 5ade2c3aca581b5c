# ALEXNET_CUDA=AUTO without a usable CUDA compiler: the configure goes on, CPU only, and says so
# with a WARNING naming what was missing (not a STATUS line that scrolls by).
#
#   cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -DCXX=<c++ compiler> -P test/cmake/cuda_fallback.cmake
cmake_minimum_required(VERSION 3.24)
file(REMOVE_RECURSE "${WORK_DIR}")
# CUDACXX naming no compiler makes check_language(CUDA) find none, whatever this machine has.
execute_process(COMMAND ${CMAKE_COMMAND} -E env CUDACXX=${WORK_DIR}/no-such-nvcc
                        ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}" -DALEXNET_CUDA=AUTO
                        -DCMAKE_CXX_COMPILER=${CXX}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
string(REGEX REPLACE "[ \n]+" " " all "${all}")  # CMake wraps a warning's lines
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the configure failed (exit status ${rc}) instead of falling back:\n${all}")
endif()
foreach(text "CMake Warning" "ALEXNET_CUDA=AUTO: building the CPU backend only; not found: a CUDA compiler"
             "alexnet backends: cpu only")
  string(FIND "${all}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the configure did not print '${text}':\n${all}")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")  # a whole configure's files: not worth keeping
message("ok: CPU-only fallback with a WARNING")
