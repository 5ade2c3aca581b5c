#!/usr/bin/env bash
# The one-shot GPU check, for a bundle made by tools/gpu-bundle.sh (which copies this file into
# it), on a host with an NVIDIA GPU, its driver and the CUDA libraries (PyTorch's nvidia-* wheels
# and/or the CUDA toolkit), but not necessarily our Debian ones. Every step runs whatever the
# others gave, under its own timeout, and the whole script ends within 8 minutes on one H100.
#
#   ./run-gpu.sh [LOGS]               every step; LOGS: default $OUT when set, else ./gpu-logs
#   ./run-gpu.sh --dry-run [LOGS]     the whole script on a machine without a GPU: every step runs,
#                                     and each that needs a GPU reports NOT TESTED: no GPU; exits 0
#                                     when every other step is ok (CI runs it: the script's own
#                                     bugs are found on a CPU, not in the quarter hour)
#   ./run-gpu.sh --list               the steps, their budgets and commands; runs nothing
#   ./run-gpu.sh --check-glibc [X.Y]  only the glibc check, against X.Y (default: MANIFEST.txt's)
#
# Every step ends as "ok", "FAILED: why" or "NOT TESTED: why", in the summary (LOGS/summary.txt)
# and its own log (LOGS/STEP.log). The exit status is 1 when any required step is not ok: a step
# that did not run is never read as a pass. Optional steps ([optional] in the summary) need what
# one GPU cannot give (two GPUs) or what the host's NCCL may lack (two ranks on one GPU, >= 2.30).
# The steps, in order (budgets in seconds, each enforced by `timeout`; none runs past the
# deadline, 455 s after the start; then at most 10 s to pack the logs):
#   glibc           5  the host's glibc against the highest GLIBC_x.y the bundle needs
#   unpack         20  our Debian libraries (lib.tar.xz), once per bundle, outside the bundle
#   libraries      10  where each CUDA library was found (CUDA_LIB_DIRS=a:b first), the host's NCCL
#   versions       10  nvidia-smi, then `alexnet version`: libraries loaded beside those built with,
#                      each GPU's name, UUID and compute capability
#   relocated      15  CPU tests that read the bundle's network files (ALEXNET_SOURCE_DIR=bundle)
#   gpu-layers     55  GpuLayers.*, GpuComm.*, GpuErrors.*, CudaErrors.*, NcclCommunicator.*, three
#                      times over (--gtest_repeat=3); FAILS when nvidia-smi lists a GPU but tests
#                      skipped for want of one
#   gpu-net        45  GpuNet.* but the paper net's and the deterministic ones, each test named
#   paper-net      40  GpuNet.PaperNet*: the paper's net, step-0 loss and a step against the CPU
#   deterministic  15  GpuNet.DeterministicRunsRepeatBitForBit: two --deterministic runs, bit for bit
#   memcheck       40  compute-sanitizer --tool memcheck on the layer tests and one net step
#   initcheck      40  the same with --tool initcheck
#   nccl           25  NCCL in one process: both towers on cuda:0 (--comm nccl --nccl-multi-rank-gpu,
#                      NCCL >= 2.30) [optional]; with two GPUs, cuda:0,cuda:1
#   ranks-nccl     25  two processes over NCCL, one GPU each [optional: needs two GPUs]
#   time-split     20  `alexnet time` of the paper's net, two towers on cuda:0, and its trace (LOGS/time-split)
#   time-single    20  the same, one device (LOGS/time-single)
#   torch-fp32     35  experiments/bench/compare_torch.py --device cuda --math fp32, batch 128
#   torch-tf32     35  the same in TF32
#   cudnn-parts     5  ldd of cuDNN's sub-libraries (libcudnn_*.so.9) under the bundle's path
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=run
case ${1:-} in
  --dry-run) mode=dry; shift ;;
  --list) mode=list; shift ;;
  --check-glibc) mode=glibc; shift ;;
  -h | --help) sed -n '2,/^set -uo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
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

