#!/usr/bin/env python3
"""Packs Fashion-MNIST with the alexnet binary and checks, with h5py alone, that the file has the
documented layout (README, "The dataset file"). Exit 77 (skipped) without h5py or the data."""
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"skipped: {e} (tools/setup.sh installs python3-h5py)")
    sys.exit(77)

FASHION = "/usr/share/datasets/fashion-mnist"
if not os.path.exists(os.path.join(FASHION, "train-images-idx3-ubyte.gz")):
    print("skipped: Debian's dataset-fashion-mnist is not installed")
    sys.exit(77)

alexnet = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "fm.h5")
    subprocess.run([alexnet, "pack", "--source", "fashion-mnist", "--output", out, "--no-progress"], check=True)
    with h5py.File(out, "r") as f:
        assert f.attrs["format"] == "alexnet-dataset", f.attrs["format"]
        assert int(f.attrs["version"]) == 2  # 2: Fletcher-32 checksums on image and label chunks
        assert "fashion-mnist" in f.attrs["source"]
        assert (int(f.attrs["height"]), int(f.attrs["width"]), int(f.attrs["channels"])) == (28, 28, 1)
        classes = [c.decode() if isinstance(c, bytes) else c for c in f["classes"][:]]
        assert len(classes) == 10 and classes[9] == "Ankle boot", classes
        # val: 5,000 of the 60,000 training images held out (by seed); test: the official 10,000.
        for split, n in (("train", 55000), ("val", 5000), ("test", 10000)):
            images, labels = f[split]["images"], f[split]["labels"]
            assert images.shape == (n, 28, 28, 1) and images.dtype == np.uint8, (images.shape, images.dtype)
            assert images.chunks == (1, 28, 28, 1), images.chunks
            assert images.fletcher32 and labels.fletcher32, (split, images.fletcher32, labels.fletcher32)
            assert labels.shape == (n,) and labels.dtype == np.int32
            assert set(np.unique(labels[:])) == set(range(10))
        mean = f["mean"][:]
        assert mean.shape == (28, 28, 1) and mean.dtype == np.float32
        np.testing.assert_allclose(mean, f["train/images"][:].mean(axis=0), rtol=1e-4, atol=1e-3)
        assert f["pca_eigenvalues"].shape == (1,) and f["pca_eigenvectors"].shape == (1, 1)
        variance = (f["train/images"][:].astype(np.float64) / 255).var()  # pixel values on the 0-1 scale
        np.testing.assert_allclose(f["pca_eigenvalues"][0], variance, rtol=1e-3)
print("dataset layout: ok")
