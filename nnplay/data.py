"""MNIST and Fashion-MNIST as uint8 tensors: find, download, decode, cache, normalise.

A split is decoded once per process from the original IDX files (``.gz`` or unpacked, in
torchvision's layout ``<dir>/MNIST/raw/``) into uint8 tensors, the images mapped from a decoded file
in the user's cache folder (``decoded_dir``) that every process on the machine shares; training
moves them to its device once and normalises each batch there (``normalise``). Missing files are downloaded by
torchvision when online; offline with no files, MNIST falls back to the built-in class-balanced
sample in ``assets/mnist_sample.npz`` (made by ``scripts/make_mnist_sample.py``) and says so.
No per-sample PIL, no DataLoader. ``with_extra_digits`` mixes a learner's own digits (``DataConfig.extra_data``,
a digits ``.npz``) into the training split, each counted ``extra_weight`` times, beside all the MNIST training
images or ``replay`` of them drawn at random; every run's worker calls it (``jobs.run_loop``). Training lives in
``engine``; nothing here knows about models.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .config import DataConfig

ASSETS = Path(__file__).parent / "assets"
SAMPLE_FILE = ASSETS / "mnist_sample.npz"

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# dataset key -> (folder name torchvision uses, class names)
DATASET_INFO = {
    "mnist": ("MNIST", MNIST_CLASSES),
    "fashion-mnist": ("FashionMNIST", FASHION_CLASSES),
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# IDX magic numbers: 0x00000803 = uint8, 3 dims (images); 0x00000801 = uint8, 1 dim (labels)
IDX_MAGIC = {2051: 3, 2049: 1}


class DataError(Exception):
    """A data file is missing, truncated or corrupt; the message names the file and the fix."""


@dataclass
class MnistData:
    train_images: torch.Tensor  # (N, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor   # (M, 28, 28) uint8
    test_labels: torch.Tensor   # (M,) int64
    classes: list[str]
    dataset: str = "mnist"
    source: str = "full"        # "full" or "sample"
    notice: str | None = None   # what to tell the user (e.g. "this is the built-in sample")

    def limited(self, train_limit: int | None, test_limit: int | None) -> "MnistData":
        """The first ``train_limit`` / ``test_limit`` images (views, no copy)."""
        return MnistData(self.train_images[:train_limit], self.train_labels[:train_limit],
                         self.test_images[:test_limit], self.test_labels[:test_limit],
                         self.classes, self.dataset, self.source, self.notice)


def default_data_dir() -> Path:
    """$NNPLAY_DATA_DIR, else a per-user cache folder (~/.cache/nnplay or $XDG_CACHE_HOME/nnplay)."""
    env = os.environ.get("NNPLAY_DATA_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "nnplay"


def normalise(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 images (B, 28, 28) → float32 (B, 1, 28, 28) in [0, 1], as seed 000's ToTensor does."""
    return images_u8.unsqueeze(1).to(torch.float32).div_(255.0)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Decode one IDX file (gzipped or not) into a uint8 array; DataError if it is damaged."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} could not be read ({err}). Delete it so it is downloaded again, "
                        f"or copy a good file there.") from None
    if len(raw) < 8:
        raise DataError(f"{path} is truncated ({len(raw)} bytes). Delete it so it is downloaded again.")
    magic = int.from_bytes(raw[0:4], "big")
    if magic not in IDX_MAGIC:
        raise DataError(f"{path} is not an MNIST IDX file (magic number {magic:#010x}). "
                        f"Replace it with the original file.")
    ndim = IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(f"{path} is truncated or damaged: {len(raw)} bytes where its header promises "
                        f"{expected}. Delete it so it is downloaded again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(raw_dir: Path, stem: str) -> Path | None:
    for candidate in (raw_dir / f"{stem}.gz", raw_dir / stem):
        if candidate.exists():
            return candidate
    return None


def _download(dataset: str, root: Path) -> None:
    """Let torchvision fetch the files (it prints its own progress bars)."""
    from torchvision import datasets  # imported late: only needed when files are missing

    cls = datasets.MNIST if dataset == "mnist" else datasets.FashionMNIST
    root.mkdir(parents=True, exist_ok=True)
    cls(root=str(root), train=True, download=True)
    cls(root=str(root), train=False, download=True)


def _read_split(raw_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    image_stem, label_stem = SPLIT_FILES[split]
    image_path, label_path = _find(raw_dir, image_stem), _find(raw_dir, label_stem)
    images = read_idx(image_path)
    labels = read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{image_path} and {label_path} do not belong together "
                        f"({images.shape} images, {labels.shape} labels).")
    return _mapped(images, raw_dir, image_stem), torch.from_numpy(labels.astype(np.int64))


def _mapped(images: np.ndarray, raw_dir: Path, stem: str) -> torch.Tensor:
    """The decoded ``images`` as a tensor mapped from a file of them in the user's cache folder (``decoded_dir``),
    so every process on this machine that trains (the app and each pool worker) maps the same pages and the pixels
    are held once; a copy of its own where no such file can be written. Mapped copy-on-write: the tensor is
    writable, as a copy would be."""
    if not images.size:
        return torch.from_numpy(images.copy())
    folder = decoded_dir() / raw_dir.parent.name
    path = folder / f"{stem}-{hashlib.blake2b(images.data, digest_size=16).hexdigest()}.u8"  # named by content
    try:
        mapped = _same_file(path, images)
        if mapped is None:
            damaged = path.exists()
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as f:
                tmp = Path(f.name)
            try:
                tmp.write_bytes(images.data)
                _publish(tmp, path, damaged)
            finally:
                tmp.unlink(missing_ok=True)
            mapped = _same_file(path, images)
    except (OSError, ValueError):  # not writable, full, or a file system that cannot map
        mapped = None
    return torch.from_numpy(mapped if mapped is not None else images.copy())


def decoded_dir() -> Path:
    """Where decoded images are kept for every process to map: ``$XDG_CACHE_HOME/nnplay/decoded``, else
    ``~/.cache/nnplay/decoded`` (never the data folder, which may be shared or read-only)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnplay" / "decoded"


def _publish(tmp: Path, path: Path, damaged: bool) -> None:
    """Put the written ``tmp`` at ``path`` whole. A new file is linked, so that of two processes that decoded at
    once the second maps the first one's file (the same pages) rather than replacing it; a damaged one is replaced."""
    if not damaged:
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            return
        except OSError:  # a file system without hard links
            pass
    os.replace(tmp, path)


def _same_file(path: Path, images: np.ndarray) -> np.ndarray | None:
    """``path`` mapped as ``images``' shape when it holds exactly their bytes, else None."""
    if not path.is_file() or path.stat().st_size != images.nbytes:
        return None
    mapped = np.memmap(path, dtype=np.uint8, mode="c", shape=images.shape)
    step = 4096  # images compared a block at a time: no second full-size array
    if all(np.array_equal(mapped[i:i + step], images[i:i + step]) for i in range(0, len(images), step)):
        return mapped
    return None


def load_sample() -> MnistData:
    """The built-in sample of real MNIST: 10,000 train + 2,000 test, 1,000/200 per class."""
    with np.load(SAMPLE_FILE) as npz:
        return MnistData(
            torch.from_numpy(npz["train_images"]), torch.from_numpy(npz["train_labels"].astype(np.int64)),
            torch.from_numpy(npz["test_images"]), torch.from_numpy(npz["test_labels"].astype(np.int64)),
            MNIST_CLASSES, "mnist", "sample",
            "Using nnplay's built-in sample of MNIST (10,000 training and 2,000 test images), because the "
            "full dataset is not on this machine and could not be downloaded. Connect to the internet and "
            "reload, or put the four MNIST .gz files in <data dir>/MNIST/raw/ (set NNPLAY_DATA_DIR).",
        )


# (dataset, data dir) -> the files decoded: one copy per process, whether it was asked with ``download`` or without;
# (dataset, data dir, download) -> what stood in for missing files (the built-in sample), which ``download`` changes
_cache: dict[tuple, MnistData] = {}
_lock = threading.Lock()


def _load_full(dataset: str, data_dir: Path, download: bool) -> MnistData:
    folder, classes = DATASET_INFO[dataset]
    raw_dir = data_dir / folder / "raw"
    stems = [s for pair in SPLIT_FILES.values() for s in pair]
    missing = [s for s in stems if _find(raw_dir, s) is None]
    notice = None
    if missing and download:
        try:
            _download(dataset, data_dir)
        except Exception as err:  # offline, permission denied, server down: fall back below
            notice = f"download failed: {err}"
        missing = [s for s in stems if _find(raw_dir, s) is None]
    if missing:
        if dataset == "mnist":
            return load_sample()
        raise DataError(f"{folder} is not in {raw_dir} ({', '.join(missing)} missing) and could not be "
                        f"downloaded{' (' + notice + ')' if notice else ''}. Connect to the internet, or put "
                        f"the four .gz files there (set NNPLAY_DATA_DIR to their parent folder).")
    train_x, train_y = _read_split(raw_dir, "train")
    test_x, test_y = _read_split(raw_dir, "test")
    return MnistData(train_x, train_y, test_x, test_y, classes, dataset, "full", None)


def load_mnist(cfg: DataConfig | None = None) -> MnistData:
    """The dataset ``cfg`` names, decoded once per process (the same tensors for ``download`` on or off once its
    files are there) and limited as ``cfg`` asks."""
    cfg = cfg or DataConfig()
    data_dir = Path(cfg.data_dir).expanduser() if cfg.data_dir else default_data_dir()
    files, fallback = (cfg.dataset, str(data_dir)), (cfg.dataset, str(data_dir), cfg.download)
    with _lock:
        data = _cache.get(files) or _cache.get(fallback)
        if data is None:
            data = _load_full(cfg.dataset, data_dir, cfg.download)
            _cache[files if data.source == "full" else fallback] = data
    if cfg.train_limit or cfg.test_limit:
        data = data.limited(cfg.train_limit, cfg.test_limit)
    return data


def with_extra_digits(data: MnistData, cfg: DataConfig, seed: int = 0, digits: tuple | None = None) -> MnistData:
    """``data`` with ``cfg.extra_data``'s digits in its training split (unchanged without extra_data).

    Each extra digit appears ``floor(extra_weight)`` times, and a seeded random share of them once more for
    the fraction, so an epoch counts it ``extra_weight`` times on average; beside them ``replay`` MNIST training
    images drawn at random by ``seed`` (None: all of them). The test split stays MNIST's, so forgetting shows.
    ``digits``: the file's (images, labels) already read (a job carries them), else the file is read here.
    Raises ``handwriting.digits_npz.DigitsFileError`` (a sentence) for a file that is not a digits file.
    """
    if cfg.extra_data is None:
        return data
    if digits is not None:
        images, labels = digits
    else:
        from .handwriting.digits_npz import read_digits  # a digits file is only read when a run names one

        images, labels = read_digits(Path(cfg.extra_data).expanduser())
    generator = torch.Generator().manual_seed(seed)
    extra_x, extra_y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    whole = int(cfg.extra_weight)
    more = round((cfg.extra_weight - whole) * len(extra_x))
    picked = torch.randperm(len(extra_x), generator=generator)[:more]
    extra_x = torch.cat([extra_x.repeat(whole, 1, 1), extra_x[picked]])
    extra_y = torch.cat([extra_y.repeat(whole), extra_y[picked]])
    train_x, train_y = data.train_images, data.train_labels
    if cfg.replay is not None:
        kept = torch.randperm(len(train_x), generator=generator)[:cfg.replay]
        train_x, train_y = train_x[kept], train_y[kept]
    return MnistData(torch.cat([train_x, extra_x]), torch.cat([train_y, extra_y]), data.test_images,
                     data.test_labels, data.classes, data.dataset, data.source, data.notice)
