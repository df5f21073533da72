"""MNIST's test digits' nearest distances to its training digits, measured once and shipped.

What lives here: ``known_distances(train_images, tests, key)`` answers, for MNIST's own training set and test
digits, each test digit's nearest cosine and Euclidean distance in one space, from ``assets/mnist_nearest.npz``
(made by ``scripts/make_nearest_distances.py`` with the very function that measures them otherwise,
``nearest._nearest``): in pixels (``PIXELS``), and in the last hidden layer of the shipped default model
(``features_key(model_key)``, that model's weights only). Any other data or model gets ``None`` and is measured.
These 10,000 × 60,000 comparisons are most of a first Draw visit's wait for the nearest digits (bench_handwriting
in ``docs/benchmarks.md``). The training set must match the shipped digest of all its pixels, and each test
digit the digest of the one at its place (a prefix of the test set, as ``test_limit`` takes, matches too).
What does not live here: the index built from them (``nearest``).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import torch

KNOWN_FILE = Path(__file__).resolve().parent.parent / "assets" / "mnist_nearest.npz"
PIXELS = "pixels"


def features_key(model_key: str) -> str:
    """The key of a model's last hidden layer (``nearest.model_key``: its architecture and weights)."""
    return f"features {model_key}"


def _uint8_rows(images) -> np.ndarray:
    array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return np.ascontiguousarray(array, dtype=np.uint8).reshape(len(array), -1)


def set_digest(images) -> str:
    """A digest of every pixel of a set of uint8 images."""
    return hashlib.blake2b(_uint8_rows(images).tobytes(), digest_size=16).hexdigest()


def image_digests(images) -> np.ndarray:
    """uint64 (N,): each uint8 image's own 8-byte digest."""
    return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
                     for row in _uint8_rows(images)], dtype=np.uint64)


@functools.lru_cache(maxsize=1)
def _known() -> dict | None:
    if not KNOWN_FILE.exists():
        return None
    with np.load(KNOWN_FILE) as f:
        return {name: f[name] for name in f.files}


def known_distances(train_images, tests, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """float32 (T,) each: the nearest cosine and Euclidean distances of each of ``tests`` to ``train_images`` in
    the space ``key`` names, when these are MNIST's training set and its test digits in their order; else None."""
    known = _known()
    if known is None or key not in list(known["keys"]) or not 0 < len(tests) <= len(known["test_digests"]) \
            or len(train_images) != int(known["train_count"]):
        return None
    if not np.array_equal(image_digests(tests), known["test_digests"][:len(tests)]):
        return None
    if set_digest(train_images) != str(known["train_digest"]):
        return None
    row = list(known["keys"]).index(key)
    return known["cosine"][row, :len(tests)].copy(), known["euclid"][row, :len(tests)].copy()


def write_known(path: Path, train_images, test_images, distances: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Save the distances ``known_distances`` answers with, by key (``scripts/make_nearest_distances.py``)."""
    keys = list(distances)
    np.savez_compressed(path, train_count=np.int64(len(train_images)), train_digest=np.str_(set_digest(train_images)),
                        test_digests=image_digests(test_images), keys=np.array(keys),
                        cosine=np.stack([np.asarray(distances[k][0], dtype=np.float32) for k in keys]),
                        euclid=np.stack([np.asarray(distances[k][1], dtype=np.float32) for k in keys]))
    _known.cache_clear()
