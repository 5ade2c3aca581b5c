# Shared by the experiment scripts: flags, one training run per variant, and the report.
#
#   SCRIPT [--config RUN.toml] [--out DIR] [--alexnet BIN] [--python PY] [-- TRAIN_FLAGS...]
#
# --config   the run file every variant starts from (default experiments/runs/mini-fashion.toml:
#            alexnet-mini on Fashion-MNIST, CPU; experiments/runs/paper.toml is the paper's recipe)
# --out      where the variants' run directories and the report go (default runs/<script name>)
# after --    flags added to every variant's `alexnet train` (e.g. --epochs 1 --devices cuda:0,cuda:1);
#            not the flags a script sets per variant (--placement, --exchange, --net); their
#            paths, like a run file's, are relative to the repository root
# Each variant trains into OUT/<variant> with per-layer timing (--profile-every 50, overridable
# after --); the report is OUT/report/report.md. A variant already finished (its run directory
# has metrics/epochs.csv with the last epoch) is not trained again, so a stopped script resumes.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
config=$repo/experiments/runs/mini-fashion.toml
out=runs/$(basename "$0" .sh)
alexnet=$repo/build/alexnet
python=/usr/bin/python3
train_flags=()
while [ $# -gt 0 ]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --alexnet) alexnet=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --) shift; train_flags=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "$(basename "$0"): unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$config" ] || { echo "$(basename "$0"): $config: no such run file" >&2; exit 2; }
[ -x "$alexnet" ] || { echo "$(basename "$0"): $alexnet: not built (run tools/build.sh)" >&2; exit 2; }
# Run files name their network and data relative to the repository root: work from there.
config=$(realpath "$config") out=$(realpath -m "$out") alexnet=$(realpath "$alexnet")
cd "$repo"
mkdir -p "$out/networks"
variants=()

# The value of a train flag given after --, or nothing.
train_flag() {
  local i
  for ((i = 0; i < ${#train_flags[@]}; i++)); do
    case ${train_flags[i]} in
      "--$1") echo "${train_flags[i + 1]:-}"; return ;;
      "--$1="*) echo "${train_flags[i]#*=}"; return ;;
    esac
  done
}

# The devices of the run: after --, else the run file's.
run_devices() {
  local d
  d=$(train_flag devices)
  [ -n "$d" ] || d=$(sed -n 's/^devices *= *"\(.*\)"/\1/p' "$config")
  echo "${d:-auto}"
}

# The network file the run file names, for variants that edit it.
base_net() {
  local net
  net=$(sed -n 's/^net *= *"\(.*\)"/\1/p' "$config")
  case $net in /*) echo "$net" ;; *) echo "$repo/$net" ;; esac
}

# variant_net NAME VARIANT_ARGS...: writes OUT/networks/NAME.toml from the base network.
variant_net() {
  local name=$1; shift
  "$python" "$repo/experiments/lib/variant.py" "$(base_net)" "$out/networks/$name.toml" --name "$name" "$@"
  echo "$out/networks/$name.toml"
}

# run_variant NAME TRAIN_FLAGS...: trains one variant into OUT/NAME.
run_variant() {
  local name=$1; shift
  variants+=("$out/$name")
  if [ -f "$out/$name/metrics/epochs.csv" ] && [ -f "$out/$name/done" ]; then
    echo "== $name: already trained ($out/$name)"
    return
  fi
  rm -rf "${out:?}/$name"
  echo "== $name: alexnet train $* ${train_flags[*]}"
  local profile=(--profile-every 50)
  [ -z "$(train_flag profile-every)" ] || profile=()
  "$alexnet" train --config "$config" --out "$out/$name" "${profile[@]}" --progress false "$@" \
    "${train_flags[@]}"
  touch "$out/$name/done"
}

# report TITLE [REPORT_FLAGS...]: the markdown report and plots of every variant run so far
# (flags of tools/report, e.g. --threshold 12 --note TEXT).
report() {
  "$python" "$repo/tools/report" "${variants[@]}" --out "$out/report" --title "$1" "${@:2}"
}
