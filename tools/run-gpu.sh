#!/usr/bin/env bash
# GPU checks for a bundle made by tools/gpu-bundle.sh (which copies this file into it), on a host
# with an NVIDIA GPU, its driver and the CUDA libraries (PyTorch's nvidia-* wheels and/or the CUDA
# toolkit), but not necessarily our Debian ones. One shot: every step runs whatever the others
# gave, under its own timeout, and the whole script ends within 8 minutes on one H200.
#
#   ./run-gpu.sh [LOGS]               every step; LOGS: default $OUT when set, else ./gpu-logs
#   ./run-gpu.sh --dry-run [LOGS]     print the steps, their budgets and commands; run nothing
#   ./run-gpu.sh --check-glibc [X.Y]  only the glibc check, against X.Y (default: MANIFEST.txt's)
#
# Steps and budgets (seconds, each enforced by `timeout`; a step never runs past the deadline,
# 450 s after the start, and the logs are packed after it):
#   glibc         5   the host's glibc against the highest GLIBC_x.y the bundle needs (MANIFEST.txt);
#                     fails at once, before anything loads, when the host's is older
#   unpack       30   our Debian libraries (lib.tar.xz), once per bundle, outside the bundle
#   libraries    10   where each CUDA library was found (or MISSING; extra folders first:
#                     CUDA_LIB_DIRS=a:b), and the host's NCCL version (the bundle carries none)
#   nvidia-smi   10
#   version      10   alexnet version
#   gpu-tests   100   the suites Gpu*, NcclCommunicator, CudaErrors (or $GPU_TEST_FILTER); XML in
#                     LOGS/gpu-tests.xml. FAILS when nvidia-smi lists GPUs but tests skipped for
#                     want of one ("no CUDA device is visible")
#   time-split   30   `alexnet time` of the paper's net, two towers on cuda:0 (--write LOGS/time-split)
#   time-single  30   the same, one device (--write LOGS/time-single)
#   ranks-nccl   35   the split as 2 processes over NCCL (`alexnet launch --nproc 2 -- time`): one GPU
#                     per rank with 2 GPUs; both on cuda:0 (--nccl-multi-rank-gpu) with one GPU and
#                     the host's NCCL >= 2.30; else skipped with the reason and the version
#   torch-B-MATH 4 x 38  experiments/bench/compare_torch.py --device cuda, batch B in 128 and 256,
#                     MATH in fp32 and tf32, one A/B round of 10 steps after 3 warm-up steps
#                     (LOGS/torch-B-MATH.json)
#   pack          10  (in the reserve) LOGS packed into LOGS/gpu-logs.tar.gz when LOGS is $OUT
# Sum: 412 s, and 10 to pack; the deadline leaves 38 s for the moments between steps (and for
# `timeout -k 5`'s grace after a step that ignores SIGTERM).
# Prints a summary (also LOGS/summary.txt) and exits 1 if any step failed.
# shellcheck disable=SC2317  # the functions below run through step(), i.e. `timeout bash -c`
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=run
case ${1:-} in
  --dry-run) mode=dry; shift ;;
  --check-glibc) mode=glibc; shift ;;
  -h | --help) sed -n '2,/^set -uo/{/^set/d;/^# shellcheck/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
esac

