#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Exits non-zero on any failure.
# GPU tests report themselves skipped, with the reason, on machines without a CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh "$@"
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)"
