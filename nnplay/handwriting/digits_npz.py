"""A set of digits as one ``.npz`` file in MNIST's shapes: ``images`` uint8 (N, 28, 28), white on black, and
``labels`` uint8 (N,) in 0..9. ``save_digits`` writes one, ``read_digits`` reads one from a path or bytes and
refuses a file that is not such a set with a sentence (``DigitsFileError``). numpy's own ``.npz`` (a zip of
``.npy`` arrays) is the format: MNIST users load it with one line, and ``allow_pickle`` stays off.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

MAX_DIGITS = 100_000
"""More digits than anyone draws or photographs: a bigger file is refused before it is read."""


class DigitsFileError(ValueError):
    """A file that is not a set of digits; ``str(err)`` says what is wrong in a sentence."""


def digits_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The ``.npz`` file's bytes for these digits (checked as ``read_digits`` checks them)."""
    images, labels = check_digits(np.asarray(images), np.asarray(labels))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, labels=labels)
    return buffer.getvalue()


def save_digits(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> None:
    """Write the digits to ``path`` as an ``.npz`` file."""
    with open(path, "wb") as f:
        f.write(digits_bytes(images, labels))


def read_digits(source: str | os.PathLike | bytes) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from an ``.npz`` file's path or bytes."""
    name = "the file" if isinstance(source, bytes) else f"{os.fspath(source)!s}"
    try:
        data = source if isinstance(source, bytes) else open(source, "rb").read()
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise DigitsFileError(f"{name} is not an .npz file (numpy's zip of arrays, as nnplay's export writes it).")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            missing = [key for key in ("images", "labels") if key not in npz.files]
            if missing:
                raise DigitsFileError(f"{name} has no {' and no '.join(missing)} array: a digits file holds "
                                      f"'images' (N×28×28) and 'labels' (N), as nnplay's export writes it.")
            images, labels = npz["images"], npz["labels"]
    except FileNotFoundError:
        raise DigitsFileError(f"{name} does not exist.") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DigitsFileError(f"{name} is not an .npz file ({err}).") from None
    except ValueError as err:
        if isinstance(err, DigitsFileError):
            raise
        raise DigitsFileError(f"{name} holds arrays that cannot be read without pickle ({err}).") from None
    return check_digits(images, labels)


def check_digits(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The digits as uint8 arrays of MNIST's shapes, or ``DigitsFileError`` naming what does not fit."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DigitsFileError(f"the images must be N×28×28 (MNIST's shape); these are "
                              f"{'×'.join(map(str, images.shape)) or 'a single number'}.")
    if labels.shape != (len(images),):
        raise DigitsFileError(f"there must be one label per image: {len(images)} images, labels of shape "
                              f"{tuple(labels.shape)}.")
    if len(images) > MAX_DIGITS:
        raise DigitsFileError(f"{len(images):,} digits is more than the {MAX_DIGITS:,} one set may hold.")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise DigitsFileError(f"the images must be numbers (0..255); they are {images.dtype}.")
    if images.size and (np.nanmin(images) < 0 or np.nanmax(images) > 255 or not np.isfinite(images).all()):
        raise DigitsFileError("the images' pixels must lie in 0..255 (uint8, white digit on black, like MNIST).")
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise DigitsFileError("every label must be a whole number from 0 to 9.")
    return images.astype(np.uint8), labels.astype(np.uint8)
