"""Why a network may misread your digit: the preprocessing step by step, and how your digit differs from MNIST's.

What lives here: ``why_steps`` (a drawing or photo picture → the ink, the ink box, the box scaled to fit 20×20
keeping its aspect, then centred by its centre of mass in 28×28: the very steps of
``nnplay.lessons.draw.to_mnist``, recovered from what it reports), ``step_pictures`` (those steps as RGB arrays
with the ink box and the centre of mass marked, ready to show), ``picture_array`` (a stored PNG back to an
array), ``shape_measures`` (stroke thickness, slant, ink box width and height and amount of ink of 28×28 digits,
measured simply), ``class_examples`` (MNIST training digits of one class) and ``compare_to_mnist`` (a sentence
saying where your digit lies among MNIST's digits of its class). Everything is numpy, headless.
What does not live here: the network's answer (``nnplay.lessons.draw``), the page (``pages/digits.py``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..lessons.draw import FIELD, INK_LEVEL, Preprocessed, centre_of_mass, ink, to_mnist

BOX_COLOUR = (255, 64, 64)
CENTRE_COLOUR = (64, 160, 255)
UNUSUAL = 0.1
"""A measure below this share of MNIST's digits of the class, or above all but this share, is called unusual."""


@dataclass(frozen=True)
class WhySteps:
    """The preprocessing of one picture, step by step (ink 0..255, light on dark)."""

    picture: np.ndarray
    """float (H, W): the ink of the canvas or photo picture."""
    bbox: tuple[int, int, int, int]
    """(top, left, bottom, right) of the ink in ``picture``; bottom/right exclusive."""
    crop: np.ndarray
    """float (h, w): the picture cut to its ink box."""
    scaled: np.ndarray
    """uint8 (28, 28): the crop scaled so its longer side is 20 px, keeping its aspect, placed in the middle."""
    centred: np.ndarray
    """uint8 (28, 28): the same moved so its centre of mass sits at (14, 14): the network's input."""
    mass_before: tuple[float, float]
    """(row, col) of the centre of mass in ``scaled``."""
    prep: Preprocessed


def picture_array(png: bytes) -> np.ndarray:
    """A stored picture (PNG bytes: the canvas's RGBA, or a photo's grey ink) as an array."""
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA") if image.mode in ("RGBA", "LA", "P") else image.convert("L"))


def why_steps(picture: np.ndarray) -> WhySteps | None:
    """The steps ``to_mnist`` takes on ``picture`` (grey, RGB or RGBA as the canvas gives it); None when empty."""
    prep = to_mnist(picture)
    if prep is None:
        return None
    value = ink(picture)
    top, left, bottom, right = prep.bbox
    height, width = prep.size
    row, col = prep.offset
    small = prep.image[row:row + height, col:col + width]  # the scaled crop, which is all the field holds
    scaled = np.zeros((FIELD, FIELD), dtype=np.uint8)
    box_row, box_col = (FIELD - height) // 2, (FIELD - width) // 2
    scaled[box_row:box_row + height, box_col:box_col + width] = small
    return WhySteps(picture=value, bbox=prep.bbox, crop=value[top:bottom, left:right], scaled=scaled,
                    centred=prep.image, mass_before=centre_of_mass(scaled), prep=prep)