# --- glibc -----------------------------------------------------------------------------------
# The bundled libstdc++ and the rest come from Debian 12 and import glibc symbols up to the
# version gpu-bundle.sh recorded; on an older glibc the dynamic loader would refuse them with a
# "version `GLIBC_2.36' not found" per binary. Say it once, first.
glibc_needed() { sed -n 's/^glibc needed: \([0-9.]*\).*/\1/p' "$here/MANIFEST.txt" 2>/dev/null; }
host_glibc() {
  local v
  v=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
  [ -n "$v" ] || v=$(ldd --version 2>/dev/null | head -n1 | grep -o '[0-9]\+\.[0-9]\+$')
  echo "$v"
}
check_glibc() {  # check_glibc NEEDED: 0 when the host's glibc is at least NEEDED
  local need=$1 have
  have=$(host_glibc)
  if [ -z "$need" ]; then echo "glibc: the bundle records no version needed (no MANIFEST.txt?): not checked"; return 0; fi
  if [ -z "$have" ]; then
    echo "run-gpu: cannot tell this host's glibc version (getconf GNU_LIBC_VERSION, ldd --version);" \
      "the bundle needs glibc >= $need"
    return 1
  fi
  if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
    local who
    who=$(sed -n "s/^glibc needed: $need *//p" "$here/MANIFEST.txt" 2>/dev/null)  # MANIFEST's reason
    echo "run-gpu: this host's glibc is $have, older than the $need that the bundle's binaries and" \
      "libraries need${who:+ $who}: nothing in it would load. Run it on a host with glibc >= $need, or make the bundle" \
      "(tools/gpu-bundle.sh) on a distribution no newer than the host's."
    return 1
  fi
  echo "glibc: this host has $have; the bundle needs $need or newer: ok"
}
if [ $mode = glibc ]; then
  check_glibc "${1:-$(glibc_needed)}"
  exit
fi

# --- steps -----------------------------------------------------------------------------------
logs=${1:-${OUT:-./gpu-logs}}
total_s=450 reserve_s=10
deadline=$((SECONDS + total_s))
steps=() failed=0 budget_sum=0
if [ $mode = run ]; then mkdir -p "$logs" && logs=$(cd "$logs" && pwd); fi
record() { steps+=("$(printf '%-14s %s' "$1" "$2")"); [[ $2 == ok* || $2 == skipped* ]] || failed=1; }
step() {  # step NAME SECONDS COMMAND...
  local name=$1 secs=$2 left rc
  shift 2
  if [ $mode = dry ]; then
    printf '%-14s %4d s  %s\n' "$name" "$secs" "$*"
    budget_sum=$((budget_sum + secs))
    return 0
  fi
  # timeout runs programs: a function of ours runs in a bash that inherits it (export -f below).
  if declare -F "$1" >/dev/null; then set -- bash -c '"$@"' _ "$@"; fi
  left=$((deadline - SECONDS))
  if [ "$left" -lt 5 ]; then record "$name" "FAILED: not run, the script's $total_s s were spent"; return 1; fi
  [ "$secs" -le "$left" ] || secs=$left
  echo "=== $name (${secs}s): $*"
  timeout -k 5 "$secs" "$@" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  case $rc in
    0) record "$name" ok ;;
    124 | 137) record "$name" "FAILED: timed out after ${secs}s" ;;
    *) record "$name" "FAILED: exit status $rc: $(tail -n1 "$logs/$name.log" | cut -c1-100)" ;;
  esac
  return "$rc"
}
skip() {  # skip NAME REASON
  if [ $mode = dry ]; then printf '%-14s %4s    skipped: %s\n' "$1" - "$2"; else record "$1" "skipped: $2"; fi
}

if [ $mode = dry ]; then
  echo "run-gpu.sh --dry-run: the steps, their budgets and commands (the deadline: $total_s s, then $reserve_s s to pack)"
fi
export here
export -f glibc_needed host_glibc check_glibc
if ! step glibc 5 check_glibc "$(glibc_needed)"; then  # nothing else could load: stop here
  printf '  %s\n' "${steps[@]}" | tee "$logs/summary.txt"
  exit 1
fi

