#!/usr/bin/env bash
# Configures and builds into $BUILD_DIR (default build/). Extra arguments go to cmake, e.g.
#   tools/build.sh -DALEXNET_CUDA=OFF   or   tools/build.sh -DCMAKE_CUDA_ARCHITECTURES=80
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build_dir/Makefile" ]; then generator=(-G Ninja); fi
cmake -S . -B "$build_dir" "${generator[@]}" "$@"
cmake --build "$build_dir" --parallel "$(nproc)"
