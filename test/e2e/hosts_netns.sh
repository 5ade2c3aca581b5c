#!/usr/bin/env bash
# Two hosts on one machine: two network namespaces joined by a veth pair, two ranks in each (ranks
# 0, 1 in the first, which serves the rendezvous store on its veth address; ranks 2, 3 in the
# second), 4 ranks = 2 replicas x 2 towers, so the replica group's gradient all-reduce crosses the
# veth while each tower group stays inside its "host". Gloo is told the interface (--iface), and
# the ranks reach the store by address: neither namespace can resolve the other's host name or
# reach the machine's loopback. After a few steps the weights must equal, bit for bit, the same
# 4-rank run started on loopback by `alexnet launch`. Where network namespaces cannot be made (not
# root, no CAP_SYS_ADMIN, no iproute2) the test skips, saying why.
#   hosts_netns.sh ALEXNET PYTHON WORKDIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start_e2e "$@"
require_h5py
fail() { echo "FAIL: $*"; exit 1; }
command -v ip > /dev/null || { echo "skipped: no 'ip' command (iproute2) to make network namespaces"; exit 77; }

# Names unique to this run, so that two runs side by side do not meet. The interfaces live only
# inside the namespaces, so their names and addresses need not be unique.
ns_a=alexnet-a-$$ ns_b=alexnet-b-$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  ip netns del "$ns_a" 2> /dev/null || true
  ip netns del "$ns_b" 2> /dev/null || true
}
trap cleanup EXIT
if ! why=$(ip netns add "$ns_a" 2>&1); then
  echo "skipped: cannot make a network namespace ('ip netns add' says: $why; it needs root or CAP_SYS_ADMIN)"
  exit 77
fi
ip netns add "$ns_b"
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b"
ip -n "$ns_a" addr add 10.231.0.1/24 dev veth-a
ip -n "$ns_b" addr add 10.231.0.2/24 dev veth-b
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up  # ranks 0 and 1 reach the store on their own address through lo
done
ip -n "$ns_a" link set veth-a up
ip -n "$ns_b" link set veth-b up

"$alexnet" pack --source fashion-mnist --per-class 40 --val 40 --output "$work/small.h5" --no-progress
steps=4
common=(--net "$net" --data "$work/small.h5" --devices cpu --threads 1 --loader-threads 1 --batch 10
        --epochs 1 --progress false --max-steps "$steps" --timeout 30s)

# The reference: the same 4 ranks on this machine's loopback.
"$alexnet" launch --nproc 4 -- train "${common[@]}" --out "$work/loopback" > "$work/loopback.log" 2>&1 ||
  { cat "$work/loopback.log"; fail "the loopback run"; }

# Two "hosts": the store on rank 0's veth address, any port (a namespace of our own has no other
# listeners on it).
port=29500
for rank in 0 1 2 3; do
  if [ "$rank" -lt 2 ]; then ns=$ns_a iface=veth-a; else ns=$ns_b iface=veth-b; fi
  ip netns exec "$ns" env RANK=$rank WORLD_SIZE=4 LOCAL_RANK=$((rank % 2)) \
    "$alexnet" train "${common[@]}" --out "$work/netns" --store-host 10.231.0.1 --store-port $port \
    --iface "$iface" > "$work/netns.rank$rank.log" 2>&1 &
  pids+=($!)
done
status=0
for rank in 0 1 2 3; do
  wait "${pids[$rank]}" || { status=$?; echo "rank $rank exited with status $status:"; cat "$work/netns.rank$rank.log"; }
done
pids=()
[ "$status" = 0 ] || fail "the run across two namespaces"
cat "$work/netns.rank0.log"

# The gradient all-reduce crossed the veth: each step, each rank of a replica sends its tower's
# whole gradient (half in the all-to-all, half in the all-gather) to its peer in the other one.
params=$("$alexnet" info "$net" | sed -n 's/^parameters: //p' | tr -d ,)
for end in "$ns_a veth-a" "$ns_b veth-b"; do
  set -- $end
  rx=$(ip -n "$1" -j -s link show dev "$2" | "$python" -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["bytes"])')
  echo "$2 received $rx bytes ($steps steps of the all-reduce of $params parameters: at least $((steps * params * 4)))"
  [ "$rx" -ge $((steps * params * 4)) ] || fail "$2 received too little for the all-reduce to have crossed it"
done

"$python" - "$work/loopback" "$work/netns" "$steps" <<'PY'
import sys
import h5py, numpy as np
name = "/checkpoints/step-%010d.h5" % int(sys.argv[3])
with h5py.File(sys.argv[1] + name, "r") as a, h5py.File(sys.argv[2] + name, "r") as b:
    assert a.attrs["step"] == b.attrs["step"] == int(sys.argv[3])
    for group in ("params", "momentum"):
        assert len(b[group]) > 0 and set(a[group]) == set(b[group]), group
        for n in b[group]:
            x, y = a[group][n][:], b[group][n][:]
            assert x.shape == y.shape and np.array_equal(x, y), (group, n, np.abs(x - y).max())
print("4 ranks on two network namespaces joined by a veth pair: bit-identical to loopback at step", sys.argv[3])
PY
