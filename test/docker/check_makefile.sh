#!/usr/bin/env bash
# Checks Makefile.docker and docker/Dockerfile without a Docker engine.
#   check_makefile.sh REPO
# 1. Every target parses, and `make -n` prints the docker command it promises (GPUs, --ipc=host,
#    the data and runs mounts, the image, the command inside).
# 2. The targets run for real with a stand-in `docker` that records its arguments, one a line,
#    so that the words reach docker as they should (GPUS=device=0,1 reaches it as "device=0,1").
# 3. The Dockerfile: a CUDA 13 cuDNN devel base, tools/setup.sh installs before tools/build.sh
#    builds with the CUDA backend, every COPY source exists, every RUN parses as sh, and the NCCL
#    step, run against stand-in apt tools, picks one version for libnccl2 and libnccl-dev.
# Exits non-zero with a message naming the first check that failed.
set -euo pipefail
cd "${1:?usage: check_makefile.sh REPO}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" "$tmp/full/data" "$tmp/bin"
touch "$tmp/full/data/fashion-mnist.h5"
fail() { echo "check_makefile: $*" >&2; exit 1; }

# expect "MAKE ARGS" TEXT... : `make -n` with those arguments prints every TEXT.
expect() {
  local args=$1 out; shift
  # shellcheck disable=SC2086  # ARGS is split into make's arguments on purpose
  out=$(make -n -f Makefile.docker DATA="$tmp/data" RUNS="$tmp/runs" $args 2>&1) ||
    fail "make -n $args failed:"$'\n'"$out"
  for text in "$@"; do
    grep -qF -- "$text" <<< "$out" || fail "make -n $args: no '$text' in:"$'\n'"$out"
  done
}
run_flags=("docker run" "--gpus all" "--ipc=host" "-v $tmp/data:/work/alexnet/data" "-v $tmp/runs:/work/alexnet/runs")
expect build "docker build -f docker/Dockerfile" "--build-arg CUDA_ARCHITECTURES=90" "-t alexnet:cuda13 ."
expect test "${run_flags[@]}" "alexnet:cuda13 tools/test.sh"
expect shell "${run_flags[@]}" "-it alexnet:cuda13 bash"
expect train "${run_flags[@]}" "alexnet:cuda13 alexnet pack --source fashion-mnist --output data/fashion-mnist.h5" \
  "alexnet:cuda13 alexnet train --config experiments/runs/mini-fashion.toml --devices auto --out runs/docker-"
expect "train IMAGE=me/alexnet:x GPUS=2 DOCKER=podman TRAIN_ARGS=--resume=runs/a DOCKER_ARGS=-eNCCL_DEBUG=INFO" \
  "podman run" "--gpus 2" "-eNCCL_DEBUG=INFO me/alexnet:x alexnet train --resume=runs/a"
expect "build CUDA_ARCHITECTURES=80 IMAGE=me/alexnet:x" "--build-arg CUDA_ARCHITECTURES=80" "-t me/alexnet:x ."
# With the dataset already on the host, train does not pack it again.
out=$(make -n -f Makefile.docker DATA="$tmp/full/data" RUNS="$tmp/runs" train)
if grep -q "alexnet pack" <<< "$out"; then fail "train packs data/fashion-mnist.h5 although it exists"; fi

# 2. The recipes for real, with a docker that writes down its arguments.
cat > "$tmp/bin/docker" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done >> "$tmp/argv"
echo -- >> "$tmp/argv"
EOF
chmod +x "$tmp/bin/docker"
for target in build test shell train; do
  make -s -f Makefile.docker DOCKER="$tmp/bin/docker" DATA="$tmp/data" RUNS="$tmp/runs" GPUS=device=0,1 \
    "$target" > /dev/null || fail "make $target with a stand-in docker failed"
done
make -s -f Makefile.docker DOCKER="$tmp/bin/docker" DATA="$tmp/data" RUNS="$tmp/runs" GPUS='"device=1,2"' test ||
  fail "make test GPUS='\"device=1,2\"' with a stand-in docker failed"
[ -d "$tmp/runs" ] || fail "the runs folder was not created before docker run"
argv="|$(tr '\n' '|' < "$tmp/argv")"  # one line: |arg|arg|--|arg|...
for words in '--gpus|"device=0,1"' '--gpus|"device=1,2"' "-v|$tmp/data:/work/alexnet/data" "-v|$tmp/runs:/work/alexnet/runs" \
             '--ipc=host|-v' 'alexnet:cuda13|tools/test.sh' '-it|alexnet:cuda13|bash' \
             'alexnet:cuda13|alexnet|pack|--source|fashion-mnist|--output|data/fashion-mnist.h5' \
             'alexnet:cuda13|alexnet|train|--config|experiments/runs/mini-fashion.toml|--devices|auto|--out' \
             'build|-f|docker/Dockerfile'; do
  [[ $argv == *"|$words|"* ]] || fail "docker's arguments (|-separated) lack |$words|:"$'\n'"$argv"
