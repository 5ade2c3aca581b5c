#!/usr/bin/env python3
"""The same work as build/loader_bench in plain Python (h5py + numpy), single-threaded.

For each image of a shuffled epoch: read it from the HDF5 file, take a random 227x227 crop of the
256x256 image, flip it with probability 1/2, add PCA lighting (alpha ~ N(0, 0.1^2) per
eigenvector), subtract the mean image at the same positions, and lay it out as float32 CHW in a
batch array. Prints one line: "python: <images/s> images/s".
"""
import argparse
import time

import h5py
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--crop", type=int, default=227)
    p.add_argument("--batch", type=int, default=128)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    with h5py.File(a.file, "r") as f:
        images = f["train/images"]
        n, h, w, c = images.shape
        mean = f["mean"][:]
        eigval = f["pca_eigenvalues"][:]
        eigvec = f["pca_eigenvectors"][:]
        batch = min(a.batch, n)
        out = np.empty((batch, c, a.crop, a.crop), dtype=np.float32)
        order = rng.permutation(n)
        done = 0
        start = None
        while done < a.images + batch:  # the first batch is warm-up
            if done == batch:
                start = time.perf_counter()
            for i in range(batch):
                idx = order[(done + i) % n]
                img = images[idx]
                top = rng.integers(0, h - a.crop + 1)
                left = rng.integers(0, w - a.crop + 1)
                crop = img[top:top + a.crop, left:left + a.crop].astype(np.float32)
                m = mean[top:top + a.crop, left:left + a.crop]
                if rng.random() < 0.5:
                    crop = crop[:, ::-1]
                    m = m[:, ::-1]
                alpha = rng.normal(0.0, 0.1, size=c)
                crop += eigvec @ (alpha * eigval)
                crop -= m
                out[i] = crop.transpose(2, 0, 1)
            done += batch
        seconds = time.perf_counter() - start
    print(f"python: {a.images // batch * batch / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
