#!/usr/bin/env bash
# Builds the CUDA binaries on a machine without a GPU (the CUDA toolkit, cuDNN and NCCL suffice) and packs
# them into a folder that runs on a GPU host which has the CUDA libraries but not our Debian ones.
#
#   tools/gpu-bundle.sh [--build DIR] [--no-build] [--out DIR] [-- EXTRA_CMAKE_ARGS...]
#
# --build DIR (default build-bundle) is configured Release with -DALEXNET_CUDA=ON and built;
# --no-build packs what DIR already holds (a CUDA Release build, such as tools/test.sh's build/).
# --out DIR (default gpu-bundle, replaced if present) gets:
#   bin/           alexnet, alexnet_tests, loader_bench, and conv_bench when built
#   lib.tar.xz     every shared library the binaries load except CUDA's (libcudart, libcublas*, libcudnn*,
#                  libnccl, libcuda...: the GPU host has them) and glibc's (libc, libm, libpthread, libdl, librt,
#                  libresolv, ld-linux: always the host's). libstdc++, libgcc_s, libgomp and libgfortran are
#                  bundled, so the host's compiler does not matter. BLAS/LAPACK come from OpenBLAS's OpenMP
#                  build, as the binaries' RUNPATH asks. xz, because the ~70 MiB of libraries (OpenBLAS is
#                  35 MiB) must fit, with the binaries, under 50 MiB.
#   cuda-libs.txt  the CUDA libraries the binaries need, and the parts cuDNN loads at run time
#   experiments/   the network files; MANIFEST.txt: `alexnet version`, where each library came from,
#                  every file of the bundle with its size, and the bundle's total
#   run-gpu.sh     the GPU checks, run on the GPU host (tools/run-gpu.sh; see its header), with
#                  experiments/bench/compare_torch.py for its PyTorch comparison
#   MANIFEST.txt also records the highest glibc version any bundled file needs (objdump -T), which
#   run-gpu.sh checks against the host's first.
# It then proves that, with LD_LIBRARY_PATH (which beats RUNPATH) naming the unpacked libraries and CUDA's
# folders, nothing else is loaded from this machine but glibc, and fails if the folder is over 60 MiB
# (after `strip --strip-unneeded` on the copies and xz -9, if needed). The device machine takes 64 MiB of
# files in all, the source tree included: 50 MiB leaves room for it. The folder is git-ignored: on the device
# machine, carry it (`carry: ["gpu-bundle"]`) and run `gpu-bundle/run-gpu.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-bundle out=gpu-bundle limit_mib=50 cmake_args=() build_it=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --no-build) build_it=0; shift ;;
    --) shift; cmake_args=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "gpu-bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "gpu-bundle: $*" >&2; exit 1; }

if [ $build_it = 1 ]; then
  echo "== building into $build"
  BUILD_DIR=$build tools/build.sh -DCMAKE_BUILD_TYPE=Release -DALEXNET_CUDA=ON "${cmake_args[@]}"
fi
[ -f "$build/CMakeCache.txt" ] || die "$build holds no build"
grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" || die "$build is not a Release build"
rm -rf "$out"
mkdir -p "$out/bin" "$out/experiments"
for t in alexnet alexnet_tests loader_bench conv_bench; do
  if [ -x "$build/$t" ]; then cp "$build/$t" "$out/bin/"; elif [ "$t" != conv_bench ]; then die "no $build/$t"; fi
done
mkdir -p "$out/experiments/bench"
cp experiments/*.toml "$out/experiments/"
cp experiments/bench/compare_torch.py "$out/experiments/bench/"
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
# The highest GLIBC_x.y symbol version any bundled binary or library imports: the oldest glibc the
# GPU host may have (run-gpu.sh checks it first). Debian 12's libstdc++ alone needs 2.36
# (arc4random).
glibc_needed=$(for f in "$out"/bin/* "$stage"/check/*; do
  objdump -T "$f" 2>/dev/null | grep -o '(GLIBC_[0-9][0-9.]*) *[^ ]*$' |
    sed "s|^(GLIBC_\([0-9.]*\)) *|\1 |; s|\$| $(basename "$f")|"
done | sort -V -k1,1 | tail -n1)  # "2.36 arc4random libstdc++.so.6"
[ -n "$glibc_needed" ] || die "found no GLIBC_ symbol version in the bundle (objdump -T)"
read -r glibc_version glibc_symbol glibc_file <<< "$glibc_needed"
{
  echo "glibc needed: $glibc_version ($glibc_file imports $glibc_symbol@GLIBC_$glibc_version)"
  "${check_env[@]}" "$out/bin/alexnet" version
  echo "built $(date -u +%FT%TZ) from $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "CUDA libraries expected on the GPU host:"; sed 's/^/  /' "$out/cuda-libs.txt"
  echo "bundled libraries (lib.tar.xz):"; printf '  %s\n' "${bundled[@]}"
} > "$out/MANIFEST.txt"

cp tools/run-gpu.sh "$out/run-gpu.sh"

# What the bundle holds, file by file, and its size (this list included: measured after writing it).
contents() {
  echo "contents (bytes):"
  (cd "$out" && find . -type f ! -name MANIFEST.txt | sort | while read -r f; do printf '  %10d  %s\n' "$(stat -c %s "$f")" "${f#./}"; done)
}
contents >> "$out/MANIFEST.txt"
echo "total: 0000000000 bytes (00.0 MiB), this file included" >> "$out/MANIFEST.txt"
size=$(bytes)
sed -i "s/^total: 0000000000 bytes (00.0 MiB)/total: $(printf '%010d' "$size") bytes ($(awk -v b="$size" 'BEGIN {printf "%04.1f", b / 1048576}') MiB)/" "$out/MANIFEST.txt"
[ "$(bytes)" = "$size" ] || die "MANIFEST.txt's total changed its own size"

du -h --max-depth=1 "$out" | sort -h | sed 's/^/  /'
printf '== %s: %s MiB (limit %d MiB), %d libraries bundled; CUDA libraries needed: %s\n' "$out" \
  "$(awk -v b="$size" 'BEGIN {printf "%.1f", b / 1048576}')" "$limit_mib" "${#bundled[@]}" \
  "$(grep -v loaded "$out/cuda-libs.txt" | xargs)"
[ "$size" -le $((limit_mib << 20)) ] || die "$out is over $limit_mib MiB"
