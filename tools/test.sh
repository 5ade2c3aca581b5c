#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Exits non-zero on any failure.
# GPU tests report themselves skipped, with the reason, on machines without a CUDA device.
#   tools/test.sh [CMAKE_ARGS...]      the suite, in $BUILD_DIR (default build/)
#   tools/test.sh --sanitize           AddressSanitizer + UndefinedBehaviorSanitizer (and leak
#                                      checks) over the CPU backend, in build-sanitize/, less the
#                                      tests labelled `long` (training runs about four times slower)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
if [ "${1:-}" = --sanitize ]; then
  shift
  export BUILD_DIR=${BUILD_DIR:-build-sanitize}
  tools/build.sh -DALEXNET_CUDA=OFF -DALEXNET_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/test/sanitizer/lsan.supp:print_suppressions=0
  cd "$BUILD_DIR"
  ldd alexnet_tests | grep libasan >/dev/null || { echo "test.sh --sanitize: alexnet_tests is not instrumented" >&2; exit 1; }
  ctest --output-on-failure --parallel "$(nproc)" --label-exclude long
  exit
fi
tools/build.sh "$@"
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)"