# --- how a step runs and ends ----------------------------------------------------------------
logs=${1:-${OUT:-./gpu-logs}}
total_s=455 reserve_s=10
deadline=$((SECONDS + total_s))
steps=() bad_required=0 bad_cpu=0 budget_sum=0 gpus=0
if [ $mode != list ]; then mkdir -p "$logs" && logs=$(cd "$logs" && pwd); fi
# record NAME KIND OUTCOME: KIND is cpu (needs no GPU), gpu, or optional (a GPU step that may be
# NOT TESTED without failing the run).
record() {
  local name=$1 kind=$2 outcome=$3
  steps+=("$(printf '%-14s %s%s' "$name" "$outcome" "$([ "$kind" = optional ] && echo '   [optional]')")")
  if [[ $outcome != ok* ]]; then
    if [ "$kind" != optional ] && ! { [ $mode = dry ] && [ "$kind" != cpu ] && [[ $outcome == "NOT TESTED: no GPU"* ]]; }; then
      bad_required=1
    fi
    if [ "$kind" = cpu ] || { [ $mode = dry ] && [[ $outcome != "NOT TESTED"* ]]; }; then bad_cpu=1; fi
  fi
}
# step NAME KIND SECONDS COMMAND...: runs it, logs to LOGS/NAME.log; sets `rc`.
step() {
  local name=$1 kind=$2 secs=$3 left
  shift 3
  if [ $mode = list ]; then
    printf '%-14s %-8s %4d s  %s\n' "$name" "$kind" "$secs" "$*"
    budget_sum=$((budget_sum + secs))
    rc=0
    return 0
  fi
  # timeout runs programs: a function of ours runs in a bash that inherits it (export -f below).
  if declare -F "$1" >/dev/null; then set -- bash -c '"$@"' _ "$@"; fi
  left=$((deadline - SECONDS))
  if [ "$left" -lt 3 ]; then
    record "$name" "$kind" "NOT TESTED: not run, the script's $total_s s were spent"
    rc=124
    return 0
  fi
  [ "$secs" -le "$left" ] || secs=$left
  echo "=== $name (${secs}s): $*"
  timeout -k 5 "$secs" "$@" > "$logs/$name.log" 2>&1
  rc=$?
  tail -n 40 "$logs/$name.log"
  local outcome
  case $rc in
    0) outcome=ok ;;
    124 | 137) outcome="FAILED: timed out after ${secs}s" ;;
    *) outcome="FAILED: exit status $rc: $(grep -v '^\s*$' "$logs/$name.log" | tail -n1 | cut -c1-120)" ;;
  esac
  # Without a GPU a GPU step cannot pass or fail on its merits: it ran, and is NOT TESTED.
  if [ "$kind" != cpu ] && [ "$gpus" = 0 ]; then outcome="NOT TESTED: no GPU ($gpu_absent; the command ran: exit $rc)"; fi
  record "$name" "$kind" "$outcome"
}
skip() {  # skip NAME KIND REASON: a step that cannot run here, NOT TESTED with the reason
  if [ $mode = list ]; then printf '%-14s %-8s %4s    NOT TESTED: %s\n' "$1" "$2" - "$3"; else record "$1" "$2" "NOT TESTED: $3"; fi
}
# Results of a gtest XML, one line per test: "ok GpuNet.X", "FAILED GpuNet.Y", "skipped GpuNet.Z".
gtest_results() {
  python3 - "$1" <<'PY' 2>/dev/null
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    state = "FAILED" if case.find("failure") is not None else "skipped" if case.find("skipped") is not None \
        or case.get("result") == "skipped" else "ok"
    print(state, f"{case.get('classname')}.{case.get('name')}")
PY
}
# gtest_step NAME KIND SECONDS FILTER [ARGS...]: a gtest step whose summary counts its tests, fails
# when none ran, and fails when nvidia-smi lists a GPU but tests skipped for want of one.
gtest_step() {
  local name=$1 kind=$2 secs=$3 filter=$4 xml
  shift 4
  xml=$logs/$name.xml
  step "$name" "$kind" "$secs" "$here/bin/alexnet_tests" --gtest_filter="$filter" --gtest_output="xml:$xml" "$@"
  [ $mode = list ] && return
  [ -f "$xml" ] || return
  local results n failed skipped absent
  results=$(gtest_results "$xml" | sort | uniq -c | awk '{print $2, $3, "x" $1}' | sed 's/ x1$//')
  printf '%s\n' "$results" >> "$logs/$name.log"
  n=$(grep -c '<testcase' "$xml") failed=$(grep -c '^FAILED' <<< "$results") skipped=$(grep -c '^skipped' <<< "$results")
  absent=$(grep -o '<skipped message="[^"]*no CUDA device is visible[^"]*"' "$xml" | wc -l)
  steps[-1]+=" ($n tests: $failed failed, $skipped skipped)"
  if [ "$n" = 0 ]; then
    unset 'steps[-1]'
    record "$name" "$kind" "FAILED: no test matched $filter"
  elif [ "$nvidia_gpus" -gt 0 ] && [ "$absent" -gt 0 ]; then
    unset 'steps[-1]'
    record "$name" "$kind" "FAILED: nvidia-smi lists $nvidia_gpus GPU(s), but $absent GPU test run(s) skipped: no CUDA device is visible"
  fi
  [ "$name" = gpu-net ] || [ "$name" = paper-net ] && steps[-1]+=$'\n'"$(sed 's/^/                   /' <<< "$results")"
}

