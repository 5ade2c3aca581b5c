#!/usr/bin/env bash
# Builds the CUDA binaries on a machine without a GPU (the CUDA toolkit, cuDNN and NCCL suffice) and packs
# them into a folder that runs on a GPU host which has the CUDA libraries but not our Debian ones.
#
#   tools/gpu-bundle.sh [--build DIR] [--out DIR] [-- EXTRA_CMAKE_ARGS...]
#
# --build DIR (default build-bundle) is configured Release with -DALEXNET_CUDA=ON. --out DIR (default
# gpu-bundle, replaced if present) gets:
#   bin/           alexnet, alexnet_tests, loader_bench, and conv_bench when built
#   lib.tar.xz     every shared library the binaries load except CUDA's (libcudart, libcublas*, libcudnn*,
#                  libnccl, libcuda...: the GPU host has them) and glibc's (libc, libm, libpthread, libdl, librt,
#                  libresolv, ld-linux: always the host's). libstdc++, libgcc_s, libgomp and libgfortran are
#                  bundled, so the host's compiler does not matter. BLAS/LAPACK come from OpenBLAS's OpenMP
#                  build, as the binaries' RUNPATH asks. xz, because the ~210 MiB of libraries (OpenBLAS is
#                  35 MiB; OpenCV's imgcodecs pulls in GDAL, GDCM and OpenEXR) must fit under 60 MiB.
#   cuda-libs.txt  the CUDA libraries the binaries need, and the parts cuDNN loads at run time
#   experiments/   the network files; MANIFEST.txt: `alexnet version` and where each library came from
#   run-gpu.sh     the GPU checks, run on the GPU host (see its header)
# It then proves that, with LD_LIBRARY_PATH (which beats RUNPATH) naming the unpacked libraries and CUDA's
# folders, nothing else is loaded from this machine but glibc, and fails if the folder is over 60 MiB
# (after `strip --strip-unneeded` on the copies and xz -9, if needed). The folder is git-ignored: on the device
# machine, carry it (`carry: ["gpu-bundle"]`) and run `gpu-bundle/run-gpu.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-bundle out=gpu-bundle limit_mib=60 cmake_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --) shift; cmake_args=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "gpu-bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "gpu-bundle: $*" >&2; exit 1; }

echo "== building into $build"
BUILD_DIR=$build tools/build.sh -DCMAKE_BUILD_TYPE=Release -DALEXNET_CUDA=ON "${cmake_args[@]}"
rm -rf "$out"
mkdir -p "$out/bin" "$out/experiments"
for t in alexnet alexnet_tests loader_bench conv_bench; do
  if [ -x "$build/$t" ]; then cp "$build/$t" "$out/bin/"; elif [ "$t" != conv_bench ]; then die "no $build/$t"; fi