done
[ "$(grep -c '^--gpus$' "$tmp/argv")" -eq 5 ] || fail "not every docker run (test, shell, pack, train, test) got --gpus"

# 3. The Dockerfile: its instructions, continuation lines joined, comments dropped.
instructions=$(awk '
  /^[[:space:]]*#/ || (!cont && /^[[:space:]]*$/) { next }
  { s = $0; if (sub(/\\[[:space:]]*$/, "", s)) { buf = buf s; cont = 1; next }
    print buf s; buf = ""; cont = 0 }
  END { if (cont) { print "a continued line ends the file" > "/dev/stderr"; exit 1 } }' docker/Dockerfile) ||
  fail "docker/Dockerfile: a continued line ends the file"
bad=$(grep -vE '^(ARG|FROM|ENV|WORKDIR|COPY|RUN|CMD|LABEL|USER|ENTRYPOINT) ' <<< "$instructions" || true)
[ -z "$bad" ] || fail "docker/Dockerfile: unexpected instructions:"$'\n'"$bad"
grep -qE '^ARG BASE=nvidia/cuda:13\.[0-9.]+-cudnn-devel-ubuntu[0-9.]+$' <<< "$instructions" ||
  fail "docker/Dockerfile: the default base is not an nvidia/cuda 13 cuDNN devel image"
grep -qxF "FROM \${BASE}" <<< "$instructions" || fail "docker/Dockerfile: FROM is not \${BASE}"
setup=$(grep -n '^RUN tools/setup.sh' <<< "$instructions" | cut -d: -f1)
build=$(grep -n '^RUN tools/build.sh -DALEXNET_CUDA=ON' <<< "$instructions" | cut -d: -f1)
if [ -z "$setup" ] || [ -z "$build" ] || [ "$setup" -gt "$build" ]; then
  fail "docker/Dockerfile: tools/setup.sh must install, then tools/build.sh -DALEXNET_CUDA=ON build"
fi
while read -r _ src _; do
  [ -e "$src" ] || fail "docker/Dockerfile: COPY $src: no such file in the repository"
done < <(grep '^COPY ' <<< "$instructions")
for path in tools src test experiments third_party CMakeLists.txt; do
  if grep -qxE "/?$path/?" .dockerignore; then fail ".dockerignore leaves out $path, which the build needs"; fi
done
while IFS= read -r cmd; do
  sh -n -c "$cmd" 2> "$tmp/sh.err" || fail "docker/Dockerfile: RUN does not parse as sh: $cmd"$'\n'"$(cat "$tmp/sh.err")"
done < <(sed -n 's/^RUN //p' <<< "$instructions")

# The NCCL step against stand-in apt tools: NCCL absent, the repository has builds for CUDA 12 and 13.
nccl=$(sed -n 's/^RUN //p' <<< "$instructions" | grep -F libnccl-dev | sed "s#/var/lib/apt/lists#$tmp/lists#g")
[ -n "$nccl" ] || fail "docker/Dockerfile: no RUN installs libnccl-dev"
cat > "$tmp/bin/dpkg-query" <<'EOF'
#!/bin/sh
exit 1
EOF
cat > "$tmp/bin/apt-cache" <<'EOF'
#!/bin/sh
for v in 2.21.5-1+cuda12.4 2.27.7-1+cuda13.0 2.30.4-1+cuda13.2 2.29.7-1+cuda13.1 2.30.4-1+cuda12.9; do
  echo "libnccl-dev | $v | https://example.invalid/repos/ubuntu2404/x86_64  Packages"
done
EOF
cat > "$tmp/bin/apt-get" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/apt-get"
EOF
chmod +x "$tmp/bin/"*
nccl_run() { rm -f "$tmp/apt-get"; env PATH="$tmp/bin:$PATH" CUDA_VERSION=13.0.1 NCCL="$1" sh -c "$nccl" > /dev/null ||
  fail "docker/Dockerfile: the NCCL step failed against stand-in apt tools"; }
nccl_run ""
grep -qF "libnccl2=2.30.4-1+cuda13.2 libnccl-dev=2.30.4-1+cuda13.2" "$tmp/apt-get" ||
  fail "docker/Dockerfile: the NCCL step did not pick the newest CUDA 13 build:"$'\n'"$(cat "$tmp/apt-get")"
nccl_run "2.27.7-1+cuda13.0"
grep -qF "libnccl2=2.27.7-1+cuda13.0 libnccl-dev=2.27.7-1+cuda13.0" "$tmp/apt-get" ||
  fail "docker/Dockerfile: --build-arg NCCL=... was not installed:"$'\n'"$(cat "$tmp/apt-get")"

echo "Makefile.docker: build, test, shell and train parse and run the expected docker commands; docker/Dockerfile checks out"