if [ $mode = list ]; then echo "run-gpu.sh --list: the steps, their kinds, budgets and commands (the deadline: $total_s s)"; fi
export here
export -f glibc_needed host_glibc check_glibc
step glibc cpu 5 check_glibc "$(glibc_needed)"
if [ $mode != list ] && [ "$rc" != 0 ]; then  # nothing else could load: stop here
  printf '  %s\n' "${steps[@]}" | tee "$logs/summary.txt"
  exit 1
fi

# --- the libraries ---------------------------------------------------------------------------
# Ours, unpacked once, outside the bundle (which must stay small enough to carry).
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
step unpack cpu 20 unpack
# CUDA's: CUDA_LIB_DIRS, PyTorch's wheels (site-packages/nvidia/{cu13,cudnn,nccl,...}/lib), toolkit, driver.
dirs=${CUDA_LIB_DIRS:+:$CUDA_LIB_DIRS} wheels=()
for nv in $(python3 -c 'import nvidia; print(" ".join(nvidia.__path__))' 2>/dev/null); do wheels+=("$nv"/*/lib); done
for d in "${wheels[@]}" "${CUDA_HOME:-/usr/local/cuda}"/lib64 /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/nvidia/lib64; do
  [ -d "$d" ] && [[ :$dirs: != *:$d:* ]] && dirs+=:$d
done
orig_ld=${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH=$lib$dirs${orig_ld:+:$orig_ld}
export ALEXNET_SOURCE_DIR=$here  # the tests read the bundle's experiments/, not the build machine's
# The host's Python (and its PyTorch) runs with the host's own library path: our Debian 12
# libstdc++ and friends first on it could shadow the newer ones its extensions need. Our binary,
# when compare_torch.py starts it, gets our path back through a wrapper beside the libraries.
host_python() { LD_LIBRARY_PATH=$orig_ld python3 "$@"; }
alexnet_wrapper=$lib/alexnet
if [ $mode != list ]; then
  mkdir -p "$lib"
  printf '#!/usr/bin/env bash\nLD_LIBRARY_PATH=%q exec %q "$@"\n' "$LD_LIBRARY_PATH" "$here/bin/alexnet" \
    > "$alexnet_wrapper" && chmod +x "$alexnet_wrapper"
fi
export orig_ld
export -f host_python

# The NCCL this host gives (the bundle carries none): the library the binaries will load, through
# LD_LIBRARY_PATH as they do. Prints "2.28.9", or nothing.
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
  done < <(cat "$here/cuda-libs.txt"; [ $mode = dry ] || echo "libcuda.so.1 (the NVIDIA driver's)")
  # (grep . last: sort alone succeeds on no input, which read every bundle as missing something)
  if ldd "$here"/bin/* | grep 'not found' | sort -u | grep .; then missing=1; fi
  echo "NCCL on this host: ${nccl:-unknown (python3 could not load libnccl.so.2)}"
  python3 -c 'import importlib.metadata as m; print("wheels:", *sorted({f"{d.name} {d.version}" for d in
    m.distributions() if d.name.lower().startswith("nvidia-")}), sep="\n  ")' 2>/dev/null
  return "$missing"
}
nccl=""
[ $mode = list ] || nccl=$(host_nccl)
export nccl mode
export -f check_libs
step libraries cpu 10 check_libs
if [ $mode = run ] && [ "$rc" != 0 ]; then
  unset 'steps[-1]'
  record libraries cpu "FAILED: missing $(awk '/^MISSING/ {print $2} /not found/ {print $1}' "$logs/libraries.log" |
    sort -u | xargs)"
fi

# --- the device ------------------------------------------------------------------------------
nvidia_gpus=0 gpu_absent="dry run"
if [ $mode = run ]; then
  nvidia_gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
  gpus=$nvidia_gpus
  gpu_absent="nvidia-smi lists none"
fi
versions() { nvidia-smi -L && nvidia-smi && "$here/bin/alexnet" version && "$here/bin/alexnet" version | grep '^  cuda:0 ' >/dev/null; }
export -f versions
step versions gpu 10 versions
gtest_step relocated cpu 15 'NetworkFile.*:ParamInit.*:PaperNet.*'

gtest_step gpu-layers gpu 55 'GpuLayers.*:GpuComm.*:GpuErrors.*:CudaErrors.*:NcclCommunicator.*' --gtest_repeat=3
gtest_step gpu-net gpu 45 'GpuNet.*:-GpuNet.PaperNet*:GpuNet.Deterministic*'
gtest_step paper-net gpu 40 'GpuNet.PaperNet*'
gtest_step deterministic gpu 15 'GpuNet.DeterministicRunsRepeatBitForBit'

# compute-sanitizer on the layer tests (less the every-algorithm sweep, too slow under it) and one
# step of alexnet-mini.
sanitizer=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}"/bin/compute-sanitizer 2>/dev/null | head -n1)
export sanitizer
sanitize() {  # sanitize TOOL
  [ -n "$sanitizer" ] || { echo "no compute-sanitizer on PATH or in \$CUDA_HOME/bin"; return 3; }
  "$sanitizer" --tool "$1" --error-exitcode 9 "$here/bin/alexnet_tests" \
    --gtest_filter='GpuLayers.*:-GpuLayers.EveryConvAlgorithmMatchesCpu' &&
    "$sanitizer" --tool "$1" --error-exitcode 9 "$here/bin/alexnet" time --net "$here/experiments/alexnet-mini.toml" \
      --placement split --devices cuda:0,cuda:0 --batch 8 --iterations 1 --warmup 0
}
export -f sanitize
step memcheck gpu 40 sanitize memcheck
step initcheck gpu 40 sanitize initcheck

net=$here/experiments/alexnet.toml
# NCCL between the towers in one process. Two processes on one GPU without MPS only time-slice,
# and NCCL's kernels spin waiting for each other: with one GPU both towers stay in one process.
nccl_has_multi_rank() { [ -n "$nccl" ] && [ "$(printf '2.30\n%s\n' "$nccl" | sort -V | head -n1)" = 2.30 ]; }
in_process=("$here/bin/alexnet" time --net "$net" --placement split --comm nccl --batch 128 --iterations 5
            --timeout 60s --write "$logs/nccl")
if [ $mode = list ]; then
  step nccl optional 25 NCCL_NVLS_ENABLE=0 NCCL_MAX_CTAS=8 "${in_process[@]}" --devices cuda:0,cuda:0 --nccl-multi-rank-gpu
elif [ "$gpus" -ge 2 ]; then
  step nccl gpu 25 "${in_process[@]}" --devices cuda:0,cuda:1
elif [ "$gpus" = 0 ] || nccl_has_multi_rank; then
  step nccl optional 25 env NCCL_NVLS_ENABLE=0 NCCL_MAX_CTAS=8 "${in_process[@]}" --devices cuda:0,cuda:0 --nccl-multi-rank-gpu
else
  skip nccl optional "NCCL two ranks on one GPU: NCCL ${nccl:-of unknown version} < 2.30"
fi
ranks=("$here/bin/alexnet" launch --nproc 2 -- time --net "$net" --placement split --batch 128
       --iterations 5 --timeout 30s --devices cuda --write "$logs/ranks-nccl")
if [ $mode = list ] || [ "$gpus" -ge 2 ] || [ "$gpus" = 0 ]; then
  step ranks-nccl optional 25 "${ranks[@]}"
else
  skip ranks-nccl optional "one GPU: two processes over NCCL need a GPU each"
fi

step time-split gpu 20 "$here/bin/alexnet" time --net "$net" --placement split --devices cuda:0,cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-split" --trace "$logs/time-split/trace.json.gz"
step time-single gpu 20 "$here/bin/alexnet" time --net "$net" --placement single --devices cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-single"

# Ours against PyTorch on the same net (the host's PyTorch; the bundle carries the script).
for math in fp32 tf32; do
  step "torch-$math" gpu 35 host_python "$here/experiments/bench/compare_torch.py" --device cuda \
    --alexnet "$alexnet_wrapper" --net "$net" --batch 128 --math "$math" --rounds 1 \
    --iterations 10 --warmup 3 --json "$logs/torch-$math.json"
done

# cuDNN 9 dlopens its parts (libcudnn_ops, _cnn, _engines_*...) at run time: each must resolve.
cudnn_parts() {
  local cudnn part missing=0
  cudnn=$(ldd "$here/bin/alexnet" | awk '$1 ~ /^libcudnn\.so/ {print $3; exit}')
  [ -n "$cudnn" ] || { echo "libcudnn.so.9 not found from the bundle's path"; return 1; }
  for part in "$(dirname "$cudnn")"/libcudnn_*.so.9; do
    [ -e "$part" ] || { echo "no cuDNN sub-library beside $cudnn"; return 1; }
    if ldd "$part" | grep 'not found'; then echo "  (needed by $part)"; missing=1; else echo "ok $part"; fi
  done
  return "$missing"
}
export -f cudnn_parts
step cudnn-parts cpu 5 cudnn_parts

if [ $mode = list ]; then
  echo "sum of the budgets: $budget_sum s (the deadline: $total_s s; then at most $reserve_s s to pack)"
  exit 0
fi
if [ $mode = dry ]; then
  verdict=$([ $bad_cpu = 0 ] && echo "dry run: every step that needs no GPU ok, every GPU step NOT TESTED" ||
    echo "dry run FAILED: a step that needs no GPU is not ok, or a GPU step did not end NOT TESTED")
else
  verdict=$([ $bad_required = 0 ] && echo "every required step ok" || echo "FAILED: a required step is not ok")
fi
{ echo "=== summary ($HOSTNAME, $(date -u +%FT%TZ), ${SECONDS}s, $mode): $verdict"
  printf '  %s\n' "${steps[@]}"; echo "  logs: $logs"; } | tee "$logs/summary.txt"
if [ -n "${OUT:-}" ] && [ "$logs" = "$(cd "$OUT" && pwd)" ]; then  # the device tool returns at most 8 files
  timeout "$reserve_s" tar -C "$logs" -czf "/tmp/gpu-logs.$$.tar.gz" --exclude=./summary.txt . &&
    find "$logs" -mindepth 1 ! -name summary.txt -delete && mv "/tmp/gpu-logs.$$.tar.gz" "$logs/gpu-logs.tar.gz"
fi
if [ $mode = dry ]; then exit $bad_cpu; fi
exit $bad_required