def _rgb(grey: np.ndarray) -> np.ndarray:
    g = np.clip(np.asarray(grey, dtype=np.float64), 0, 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def _enlarged(grey: np.ndarray, factor: int) -> np.ndarray:
    return np.kron(np.asarray(grey), np.ones((factor, factor), dtype=np.uint8)) if factor > 1 else np.asarray(grey)


def _rectangle(rgb: np.ndarray, top: int, left: int, bottom: int, right: int, colour, width: int = 2) -> None:
    h, w = rgb.shape[:2]
    top, left = max(0, top), max(0, left)
    bottom, right = min(h, bottom), min(w, right)
    rgb[top:min(h, top + width), left:right] = colour
    rgb[max(0, bottom - width):bottom, left:right] = colour
    rgb[top:bottom, left:min(w, left + width)] = colour
    rgb[top:bottom, max(0, right - width):right] = colour


def _cross(rgb: np.ndarray, row: float, col: float, colour, arm: int = 6) -> None:
    r, c = int(round(row)), int(round(col))
    h, w = rgb.shape[:2]
    rgb[max(0, r - arm):min(h, r + arm + 1), min(w - 1, max(0, c))] = colour
    rgb[min(h - 1, max(0, r)), max(0, c - arm):min(w, c + arm + 1)] = colour


def _boxed(crop: np.ndarray) -> np.ndarray:
    """The crop in the middle of a black square (so it shows at the scale of the other steps), its edge marked."""
    h, w = crop.shape
    side = max(h, w) + 8
    square = np.zeros((side, side, 3), dtype=np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = _rgb(crop)
    _rectangle(square, top - 2, left - 2, top + h + 2, left + w + 2, BOX_COLOUR, width=max(1, side // 140))
    return square


def step_pictures(steps: WhySteps, zoom: int = 8) -> list[tuple[str, np.ndarray]]:
    """The steps as (caption, RGB uint8 array) to show side by side: the picture with its ink box, the crop,
    the 20×20 fit with its centre of mass, the centred 28×28 input with the field's centre (28×28 ones
    enlarged ``zoom`` times)."""
    top, left, bottom, right = steps.bbox
    picture = _rgb(steps.picture)
    _rectangle(picture, top, left, bottom, right, BOX_COLOUR, width=max(2, max(picture.shape) // 140))
    height, width = steps.prep.size
    scaled = _rgb(_enlarged(steps.scaled, zoom))
    box_row, box_col = (FIELD - height) // 2, (FIELD - width) // 2
    _rectangle(scaled, box_row * zoom, box_col * zoom, (box_row + height) * zoom, (box_col + width) * zoom, BOX_COLOUR)
    cy, cx = steps.mass_before
    _cross(scaled, (cy + 0.5) * zoom, (cx + 0.5) * zoom, CENTRE_COLOUR)
    centred = _rgb(_enlarged(steps.centred, zoom))
    my, mx = centre_of_mass(steps.centred)
    _cross(centred, (my + 0.5) * zoom, (mx + 0.5) * zoom, CENTRE_COLOUR)
    dy, dx = steps.prep.shift
    return [
        (f"1. the picture, ink box {right - left} × {bottom - top} px", picture),
        ("2. cut to the ink box", _boxed(steps.crop)),
        (f"3. scaled ×{steps.prep.scale:.3g} to {width} × {height} px: the longer side 20, aspect kept", scaled),
        (f"4. moved ({dy:+d}, {dx:+d}) px so the centre of mass (blue) is the middle of 28×28", centred),
    ]


# -- how your digit differs from MNIST's -------------------------------------------------------------------

MEASURES = {
    "thickness": ("stroke thickness", "px"),
    "slant": ("slant", "°"),
    "width": ("ink box width", "px"),
    "height": ("ink box height", "px"),
    "ink": ("amount of ink", "full pixels"),
}


def shape_measures(images: np.ndarray) -> dict[str, np.ndarray]:
    """Simple measures of 28×28 digits (N, 28, 28) uint8, each an array (N,):

    thickness: twice the inked pixels (above 128) over those on the ink's edge (a stroke t px wide and L long has
    about L·t pixels and 2·L edge pixels); slant: degrees the ink leans right (+) or left (−) from upright, from
    its second moments; width, height: of its ink box (pixels above ``INK_LEVEL``); ink: its total ink in
    full-pixel units (sum / 255)."""
    x = np.asarray(images, dtype=np.float64).reshape(-1, FIELD, FIELD)
    solid = x > 128
    padded = np.pad(solid, ((0, 0), (1, 1), (1, 1)))
    inner = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    edge = (solid & ~inner).sum(axis=(1, 2))
    thickness = 2 * solid.sum(axis=(1, 2)) / np.maximum(edge, 1)
    total = np.maximum(x.sum(axis=(1, 2)), 1e-9)
    rows, cols = np.arange(FIELD)[None, :, None], np.arange(FIELD)[None, None, :]
    my = (x * rows).sum(axis=(1, 2)) / total
    mx = (x * cols).sum(axis=(1, 2)) / total
    dy, dx = rows - my[:, None, None], cols - mx[:, None, None]
    var_y = np.maximum((x * dy * dy).sum(axis=(1, 2)) / total, 1e-9)
    cov = (x * dx * dy).sum(axis=(1, 2)) / total
    slant = np.degrees(np.arctan(-cov / var_y))  # rows grow downwards: a top leaning right has negative cov
    drawn = x > INK_LEVEL
    any_rows, any_cols = drawn.any(axis=2), drawn.any(axis=1)
    height = np.where(any_rows.any(axis=1), FIELD - np.argmax(any_rows[:, ::-1], axis=1) - np.argmax(any_rows, axis=1), 0)
    width = np.where(any_cols.any(axis=1), FIELD - np.argmax(any_cols[:, ::-1], axis=1) - np.argmax(any_cols, axis=1), 0)
    return {"thickness": thickness, "slant": slant, "width": width.astype(np.float64),
            "height": height.astype(np.float64), "ink": x.sum(axis=(1, 2)) / 255}


def class_examples(images, labels, label: int, n: int = 8, seed: int = 0) -> np.ndarray:
    """``n`` MNIST training digits of class ``label``, picked at random (the same for the same seed): uint8 (n, 28, 28)."""
    images, labels = np.asarray(images), np.asarray(labels)
    index = np.flatnonzero(labels == label)
    if len(index) == 0:
        return np.zeros((0, FIELD, FIELD), dtype=np.uint8)
    chosen = np.random.default_rng(seed).choice(index, size=min(n, len(index)), replace=False)
    return images[np.sort(chosen)].astype(np.uint8)


@dataclass(frozen=True)
class Comparison:
    """Where a digit lies among MNIST's digits of its class, measure by measure."""

    label: int
    mine: dict[str, float]
    typical: dict[str, float]  # the class's middle value: half its digits lie below
    share_below: dict[str, float]  # the share of the class's digits whose measure is below mine
    unusual: list[str]  # the measures in which mine is unusual, most unusual first
    sentence: str
    count: int  # how many MNIST digits of the class were measured


def compare_to_mnist(image: np.ndarray, label: int, class_images: np.ndarray) -> Comparison:
    """Compare a 28×28 digit with MNIST's digits of its class (``class_images``: (N, 28, 28)) and say how it
    differs in a sentence."""
    if len(class_images) == 0:
        raise ValueError(f"there are no MNIST digits of class {label} to compare with.")
    mine = {k: float(v[0]) for k, v in shape_measures(np.asarray(image)[None]).items()}
    theirs = shape_measures(class_images)
    typical = {k: float(np.median(v)) for k, v in theirs.items()}
    share_below = {k: float(np.mean(theirs[k] < mine[k]) + 0.5 * np.mean(theirs[k] == mine[k])) for k in theirs}
    unusual = sorted((k for k, s in share_below.items() if s < UNUSUAL or s > 1 - UNUSUAL),
                     key=lambda k: -abs(share_below[k] - 0.5))
    parts = [_difference(k, mine[k], typical[k], share_below[k]) for k in unusual]
    if parts:
        sentence = (f"Unlike most of MNIST's {label}s, yours has {_joined(parts)}: a network that learned from them "
                    "has seen few digits like it.")
    else:
        sentence = (f"Your {label} lies within the usual range of MNIST's {label}s in stroke thickness, slant, size and "
                    "amount of ink: if it is misread, its shape is the cause, not these.")
    return Comparison(label, mine, typical, share_below, unusual, sentence, len(class_images))


def _difference(key: str, mine: float, typical: float, below: float) -> str:
    """One unusual measure in words: what, how much against the typical, and beyond what share of them."""
    more = below > 0.5
    share = below if more else 1 - below
    if key == "slant":
        def lean(angle: float) -> str:
            return f"{abs(angle):.0f}° {'right' if angle > 0 else 'left'}" if round(abs(angle)) else "upright"
        comparative = "further right" if more else "further left"
        what = f"a slant of {lean(mine)} (theirs typically {lean(typical)})"
    else:
        name, unit = MEASURES[key]
        comparative = {"thickness": ("thicker", "thinner"), "width": ("wider", "narrower"),
                       "height": ("taller", "shorter"), "ink": ("more", "less")}[key][0 if more else 1]
        what = {"thickness": f"{comparative} strokes", "width": f"a {comparative} ink box",
                "height": f"a {comparative} ink box", "ink": f"{comparative} ink"}[key]
        what += f" ({mine:.1f} {unit} against their typical {typical:.1f})"
    return f"{what}, {comparative} than {'all' if share >= 0.995 else f'{share:.0%}'} of them"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; and " + parts[-1]

