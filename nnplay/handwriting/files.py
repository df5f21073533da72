"""A learner's digits as files to take away and bring back: one ``.npz`` in MNIST's shapes (``digits_npz``) or a
zip of PNGs, one folder per label (``3/<id>.png``, 28×28 grey, white digit on black).

What lives here: ``npz_bytes`` / ``read_npz`` (the ``.npz``, through ``digits_npz``), ``zip_bytes`` and
``read_zip``, which reads such a zip back without writing anything to disk: entries in folders ``0``..``9``, each
a PNG (28×28 is taken as it is; a bigger picture is taken as a photo, ``photos.photo_to_digit``); an entry that
is none of these is refused with a sentence and the others are kept; the whole zip is refused (``DigitsFileError``)
when it is no zip, too big, or holds too many or too large entries. What does not live here: the store
(``nnplay.store_digits``), the page.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .digits_npz import MAX_DIGITS, DigitsFileError, digits_bytes, read_digits
from .photos import PhotoError, photo_to_digit

MAX_ZIP_BYTES = 50_000_000
"""A bigger zip is refused before it is opened."""
MAX_ENTRY_BYTES = 5_000_000
"""An entry that unpacks to more than this is refused (its header's size is checked, then what it really gives)."""
MAX_UNPACKED_BYTES = 200_000_000
"""All the entries together may unpack to this much at most (a zip bomb stops here)."""
SKIPPED = ("__MACOSX/", ".DS_Store", "Thumbs.db")  # what zip tools add beside the files; passed over quietly


@dataclass
class ZipDigits:
    """What a zip of PNGs gave: the digits (MNIST's shapes) and a sentence per entry that was refused."""

    images: np.ndarray
    labels: np.ndarray
    refused: list[str] = field(default_factory=list)


def npz_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The digits as one ``.npz`` file (``images`` uint8 (N, 28, 28), ``labels`` uint8 (N,))."""
    return digits_bytes(images, labels)


def read_npz(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) from an ``.npz`` file's bytes; ``DigitsFileError`` with a sentence for anything else."""
    return read_digits(bytes(data))


def zip_bytes(images: np.ndarray, labels: np.ndarray, ids: list[str] | None = None) -> bytes:
    """The digits as a zip of 28×28 grey PNGs, ``<label>/<id>.png`` (ids default to 0, 1, 2…)."""
    images, labels = np.asarray(images), np.asarray(labels)
    ids = [f"{i:05d}" for i in range(len(images))] if ids is None else list(ids)
    if len(ids) != len(images) or len(labels) != len(images):
        raise ValueError(f"one label and one id per image: {len(images)} images, {len(labels)} labels, "
                         f"{len(ids)} ids.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for image, label, name in zip(images, labels, ids):
            png = io.BytesIO()
            Image.fromarray(np.asarray(image, dtype=np.uint8), mode="L").save(png, format="PNG")
            archive.writestr(f"{int(label)}/{name}.png", png.getvalue())
    return buffer.getvalue()


def _label_of(name: str) -> int | None:
    """The label an entry's folder gives (``3/x.png`` or ``mine/3/x.png``), or None."""
    parts = name.split("/")
    folder = parts[-2] if len(parts) >= 2 else ""
    return int(folder) if len(folder) == 1 and folder.isdigit() else None


def _unsafe(name: str) -> bool:
    """A name that would leave the folder it is unpacked into, were it unpacked (nnplay never does)."""
    return (name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]
            or ".." in name.split("/") or posixpath.normpath(name) != name.rstrip("/"))


def _entry_image(data: bytes, name: str) -> np.ndarray:
    """A 28×28 digit from an entry's bytes: a 28×28 PNG as it is, a bigger picture as a photo."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            size = picture.size
            if size == (28, 28) and getattr(picture, "n_frames", 1) == 1:
                grey = np.asarray(picture.convert("L"), dtype=np.uint8)
                border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
                return grey if np.median(border) <= 127 else 255 - grey  # dark on light: made white on black
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        pass  # the photo path below says what is wrong, in its words
    return photo_to_digit(data, name).image


def read_zip(data: bytes) -> ZipDigits:
    """The digits of a zip of PNGs in folders ``0``..``9``; refused entries are listed, the rest kept."""
    if len(data) > MAX_ZIP_BYTES:
        raise DigitsFileError(f"the zip is {len(data) / 1e6:.0f} MB, above the {MAX_ZIP_BYTES // 1_000_000} MB a "
                              "digits zip may have.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DigitsFileError("the file is not a zip: export your digits as a zip of PNGs (folders 0 to 9) or "
                              "as .npz.") from None
    entries = [info for info in archive.infolist()
               if not info.is_dir() and not any(s in info.filename for s in SKIPPED)]
    if len(entries) > MAX_DIGITS:
        raise DigitsFileError(f"the zip holds {len(entries):,} files, more than the {MAX_DIGITS:,} digits one set "
                              "may hold.")
    if sum(info.file_size for info in entries) > MAX_UNPACKED_BYTES:
        raise DigitsFileError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 1_000_000} MB: it is not a set "
                              "of digit pictures.")
    images, labels, refused = [], [], []
    with archive:
        for info in entries:
            name = info.filename
            if _unsafe(name):
                refused.append(f"{name}: a path outside the zip's folder is refused.")
                continue
            label = _label_of(name)
            if label is None:
                refused.append(f"{name}: not in a folder named by its label (0 to 9), such as 3/{posixpath.basename(name)}.")
                continue
            if info.file_size > MAX_ENTRY_BYTES:
                refused.append(f"{name}: {info.file_size / 1e6:.0f} MB is too big for a digit's picture.")
                continue
            try:
                with archive.open(info) as entry:
                    content = entry.read(MAX_ENTRY_BYTES + 1)  # never more than the limit, whatever the header says
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, ValueError) as err:
                refused.append(f"{name}: cannot be unpacked ({err}).")
                continue
            if len(content) > MAX_ENTRY_BYTES:
                refused.append(f"{name}: unpacks to more than its header says; refused.")
                continue
            try:
                images.append(_entry_image(content, name))
                labels.append(label)
            except PhotoError as err:
                refused.append(str(err))
    stacked = np.stack(images) if images else np.zeros((0, 28, 28), dtype=np.uint8)
    return ZipDigits(stacked.astype(np.uint8), np.array(labels, dtype=np.uint8), refused)
