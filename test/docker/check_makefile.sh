#!/usr/bin/env bash
# There is no Docker engine here: check that Makefile.docker's targets parse and would run the
# docker commands they promise (make -n prints them without running anything).
#   check_makefile.sh REPO
set -euo pipefail
cd "$1"
expect() {  # expect TARGET TEXT...
  local target=$1 out; shift
  out=$(make -n -f Makefile.docker "$target") || { echo "make -n $target failed"; exit 1; }
  for text in "$@"; do
    grep -qF -- "$text" <<< "$out" || { echo "target $target: no '$text' in:"; echo "$out"; exit 1; }
  done
}
expect build "docker build" "-f docker/Dockerfile" "-t alexnet:cuda13"
expect test "docker run" "--gpus all" "--ipc=host" "/data:/work/alexnet/data" "tools/test.sh"
expect shell "docker run" "--gpus all" "--ipc=host" "bash"
expect train "docker run" "--gpus all" "--ipc=host" "/data:/work/alexnet/data" "/runs:/work/alexnet/runs" \
  "alexnet train --config experiments/runs/mini-fashion.toml"
expect train "docker run" "--gpus all" "--ipc=host"
expect shell "-it"
grep -q '^ARG BASE=nvidia/cuda:13[.0-9]*-cudnn-devel' docker/Dockerfile || { echo "Dockerfile: not a CUDA 13 cuDNN devel base"; exit 1; }
grep -q 'RUN tools/setup.sh' docker/Dockerfile || { echo "Dockerfile: does not install with tools/setup.sh"; exit 1; }
echo "Makefile.docker: build, test, shell and train parse"
