#!/usr/bin/env bash
# Loader throughput side by side with a plain Python (h5py + numpy) loader on the same file,
# alternating the two (A B A B ...) and printing each run, the medians and their ratio.
#   experiments/bench/loader_compare.sh [FILE.h5] [ROUNDS]
# Without FILE, packs 1,000 Fashion-MNIST training images at 3x256x256 (the full net's input
# before cropping) into a temporary file. Both sides use one thread: the figures are per core.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
python=${PYTHON:-/usr/bin/python3}
file=${1:-}
rounds=${2:-3}
if [ -z "$file" ]; then
  file=$(mktemp -d)/fm256.h5
  "$build/alexnet" pack --source fashion-mnist --size 256 --channels 3 --per-class 100 --output "$file" --no-progress
fi
cpp=() py=()
for r in $(seq "$rounds"); do
  c=$("$build/loader_bench" "$file" --threads 1 --images 3000 | awk '{print $2}')
  p=$("$python" experiments/bench/loader_bench.py "$file" --images 1000 | awk '{print $2}')
  echo "round $r: alexnet loader $c images/s, python $p images/s"
  cpp+=("$c") py+=("$p")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mc=$(median "${cpp[@]}") mp=$(median "${py[@]}")
echo "median: alexnet loader $mc images/s per core, python $mp images/s per core, ratio $(awk -v a="$mc" -v b="$mp" 'BEGIN {printf "%.1f", a / b}')x"
