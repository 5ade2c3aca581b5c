# Shared by the end-to-end scripts: source it, then call what a script needs.

# Exits 77 (the tests' SKIP_RETURN_CODE) with the reason unless Debian's Fashion-MNIST is installed.
require_fashion_mnist() {
  if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    echo "skipped: Debian's dataset-fashion-mnist is not installed (tools/setup.sh installs it)"
    exit 77
  fi
}
