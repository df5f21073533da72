"""MNIST's test digits' nearest pixel distances to its training digits, measured once and shipped.

What lives here: ``known_pixel_distances(train_images, tests)`` answers, for MNIST's own training set and test
digits, each test digit's nearest cosine and Euclidean distance in pixel space from
``assets/mnist_pixel_nearest.npz`` (made by ``scripts/make_pixel_distances.py`` with the very function that
measures them otherwise, ``nearest._nearest``), and ``None`` for any other data, which is then measured. Those
10,000 × 60,000 comparisons of 784 pixels are most of a first Draw visit's wait for the nearest digits
(``docs/benchmarks.md``, bench_handwriting), and they depend on the data only, never on a model.
The training set must match the shipped digest of all its pixels, and each test digit the digest of the one
at its place (a prefix of the test set, as ``test_limit`` takes, matches too).
What does not live here: the pixel check built from them, and every model's own distances (``nearest``).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import torch

KNOWN_FILE = Path(__file__).resolve().parent.parent / "assets" / "mnist_pixel_nearest.npz"


def _uint8_rows(images) -> np.ndarray:
    array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return np.ascontiguousarray(array, dtype=np.uint8).reshape(len(array), -1)


def set_digest(images) -> str:
    """A digest of every pixel of a set of uint8 images."""
    return hashlib.blake2b(_uint8_rows(images).tobytes(), digest_size=16).hexdigest()


def image_digests(images) -> np.ndarray:
    """uint64 (N,): each uint8 image's own 8-byte digest."""
    rows = _uint8_rows(images)
    return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
                     for row in rows], dtype=np.uint64)


@functools.lru_cache(maxsize=1)
def _known() -> dict | None:
    if not KNOWN_FILE.exists():
        return None
    with np.load(KNOWN_FILE) as f:
        return {name: f[name] for name in f.files}


def known_pixel_distances(train_images, tests) -> tuple[np.ndarray, np.ndarray] | None:
    """float32 (T,) each: the nearest cosine and Euclidean pixel distances of each of ``tests`` to
    ``train_images``, when these are MNIST's training set and its test digits in their order; else None."""
    known = _known()
    if known is None or not 0 < len(tests) <= len(known["test_digests"]) \
            or len(train_images) != int(known["train_count"]):
        return None
    if not np.array_equal(image_digests(tests), known["test_digests"][:len(tests)]):
        return None
    if set_digest(train_images) != str(known["train_digest"]):
        return None
    return known["cosine"][:len(tests)].copy(), known["euclid"][:len(tests)].copy()


def write_known(path: Path, train_images, test_images, cosine: np.ndarray, euclid: np.ndarray) -> None:
    """Save the distances ``known_pixel_distances`` answers with (``scripts/make_pixel_distances.py``)."""
    np.savez_compressed(path, train_count=np.int64(len(train_images)), train_digest=np.str_(set_digest(train_images)),
                        test_digests=image_digests(test_images), cosine=np.asarray(cosine, dtype=np.float32),
                        euclid=np.asarray(euclid, dtype=np.float32))
    _known.cache_clear()
