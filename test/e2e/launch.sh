#!/usr/bin/env bash
# `alexnet launch` running the real binary: each rank's output prefixed, a rank's failure passed
# on as the launcher's exit status. (Signals, the grace period and SIGKILL: the Launcher.* tests,
# whose ranks are /bin/sh scripts that can wait for a signal.)
#   launch.sh ALEXNET WORKDIR
set -euo pipefail
alexnet=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

# Two ranks of `version`: each prints its own version line, and the launcher succeeds.
set +e
"$alexnet" launch --nproc 2 -- version > "$work/version.out" 2> "$work/version.err"
rc=$?
set -e
cat "$work/version.out" "$work/version.err"
[ "$rc" = 0 ] || fail "launch -- version: exit status $rc, expected 0"
for r in 0 1; do
  [ "$(grep -c "^\[rank $r\] alexnet [0-9]" "$work/version.out")" = 1 ] || fail "no version line from rank $r"
done
[ "$(grep -vc '^\[rank [01]\] ' "$work/version.out")" = 0 ] || fail "a line on stdout without its rank prefix"

# Bad flags after `--` are the ranks' to refuse: each says so, and the launcher exits 2 as they do.
set +e
"$alexnet" launch --nproc 2 -- train --no-such-flag > "$work/flag.out" 2> "$work/flag.err"
rc=$?
set -e
cat "$work/flag.err"
[ "$rc" = 2 ] || fail "launch -- train --no-such-flag: exit status $rc, expected 2"
for r in 0 1; do
  grep -q "^\[rank $r\] alexnet train: unrecognised option '--no-such-flag'" "$work/flag.err" ||
    fail "rank $r did not name the bad flag"
done
grep -q "^alexnet launch: rank [01] exited with status 2" "$work/flag.err" || fail "the launcher did not name the failed rank"

echo "alexnet launch: version on 2 ranks (status 0), train --no-such-flag on 2 ranks (status 2)"
