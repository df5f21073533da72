"""A photo or scan of one handwritten digit turned into a 28×28 MNIST-like digit.

What lives here: ``photo_to_digit`` (PNG/JPEG bytes → greyscale → dark-on-light inverted → the digit found and
cropped → ``nnplay.lessons.draw.to_mnist``, the very preprocessing of the Draw page), ``photos_to_digits`` for
several files at once (one result per file: its digit or the sentence that refuses it), ``label_from_name``
(a label read from a file name such as ``3_anna.jpg``) and ``PhotoError``, the refusal: not an image, above
``MAX_PIXELS`` (checked from the header, before the pixels are decoded), animated, or blank.
What does not live here: keeping the digits (``nnplay.store_digits``), the page (``pages/digits.py``).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage  # scikit-learn's own dependency, so always installed with nnplay

from ..lessons.draw import Preprocessed, to_mnist

MAX_PIXELS = 20_000_000
"""A bigger image (width × height) is refused before its pixels are decoded."""
WORKING_SIDE = 280
"""The photo is reduced so its longer side is at most this (the Draw canvas's size) before the digit is sought."""
MIN_CONTRAST = 40
"""Ink must stand this far (0..255) above the background, or the image counts as blank."""
KEEP_SHARE = 0.15
"""A patch of ink is part of the digit when it is at least this share of the largest patch (a 5's bar is; dust is not)."""
MARGIN = 0.1
"""The crop around the digit's ink, as a share of the ink box's longer side."""
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


class PhotoError(ValueError):
    """A photo that cannot be made into a digit; ``str(err)`` says why in a sentence naming the file."""


@dataclass(frozen=True)
class PhotoDigit:
    """A photo made into a digit: the ink picture it was cut from, light on dark like the canvas, and the digit."""

    picture: np.ndarray
    """uint8 (H, W), H and W ≤ ``WORKING_SIDE``: the photo in grey, inverted to light ink on black, background
    removed, cropped around the digit; ``to_mnist(picture)`` gives ``prep``."""
    prep: Preprocessed
    inverted: bool
    """Whether the photo was dark ink on a light background (and so was inverted)."""

    @property
    def image(self) -> np.ndarray:
        return self.prep.image

    def picture_png(self) -> bytes:
        """The ink picture as PNG bytes (what the store keeps beside the digit)."""
        return png_bytes(self.picture)


@dataclass(frozen=True)
class PhotoResult:
    """One file of several: its name, and its digit or the sentence that refused it."""

    name: str
    digit: PhotoDigit | None = None
    error: str = ""


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _opened(data: bytes, name: str) -> Image.Image:
    """The image with its header read and checked, its pixels not yet decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(f"{name} is far above {MAX_PIXELS // 1_000_000} megapixels: a digit needs no more. "
                         "Send a smaller picture.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(f"{name} is not an image: send a PNG or JPEG photo or scan of one digit.") from None
    if image.format not in FORMATS:
        raise PhotoError(f"{name} is a {image.format} image: send a PNG or JPEG photo or scan of one digit.")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PhotoError(f"{name} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels), above the "
                         f"{MAX_PIXELS // 1_000_000} megapixels a photo may have: send a smaller one.")
    if getattr(image, "n_frames", 1) > 1:
        raise PhotoError(f"{name} is animated ({image.n_frames} frames): send a still photo of one digit.")
    return image


def _grey(image: Image.Image, name: str) -> np.ndarray:
    """The photo decoded, turned upright (EXIF), reduced to ``WORKING_SIDE`` and made grey: float (H, W) 0..255."""
    try:
        if image.format == "JPEG":
            image.draft("L", (WORKING_SIDE, WORKING_SIDE))  # JPEG decodes at a fraction of its size: quicker
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = _flattened(image.convert("RGBA"))
        image = image.convert("L")
        image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError) as err:
        raise PhotoError(f"{name} cannot be decoded ({err}): it is damaged or cut short.") from None
    return np.asarray(image, dtype=np.float32)


def _flattened(rgba: Image.Image) -> Image.Image:
    """A picture with transparency on a background that contrasts with its opaque part (white under dark ink,
    black under light ink), so ink on a transparent background stays visible either way."""
    a = np.asarray(rgba)
    opaque = a[..., 3] > 127
    luminance = np.asarray(rgba.convert("L"))
    dark_ink = opaque.any() and np.median(luminance[opaque]) < 128
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if dark_ink else (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _ink(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ink above the background, float 0..255 (light on dark), and whether the photo had to be inverted.

    The border tells the background: a light border means dark ink on paper, which is inverted. The
    background's level (the middle grey level of the photo, since ink covers a small part of it) is then
    subtracted."""
    h, w = grey.shape
    band = max(1, min(h, w) // 20)
    border = np.concatenate([grey[:band].ravel(), grey[-band:].ravel(), grey[:, :band].ravel(), grey[:, -band:].ravel()])
    inverted = bool(np.median(border) > 127)
    value = 255.0 - grey if inverted else grey
    return np.clip(value - np.median(value), 0, 255), inverted


def _otsu(values: np.ndarray) -> float:
    """The threshold that best splits ``values`` (0..255) into two groups (Otsu's method)."""
    hist = np.bincount(np.clip(values, 0, 255).astype(np.int64).ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    total, total_mean = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * weight - mean * total) ** 2 / (weight * (total - weight))
    return float(np.nanargmax(between[:-1]))


def _digit_crop(ink: np.ndarray) -> np.ndarray | None:
    """The digit's ink cut out with a margin, everything not the digit's (dust, shadows) set to 0; None if blank."""
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return None
    threshold = max(_otsu(ink), MIN_CONTRAST / 2)
    mask = ink > threshold
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return None
    sizes = ndimage.sum_labels(np.ones_like(ink), labels, index=np.arange(1, count + 1))
    kept = np.isin(labels, 1 + np.flatnonzero(sizes >= KEEP_SHARE * sizes.max()))
    # the strokes' soft edges lie just outside the threshold: a pixel of ink belongs to the digit within 2 px of it
    near = ndimage.binary_dilation(kept, iterations=2)
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    margin = int(np.ceil(MARGIN * max(bottom - top, right - left)))
    top, left = max(0, top - margin), max(0, left - margin)
    bottom, right = min(ink.shape[0], bottom + margin), min(ink.shape[1], right + margin)
    # ink just below the threshold fades to 0, so the crop's background is black like the canvas's
    floor = threshold / 2
    cleaned = np.clip((ink - floor) / max(peak - floor, 1.0), 0, 1) * 255 * near
    return np.rint(cleaned[top:bottom, left:right]).astype(np.uint8)


def photo_to_digit(data: bytes, name: str = "the file") -> PhotoDigit:
    """A photo or scan of one handwritten digit as a 28×28 digit, or ``PhotoError`` with a sentence naming ``name``."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise PhotoError(f"{name} is empty: send a PNG or JPEG photo or scan of one digit.")
    grey = _grey(_opened(bytes(data), name), name)
    ink, inverted = _ink(grey)
    picture = _digit_crop(ink)
    prep = to_mnist(picture) if picture is not None else None
    if prep is None:
        raise PhotoError(f"{name} looks blank: no dark stroke on a light background (or light on dark) was found. "
                         "Photograph one digit written large, with a thick pen.")
    return PhotoDigit(picture=picture, prep=prep, inverted=inverted)


def photos_to_digits(files) -> list[PhotoResult]:
    """Several photos at once: ``files`` is (name, bytes) pairs; one ``PhotoResult`` per file, in order."""
    results = []
    for name, data in files:
        try:
            results.append(PhotoResult(name, photo_to_digit(data, name)))
        except PhotoError as err:
            results.append(PhotoResult(name, error=str(err)))
    return results


def label_from_name(name: str) -> int | None:
    """The label a file's name gives (a digit standing alone, as in ``3.jpg`` or ``anna-7.png``), or None (also
    for ``IMG_2041.jpg``: a longer number is no label)."""
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    found = re.search(r"(?<!\d)\d(?!\d)", stem)
    return int(found.group()) if found else None