done
cp experiments/*.toml "$out/experiments/"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The libraries the binaries load. libblas.so.3 and liblapack.so.3 (OpenCV's) come from the OpenMP OpenBLAS
# folder too: else Debian's alternatives pick the pthread build, and a second 35 MiB OpenBLAS is bundled.
blas_dir=$(sed -n 's/^OPENBLAS_OPENMP_LIBRARY:FILEPATH=//p' "$build/CMakeCache.txt" | xargs -r dirname)
LD_LIBRARY_PATH=$blas_dir ldd "$out"/bin/* > "$stage/ldd.txt"
! grep 'not found' "$stage/ldd.txt" || die "libraries missing on this machine"
cuda_re='^lib(cuda|cudart|cublas|cublasLt|cudnn.*|nccl|nvrtc.*|nvJitLink|curand|cufft|cusparse|cusolver|cupti|nvToolsExt)\.so'
glibc_re='^(ld-linux.*|lib(c|m|mvec|pthread|dl|rt|resolv|util|anl|nsl|BrokenLocale)\.so\..*)$'
grep -q "libcudart\.so" "$stage/ldd.txt" || die "$build is not a CUDA build"
mkdir "$stage/lib"
cuda_dirs="" bundled=()
while read -r name path; do
  if [[ $name =~ $cuda_re ]]; then
    echo "$name" >> "$out/cuda-libs.txt"
    cuda_dirs+=:$(dirname "$path")
    if [[ $name == libcudnn.so.* ]]; then  # cuDNN 9 dlopens its parts from beside itself
      (cd "$(dirname "$path")" && ls libcudnn_*.so."${name##*.so.}" 2>/dev/null) |
        sed 's/$/ (loaded by cuDNN at run time)/' >> "$out/cuda-libs.txt" || true
    fi
  elif [[ ! $name =~ $glibc_re ]]; then
    cp -L "$path" "$stage/lib/$name"
    bundled+=("$name  <- $(readlink -f "$path")")
  fi
done < <(awk '/=> \//{print $1, $3}' "$stage/ldd.txt" | sort -u)

pack() { tar -C "$stage/lib" --sort=name -cf - . | xz -T0 "$1" > "$out/lib.tar.xz"; }  # pack XZ_LEVEL
bytes() { du -sb "$out" | cut -f1; }
echo "== compressing ${#bundled[@]} libraries"
pack -6
if [ "$(bytes)" -gt $((limit_mib << 20)) ]; then  # -9 saves ~3 MiB more, in 4 minutes instead of 1
  echo "== over $limit_mib MiB: stripping the binaries and libraries, and compressing harder"
  strip --strip-unneeded "$out"/bin/* "$stage"/lib/*
  pack -9
fi

echo "== checking that the bundle resolves every library but glibc's and CUDA's from itself"
mkdir "$stage/check"
tar -C "$stage/check" -xJf "$out/lib.tar.xz"
check_env=(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$stage/check$cuda_dirs")
stray=$("${check_env[@]}" ldd "$out"/bin/* | awk '/=> /{print $1, $3}' | sort -u | while read -r name path; do
  [[ $name =~ $glibc_re || $name =~ $cuda_re || $path == "$stage/check/"* ]] || echo "  $name => $path"
done)
[ -z "$stray" ] || die "not resolved from the bundle:"$'\n'"$stray"
{
  "${check_env[@]}" "$out/bin/alexnet" version
  echo "built $(date -u +%FT%TZ) from $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "CUDA libraries expected on the GPU host:"; sed 's/^/  /' "$out/cuda-libs.txt"
  echo "bundled libraries (lib.tar.xz):"; printf '  %s\n' "${bundled[@]}"
} > "$out/MANIFEST.txt"

cat > "$out/run-gpu.sh" <<'EOF'
#!/usr/bin/env bash
# GPU checks for this bundle (made by tools/gpu-bundle.sh) on a host with an NVIDIA GPU, its driver and the
# CUDA libraries (PyTorch's nvidia-* wheels and/or the CUDA toolkit), but not necessarily our Debian ones.
#
#   ./run-gpu.sh [LOGS]      LOGS: default $OUT when set, else ./gpu-logs
#
# Steps, each under a timeout and logged to LOGS/<step>.log, each run whatever the others gave:
#   libraries    where each CUDA library was found (or MISSING; extra folders first: CUDA_LIB_DIRS=a:b)
#   nvidia-smi, version (alexnet version)
#   gpu-tests    the suites Gpu*, NcclCommunicator, CudaErrors (or $GPU_TEST_FILTER); XML in LOGS/gpu-tests.xml
#   time-split, time-single   `alexnet time` of the paper's net, two towers on cuda:0 / one device
#                (--write LOGS/time-split, LOGS/time-single)
#   ranks-nccl   the split as 2 processes, one GPU each, over NCCL (`alexnet launch --nproc 2 -- time`);
#                skipped with its reason on a host with fewer than 2 GPUs
# Prints a summary (also LOGS/summary.txt) and exits 1 if any step failed. When LOGS is $OUT (the device
# tool returns at most 8 files), all but summary.txt is packed into LOGS/gpu-logs.tar.gz at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
logs=${1:-${OUT:-./gpu-logs}}
mkdir -p "$logs" && logs=$(cd "$logs" && pwd)
steps=() failed=0
record() { steps+=("$(printf '%-12s %s' "$1" "$2")"); [[ $2 == ok* ]] || failed=1; }
step() {  # step NAME SECONDS COMMAND...
  local name=$1 secs=$2 rc; shift 2
  echo "=== $name: $*"
  timeout -k 10 "$secs" "$@" 2>&1 | tee "$logs/$name.log"; rc=${PIPESTATUS[0]}
  case $rc in 0) record "$name" ok ;; 124 | 137) record "$name" "FAILED: timed out after ${secs}s" ;;
    *) record "$name" "FAILED: exit status $rc: $(tail -n1 "$logs/$name.log" | cut -c1-100)" ;; esac
}

# Our Debian libraries, unpacked once, outside the bundle (which must stay small enough to carry).
lib=${TMPDIR:-/tmp}/gpu-bundle-lib.$(cksum < "$here/lib.tar.xz" | cut -d' ' -f1)
if [ ! -f "$lib/.unpacked" ]; then
  mkdir -p "$lib"
  if command -v xz >/dev/null; then tar -C "$lib" -xJf "$here/lib.tar.xz"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$here/lib.tar.xz" "$lib"
  fi && touch "$lib/.unpacked"
fi
# CUDA's: CUDA_LIB_DIRS, PyTorch's wheels (site-packages/nvidia/{cu13,cudnn,nccl,...}/lib), toolkit, driver.
dirs=${CUDA_LIB_DIRS:+:$CUDA_LIB_DIRS} wheels=()
for nv in $(python3 -c 'import nvidia; print(" ".join(nvidia.__path__))' 2>/dev/null); do wheels+=("$nv"/*/lib); done
for d in "${wheels[@]}" "${CUDA_HOME:-/usr/local/cuda}"/lib64 /usr/local/cuda/lib64 /usr/local/nvidia/lib64; do
  [ -d "$d" ] && [[ :$dirs: != *:$d:* ]] && dirs+=:$d