# Our Debian libraries, unpacked once, outside the bundle (which must stay small enough to carry).
lib=${TMPDIR:-/tmp}/gpu-bundle-lib.$([ ! -f "$here/lib.tar.xz" ] || cksum < "$here/lib.tar.xz" | cut -d' ' -f1)
unpack() {
  [ -f "$lib/.unpacked" ] && return 0
  mkdir -p "$lib"
  if command -v xz >/dev/null; then tar -C "$lib" -xJf "$here/lib.tar.xz"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$here/lib.tar.xz" "$lib"
  fi && touch "$lib/.unpacked"
}
export lib
export -f unpack
step unpack 30 unpack
# CUDA's: CUDA_LIB_DIRS, PyTorch's wheels (site-packages/nvidia/{cu13,cudnn,nccl,...}/lib), toolkit, driver.
dirs=${CUDA_LIB_DIRS:+:$CUDA_LIB_DIRS} wheels=()
for nv in $(python3 -c 'import nvidia; print(" ".join(nvidia.__path__))' 2>/dev/null); do wheels+=("$nv"/*/lib); done
for d in "${wheels[@]}" "${CUDA_HOME:-/usr/local/cuda}"/lib64 /usr/local/cuda/lib64 /usr/local/nvidia/lib64; do
  [ -d "$d" ] && [[ :$dirs: != *:$d:* ]] && dirs+=:$d
done
orig_ld=${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH=$lib$dirs${orig_ld:+:$orig_ld}
# The host's Python (and its PyTorch) runs with the host's own library path: our Debian 12
# libstdc++ and friends first on it could shadow the newer ones its extensions need. Our binary,
# when compare_torch.py starts it, gets our path back through a wrapper beside the libraries.
host_python() { LD_LIBRARY_PATH=$orig_ld python3 "$@"; }
alexnet_wrapper=$lib/alexnet
if [ $mode = run ]; then
  mkdir -p "$lib"
  printf '#!/usr/bin/env bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "$LD_LIBRARY_PATH" "$here/bin/alexnet" \
    > "$alexnet_wrapper" && chmod +x "$alexnet_wrapper"
fi
export orig_ld
export -f host_python

# The NCCL this host gives (the bundle cannot carry one under its size cap): the library the
# binaries will load, through LD_LIBRARY_PATH as they do. Prints "2.28.9", or nothing.
host_nccl() {  # libnccl.so.2 needs only CUDA's folders and glibc
  LD_LIBRARY_PATH=${dirs#:}${orig_ld:+:$orig_ld} python3 - <<'PY' 2>/dev/null
import ctypes
v = ctypes.c_int()
ctypes.CDLL("libnccl.so.2").ncclGetVersion(ctypes.byref(v))
v = v.value
print(f"{v // 10000}.{v // 100 % 100}.{v % 100}" if v >= 20900 else f"{v // 1000}.{v // 100 % 10}.{v % 100}")
PY
}
check_libs() {
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  local name note d found missing=0 ds
  IFS=: read -ra ds <<< "$LD_LIBRARY_PATH"
  while read -r name note; do
    found=""
    for d in "${ds[@]}"; do [ -e "$d/$name" ] && { found=$(readlink -f "$d/$name"); break; }; done
    [ -n "$found" ] || found=$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n {print $NF; exit}')
    if [ -n "$found" ]; then echo "found   $name  $found"; else echo "MISSING $name $note"; missing=1; fi
  done < <(cat "$here/cuda-libs.txt"; echo "libcuda.so.1 (the NVIDIA driver's)")
  ldd "$here"/bin/* | grep 'not found' | sort -u && missing=1
  echo "NCCL on this host: ${nccl:-unknown (python3 could not load libnccl.so.2)}"
  python3 -c 'import importlib.metadata as m; print("wheels:", *sorted({f"{d.name} {d.version}" for d in
    m.distributions() if d.name.lower().startswith("nvidia-")}), sep="\n  ")' 2>/dev/null
  return "$missing"
}
nccl=""
[ $mode = dry ] || nccl=$(host_nccl)
export nccl
export -f check_libs
if ! step libraries 10 check_libs && [ $mode = run ]; then
  unset 'steps[-1]'
  record libraries "FAILED: missing $(awk '/^MISSING/ {print $2} /not found/ {print $1}' "$logs/libraries.log" |
    sort -u | xargs)"
fi
step nvidia-smi 10 nvidia-smi
gpus=0
[ $mode = dry ] || gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
step version 10 "$here/bin/alexnet" version

filter=${GPU_TEST_FILTER:-Gpu*:NcclCommunicator.*:CudaErrors.*}  # the suites that touch CUDA
step gpu-tests 100 "$here/bin/alexnet_tests" --gtest_filter="$filter" --gtest_output="xml:$logs/gpu-tests.xml"
if [ $mode = run ] && [ -f "$logs/gpu-tests.xml" ]; then
  xml=$logs/gpu-tests.xml
  n=$(grep -c '<testcase' "$xml") s=$(grep -c '<skipped' "$xml")
  absent=$(grep -o '<skipped message="[^"]*no CUDA device is visible[^"]*"' "$xml" | wc -l)
  steps[-1]+=" ($n tests: $(grep -c '<failure' "$xml") failed, $s skipped)"
  if [ "$n" = 0 ]; then
    unset 'steps[-1]'
    record gpu-tests "FAILED: no test matched $filter"
  elif [ "$gpus" -gt 0 ] && [ "$absent" -gt 0 ]; then
    why=$(grep -o '<skipped message="[^"]*no CUDA device is visible[^"]*"' "$xml" | head -n1 |
      sed 's/.*no CUDA device/no CUDA device/; s/"$//')
    unset 'steps[-1]'
    record gpu-tests "FAILED: nvidia-smi lists $gpus GPU(s), but $absent GPU test(s) skipped: $why"
  fi
fi

net=$here/experiments/alexnet.toml
step time-split 30 "$here/bin/alexnet" time --net "$net" --placement split --devices cuda:0,cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-split"
step time-single 30 "$here/bin/alexnet" time --net "$net" --placement single --devices cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-single"

# One process per tower over NCCL (issue 15): a GPU per rank, or two ranks on one GPU where the
# host's NCCL has that mode (>= 2.30; our --nccl-multi-rank-gpu sets NCCL_MULTI_RANK_GPU_ENABLE=1).
ranks=("$here/bin/alexnet" launch --nproc 2 -- time --net "$net" --placement split --batch 128
       --iterations 10 --timeout 30s --write "$logs/ranks-nccl")
nccl_has_multi_rank() { [ -n "$nccl" ] && [ "$(printf '2.30\n%s\n' "$nccl" | sort -V | head -n1)" = 2.30 ]; }
if [ $mode = dry ]; then
  step ranks-nccl 35 "${ranks[@]}" --devices cuda
  echo "                       (with one GPU: --devices cuda:0,cuda:0 --nccl-multi-rank-gpu where the host's NCCL" \
    ">= 2.30, else skipped with the version)"
elif [ "$gpus" -ge 2 ]; then
  step ranks-nccl 35 "${ranks[@]}" --devices cuda
elif [ "$gpus" = 1 ] && nccl_has_multi_rank; then
  step ranks-nccl 35 "${ranks[@]}" --devices cuda:0,cuda:0 --nccl-multi-rank-gpu
elif [ "$gpus" = 1 ]; then
  skip ranks-nccl "one GPU, and this host's NCCL is ${nccl:-of unknown version}: two ranks on one GPU need NCCL >= 2.30"
else
  skip ranks-nccl "nvidia-smi lists no GPU"
fi

# Ours against PyTorch on the same net (the host's PyTorch; the bundle carries the script).
for batch in 128 256; do
  for math in fp32 tf32; do
    step "torch-$batch-$math" 38 host_python "$here/experiments/bench/compare_torch.py" --device cuda \
      --alexnet "$alexnet_wrapper" --net "$net" --batch "$batch" --math "$math" --rounds 1 \
      --iterations 10 --warmup 3 --json "$logs/torch-$batch-$math.json"
  done
done

if [ $mode = dry ]; then
  echo "sum of the budgets: $budget_sum s (the deadline: $total_s s; then at most $reserve_s s to pack)"
  echo "(then the summary, and the logs packed into gpu-logs.tar.gz when LOGS is \$OUT: at most $reserve_s s)"
  exit 0
fi
{ echo "=== summary ($HOSTNAME, $(date -u +%FT%TZ), ${SECONDS}s): $([ $failed = 0 ] && echo all passed || echo FAILED)"
  printf '  %s\n' "${steps[@]}"; echo "  logs: $logs"; } | tee "$logs/summary.txt"
if [ -n "${OUT:-}" ] && [ "$logs" = "$(cd "$OUT" && pwd)" ]; then  # the device tool returns at most 8 files
  timeout "$reserve_s" tar -C "$logs" -czf "/tmp/gpu-logs.$$.tar.gz" --exclude=./summary.txt . &&
    find "$logs" -mindepth 1 ! -name summary.txt -delete && mv "/tmp/gpu-logs.$$.tar.gz" "$logs/gpu-logs.tar.gz"
fi
exit $failed
