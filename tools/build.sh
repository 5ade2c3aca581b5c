#!/usr/bin/env bash
# Configures and builds into $BUILD_DIR (default build/). --target T builds one target (e.g. the
# `alexnet` binary alone); other arguments go to cmake's configure step, e.g.
#   tools/build.sh -DALEXNET_CUDA=OFF   or   tools/build.sh --target alexnet -DCMAKE_CUDA_ARCHITECTURES=80
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
targets=() configure=()
while [ $# -gt 0 ]; do
  case $1 in
    --target) targets+=(--target "$2"); shift 2 ;;
    *) configure+=("$1"); shift ;;
  esac
done
generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then generator=(-G Ninja); fi
cmake -S . -B "$build_dir" "${generator[@]}" "${configure[@]}"
cmake --build "$build_dir" --parallel "$(nproc)" "${targets[@]}"