done
export LD_LIBRARY_PATH=$lib$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

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
  python3 -c 'import importlib.metadata as m; print("wheels:", *sorted({f"{d.name} {d.version}" for d in
    m.distributions() if d.name.lower().startswith("nvidia-")}), sep="\n  ")' 2>/dev/null
  return $missing
}
echo "=== libraries"
check_libs 2>&1 | tee "$logs/libraries.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then record libraries ok; else record libraries "FAILED: missing $(
  awk '/^MISSING/ {print $2} /not found/ {print $1}' "$logs/libraries.log" | sort -u | xargs)"; fi

step nvidia-smi 60 nvidia-smi
step version 60 "$here/bin/alexnet" version
filter=${GPU_TEST_FILTER:-Gpu*:NcclCommunicator.*:CudaErrors.*}  # the suites that touch CUDA
step gpu-tests 300 "$here/bin/alexnet_tests" --gtest_filter="$filter" --gtest_output="xml:$logs/gpu-tests.xml"
if [ -f "$logs/gpu-tests.xml" ]; then
  n=$(grep -c '<testcase' "$logs/gpu-tests.xml") s=$(grep -c '<skipped' "$logs/gpu-tests.xml")
  steps[-1]+=" ($n tests: $(grep -c '<failure' "$logs/gpu-tests.xml") failed, $s skipped)"
  if [ "$n" = 0 ]; then unset 'steps[-1]'; record gpu-tests "FAILED: no test matched $filter"; fi
fi
net=$here/experiments/alexnet.toml
step time-split 200 "$here/bin/alexnet" time --net "$net" --placement split --devices cuda:0,cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-split"
step time-single 200 "$here/bin/alexnet" time --net "$net" --placement single --devices cuda:0 \
  --batch 128 --iterations 10 --write "$logs/time-single"
# One process per tower over NCCL (issue 15): needs two GPUs (two ranks on one GPU need NCCL >= 2.30).
if [ "$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')" -ge 2 ]; then
  step ranks-nccl 300 "$here/bin/alexnet" launch --nproc 2 -- time --net "$net" --placement split --devices cuda \
    --batch 128 --iterations 10 --timeout 120s --write "$logs/ranks-nccl"
else
  steps+=("$(printf '%-12s %s' ranks-nccl "skipped: fewer than 2 GPUs (one rank per GPU)")")
fi

{ echo "=== summary ($HOSTNAME, $(date -u +%FT%TZ)): $([ $failed = 0 ] && echo all passed || echo FAILED)"
  printf '  %s\n' "${steps[@]}"; echo "  logs: $logs"; } | tee "$logs/summary.txt"
if [ -n "${OUT:-}" ] && [ "$logs" = "$(cd "$OUT" && pwd)" ]; then
  tar -C "$logs" -czf "/tmp/gpu-logs.$$.tar.gz" --exclude=./summary.txt . &&
    find "$logs" -mindepth 1 ! -name summary.txt -delete && mv "/tmp/gpu-logs.$$.tar.gz" "$logs/gpu-logs.tar.gz"
fi
exit $failed
EOF
chmod +x "$out/run-gpu.sh"

size=$(bytes)
du -h --max-depth=1 "$out" | sort -h | sed 's/^/  /'
printf '== %s: %s MiB (limit %d MiB), %d libraries bundled; CUDA libraries needed: %s\n' "$out" \
  "$(awk -v b="$size" 'BEGIN {printf "%.1f", b / 1048576}')" "$limit_mib" "${#bundled[@]}" \
  "$(grep -v loaded "$out/cuda-libs.txt" | xargs)"
[ "$size" -le $((limit_mib << 20)) ] || die "$out is over $limit_mib MiB"
