"""The loader on tiny IDX files the test writes itself (the real parsing code, no mocks), and real MNIST."""

import gzip
import struct

import numpy as np
import pytest
import torch

from nnplay.config import DataConfig
from nnplay.data import DataError, load_mnist, load_sample, normalise, read_idx


def write_idx(path, array: np.ndarray, gz: bool = True):
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return raw


def make_dataset(root, n_train=12, n_test=5, gz=True, folder="MNIST"):
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(raw / f"{split}-images-idx3-ubyte{suffix}", images, gz)
        write_idx(raw / f"{split}-labels-idx1-ubyte{suffix}", labels, gz)
        arrays[split] = (images, labels)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_reads_idx_files_it_wrote(tmp_path, gz):
    arrays = make_dataset(tmp_path, gz=gz)
    data = load_mnist(DataConfig(data_dir=str(tmp_path), download=False))
    assert data.source == "full"
    assert data.train_images.dtype == torch.uint8 and data.train_images.shape == (12, 28, 28)
    assert data.train_labels.dtype == torch.int64
    np.testing.assert_array_equal(data.train_images.numpy(), arrays["train"][0])
    np.testing.assert_array_equal(data.test_labels.numpy(), arrays["t10k"][1])


def test_limits_take_the_first_images(tmp_path):
    make_dataset(tmp_path)
    data = load_mnist(DataConfig(data_dir=str(tmp_path), download=False, train_limit=4, test_limit=2))
    assert len(data.train_images) == 4 and len(data.test_labels) == 2


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    raw = write_idx(path, np.zeros((3, 28, 28), np.uint8), gz=False)
    path.write_bytes(raw[:-10])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*truncated"):
        read_idx(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    good = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes(3))
    path.write_bytes(good[:12])  # cut inside the deflate stream
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        read_idx(path)


def test_wrong_magic_is_refused(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError, match="not an MNIST IDX file"):
        read_idx(path)


def test_offline_without_files_falls_back_to_sample(tmp_path):
    data = load_mnist(DataConfig(data_dir=str(tmp_path / "empty"), download=False))
    assert data.source == "sample" and "sample" in data.notice
    assert len(data.train_images) == 10_000 and len(data.test_images) == 2_000


def test_fashion_offline_without_files_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="NNPLAY_DATA_DIR"):
        load_mnist(DataConfig(dataset="fashion-mnist", data_dir=str(tmp_path), download=False))


def test_sample_is_class_balanced():
    data = load_sample()
    assert torch.bincount(data.train_labels).tolist() == [1000] * 10
    assert torch.bincount(data.test_labels).tolist() == [200] * 10


def test_normalise_is_to_tensor_scaling():
    images = torch.tensor([[[0, 255] * 14] * 28], dtype=torch.uint8)
    x = normalise(images)
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert x.min().item() == 0.0 and x.max().item() == 1.0


def test_real_mnist_shapes(full_data):
    assert full_data.train_images.shape == (60_000, 28, 28)
    assert full_data.test_images.shape == (10_000, 28, 28)
    assert torch.bincount(full_data.test_labels).tolist()[:3] == [980, 1135, 1032]


def test_real_fashion_mnist(mnist_dir):
    data = load_mnist(DataConfig(dataset="fashion-mnist", data_dir=str(mnist_dir), download=False))
    assert data.train_images.shape == (60_000, 28, 28) and data.classes[9] == "Ankle boot"
