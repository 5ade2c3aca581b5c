# Shared by the end-to-end scripts: source it, then call what a script needs.

# Exits 77 (the tests' SKIP_RETURN_CODE) with the reason unless Debian's Fashion-MNIST is installed.
require_fashion_mnist() {
  if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "skipped: Debian's dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
    exit 77
  fi
}

# The start of a script called as SCRIPT ALEXNET PYTHON WORKDIR [...]: sets alexnet, python, work,
# here (test/e2e) and net (alexnet-mini), empties WORKDIR, and skips (exit 77, with the reason)
# without Fashion-MNIST.
start_e2e() {
  alexnet=$1 python=$2 work=$3
  here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
  net="$here/../../experiments/alexnet-mini.toml"
  rm -rf "$work" && mkdir -p "$work"
  require_fashion_mnist
}

# Exits 77 with the reason unless $python has h5py.
require_h5py() {
  "$python" -c "import h5py" 2> /dev/null || { echo "skipped: $python has no h5py"; exit 77; }
}
