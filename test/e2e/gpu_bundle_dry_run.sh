#!/usr/bin/env bash
# The GPU bundle as the GPU machine gets it, made from this build and run in dry mode on a machine
# without a GPU (CI): every step runs, those that need a GPU end NOT TESTED, every other step ok.
# It runs in a mount namespace where the source tree is hidden under an empty tmpfs, so the test
# binary finds its network files only through the bundle (ALEXNET_SOURCE_DIR, run-gpu.sh), as on
# the GPU machine; the "relocated" step's tests would fail otherwise (checked: without
# ALEXNET_SOURCE_DIR they do). Then the bundle's size against the 50 MiB limit and its MANIFEST.
#   gpu_bundle_dry_run.sh BUILD_DIR
# Exit 77 (skipped, with the reason) where the build has no CUDA backend or mount namespaces are
# not permitted.
set -euo pipefail
build=$(realpath "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAILED: $*"; exit 1; }
[ -x "$build/alexnet_tests" ] && ldd "$build/alexnet_tests" | grep libcudart >/dev/null ||
  { echo "SKIPPED: $build is not a CUDA build (the bundle needs one)"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIPPED: mount namespaces are not permitted here (unshare -m)"; exit 77; }
work=$(mktemp -d /tmp/gpu-bundle-dry.XXXXXX)  # outside the tree, which the namespace hides
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

"$repo/tools/gpu-bundle.sh" --build "$build" --no-build --out "$work/bundle" > "$work/bundle.log" 2>&1 ||
  { tail -n 20 "$work/bundle.log"; fail "gpu-bundle.sh"; }
tail -n 2 "$work/bundle.log"
grep -q "^total: [0-9]* bytes ([0-9.]* MiB), this file included" "$work/bundle/MANIFEST.txt" || fail "MANIFEST has no total"
manifest_total=$(sed -n 's/^total: 0*\([0-9]*\) bytes.*/\1/p' "$work/bundle/MANIFEST.txt")
[ "$manifest_total" = "$(du -sb "$work/bundle" | cut -f1)" ] || fail "MANIFEST's total $manifest_total is not the bundle's size"
[ "$manifest_total" -le $((50 << 20)) ] || fail "the bundle is $manifest_total bytes, over 50 MiB"
grep -q "bin/alexnet_tests" "$work/bundle/MANIFEST.txt" || fail "MANIFEST lists no contents"
echo "ok: the bundle is $manifest_total bytes ($(awk -v b="$manifest_total" 'BEGIN {printf "%.1f", b / 1048576}') MiB), as MANIFEST.txt says"

# The dry run with the source tree hidden.
hide_and_run() {  # hide_and_run COMMAND...: in a mount namespace where $repo is an empty tmpfs
  # From $work: a working directory inside the hidden tree would break what looks it up (pyenv's
  # python3 shim, under ctest, whose working directory is the build folder).
  (cd "$work" && unshare -m bash -c 'mount -t tmpfs none "$1" && shift && "$@"' _ "$repo" "$@")
}
export TMPDIR=$work
rc=0
hide_and_run "$work/bundle/run-gpu.sh" --dry-run "$work/logs" > "$work/dry.log" 2>&1 || rc=$?
summary=$(cat "$work/logs/summary.txt" 2>/dev/null || true)
echo "$summary"
[ "$rc" = 0 ] || { tail -n 30 "$work/dry.log"; fail "the dry run exited $rc"; }
for s in glibc unpack libraries relocated cudnn-parts; do
  grep -q "^  $s  *ok" <<< "$summary" || fail "step $s is not ok in the dry run"
done
for s in versions gpu-layers gpu-net paper-net deterministic memcheck initcheck nccl ranks-nccl time-split \
  time-single torch-fp32 torch-tf32; do
  grep -q "^  $s  *NOT TESTED: no GPU (dry run; the command ran: exit [0-9]*)" <<< "$summary" ||
    fail "step $s did not end NOT TESTED: no GPU"
  [ -f "$work/logs/$s.log" ] || fail "step $s left no log"
done
grep -q "^=== summary .*dry run: every step that needs no GPU ok" <<< "$summary" || fail "no dry-run verdict"
grep -q "ok NetworkFile\." "$work/logs/relocated.log" || fail "the relocated tests did not run"
echo "ok: the dry run, with the source tree hidden"

# The same relocated tests without ALEXNET_SOURCE_DIR, source hidden: they must fail, or the
# hiding proved nothing.
if hide_and_run env -u ALEXNET_SOURCE_DIR "$work/bundle/bin/alexnet_tests" --gtest_filter='NetworkFile.*' \
  > "$work/unrelocated.log" 2>&1; then
  fail "the tests passed with the source tree hidden and no ALEXNET_SOURCE_DIR: the hiding hides nothing"
fi
grep -q "cannot open network file" "$work/unrelocated.log" || { tail "$work/unrelocated.log"; fail "unexpected failure"; }
echo "ok: without ALEXNET_SOURCE_DIR the same tests cannot find their files"
