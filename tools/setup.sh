#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Run as root on Debian bookworm.
# Does nothing when they are all present. The CUDA toolkit, cuDNN and NCCL are not Debian
# packages; where they are installed the build finds them, and without them it builds the CPU
# backend alone. `--fuzz` also installs clang for tools/fuzz.sh; `--bench` also makes
# .venv-torch, PyTorch 2.x from PyPI with numpy and h5py, the reference column of
# experiments/bench/compare_torch.py (5.4 GB here: the wheel pulls CUDA wheels a CPU never uses).
# libgloo-dev joins CPU ranks in separate processes; openmpi-bin and python3-torch (Debian's
# PyTorch 1.13, about 180 MB) give the tests a real mpirun and a real torchrun, and the
# comparison a second column.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev libopenblas-openmp-dev libgoogle-glog-dev libgflags-dev libboost-program-options-dev
  libhdf5-dev libtomlplusplus-dev zlib1g-dev libopencv-imgproc-dev libturbojpeg0-dev libpng-dev
  dataset-fashion-mnist python3 python3-h5py python3-numpy python3-matplotlib python3-venv
  libgtest-dev libgmock-dev libbenchmark-dev
  libgloo-dev openmpi-bin python3-torch
)
# tools/fuzz.sh: clang with its libFuzzer and sanitizer runtimes, and clang's OpenMP.
if [ "${1:-}" = --fuzz ]; then packages+=(clang libclang-rt-14-dev libomp-14-dev); fi

# TensorBoard's own reader, from PyPI, in .venv-tools (ignored by git): e2e.hparams reads the
# runs' HParams records with it. Without PyPI the suite goes on and that test says it skipped.
tools_venv() {
  local venv
  venv=$(cd "$(dirname "$0")/.." && pwd)/.venv-tools
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import tensorboard" 2> /dev/null && return 0
  { /usr/bin/python3 -m venv "$venv" && "$venv/bin/pip" install -q tensorboard==2.21.0; } > /dev/null 2>&1 ||
    echo "setup: could not install TensorBoard from PyPI into $venv: e2e.hparams will skip" >&2
}

# PyTorch 2.x from PyPI in .venv-torch (ignored by git), for the benchmarks only.
torch_venv() {
  local venv
  venv=$(cd "$(dirname "$0")/.." && pwd)/.venv-torch
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import torch, h5py" 2> /dev/null && return 0
  { /usr/bin/python3 -m venv "$venv" && "$venv/bin/pip" install -q torch numpy h5py; } > /dev/null 2>&1 ||
    echo "setup: could not install PyTorch from PyPI into $venv" >&2
}
bench=false
if [ "${1:-}" = --bench ]; then bench=true; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  tools_venv
  if $bench; then torch_venv; fi
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (or install them with sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
tools_venv
if $bench; then torch_venv; fi
