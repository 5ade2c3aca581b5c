#!/usr/bin/env bash
# The main job, from nothing: installs what is missing, builds, and shows what was built.
# (Training on the built-in Fashion-MNIST data arrives with the trainer; until then this builds the
# alexnet binary and its CPU reference layers and reports the backends.)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh "$@"
build_dir=${BUILD_DIR:-build}
echo
echo "built:"
for target in alexnet alexnet_tests conv_bench; do
  [ -x "$build_dir/$target" ] && echo "  $build_dir/$target"
done
echo
"$build_dir/alexnet" version
