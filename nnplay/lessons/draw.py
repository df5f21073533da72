"""From a drawing on the canvas to an MNIST-like digit, a prediction and a saliency map.

What lives here: ``to_mnist`` (crop, scale to 20 px, centre by mass in a 28×28 field, the way
MNIST itself was made; ``preprocessing_text`` says what it did), ``mnist_drawings`` /
``mnist_roundtrip`` (MNIST test digits drawn on the canvas and pushed through that same path), ``predict``, the attributions ``input_gradient`` /
``integrated_gradients`` with their display forms ``saliency`` / ``saliency_overlay`` and, sign
kept (for and against a class), ``signed_saliency`` / ``signed_overlay``; whether a drawing is a
digit at all (``ink_shape``, ``entropy``, ``drawing_hint`` with thresholds measured by
``scripts/measure_draw_hints.py``, and ``example_non_digits`` to measure them on); and
``one_thread`` to run such single-image work without thread-pool stalls.
What does not live here: the canvas widget and the page (``pages/draw.py``), the figures.

Everything is numpy/torch and runs headless; the model input is always
``nnplay.data.normalise(torch.from_numpy(image)[None])``: uint8/255, shape (1, 1, 28, 28).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import normalise
from ..models import evaluating

FIELD = 28
"""Side of the MNIST field, in pixels."""
BOX = 20
"""MNIST scales every digit so that the longer side of its bounding box is 20 px."""
INK_LEVEL = 30
"""A pixel whose ink (0..255) exceeds this counts as drawn."""
MIN_INK_PIXELS = 20
"""A drawing with fewer drawn pixels than this is treated as an empty canvas."""

SaliencyMethod = Literal["integrated_gradients", "gradient"]


@dataclass(frozen=True)
class Preprocessed:
    """A drawing turned into a 28×28 MNIST-like digit, with the steps taken to get there."""

    image: np.ndarray
    """uint8 (28, 28), white digit on black, centre of mass at (14, 14)."""
    bbox: tuple[int, int, int, int]
    """(top, left, bottom, right) of the ink in the drawing's pixels; bottom/right exclusive."""
    scale: float
    """Output pixels per drawing pixel: 20 / longer side of ``bbox``."""
    shift: tuple[int, int]
    """(dy, dx) the centre-of-mass translation applied after centring the box, in 28-px units."""
    offset: tuple[int, int]
    """(row, col) where the scaled crop's top-left corner lands in the 28×28 field."""
    size: tuple[int, int]
    """(height, width) of the scaled crop in the 28×28 field."""


def preprocessing_text(prep: Preprocessed) -> str:
    """What ``to_mnist`` did, in a line: the ink box and the scaled crop as width × height (a horizontal stroke
    is wide and low), the scale and the centre-of-mass shift."""
    top, left, bottom, right = prep.bbox
    height, width = prep.size
    return (f"ink box {right - left} × {bottom - top} px (width × height) → ×{prep.scale:.3f} → "
            f"{width} × {height} px, centre-of-mass shift {prep.shift}")


def ink(drawing: np.ndarray) -> np.ndarray:
    """Ink per pixel, float 0..255, from a (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA array.

    RGBA with some transparency (strokes on a transparent canvas): the alpha channel is the ink.
    Otherwise (opaque RGBA, RGB, grey) the brightest channel is the ink, so a stroke of any
    colour on black counts fully. Nothing is ever inverted: the Draw canvas is always light ink on
    a dark background, so a canvas mostly covered in ink is heavy ink, not a light background
    (inverting a mostly bright canvas would turn such a scribble into a hollow frame).
    """
    a = np.asarray(drawing)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(
            f"Expected a (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA image, got shape {a.shape}."
        )
    a = a.astype(np.float32)
    if a.ndim == 3 and a.shape[2] == 4 and a[:, :, 3].min() < 255:
        return a[:, :, 3]
    return a if a.ndim == 2 else a[:, :, :3].max(axis=2)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) centre of mass of a non-negative image, in pixel-index units (MNIST: ≈ 14, 14)."""
    img = np.asarray(image, dtype=np.float64)
    total = img.sum()
    if total <= 0:
        return ((img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2)
    rows = np.arange(img.shape[0])
    cols = np.arange(img.shape[1])
    return (float(img.sum(axis=1) @ rows / total), float(img.sum(axis=0) @ cols / total))


def to_mnist(rgba_or_gray: np.ndarray) -> Preprocessed | None:
    """Turn a canvas drawing into a 28×28 uint8 digit the way MNIST was made, or None if empty.

    1. ink per pixel (see ``ink``); fewer than ``MIN_INK_PIXELS`` above ``INK_LEVEL`` → None;
    2. crop to the bounding box of the ink;
    3. scale so the longer side is 20 px, keeping the aspect ratio (anti-aliased bilinear);
    4. stretch the brightest pixel to 255 (MNIST strokes are saturated);
    5. place the crop in a 28×28 field so its centre of mass sits at (14, 14), rounded to whole
       pixels and clipped so that the crop stays inside the field.
    """
    value = ink(rgba_or_gray)
    drawn = value > INK_LEVEL
    if int(drawn.sum()) < MIN_INK_PIXELS:
        return None
    rows = np.flatnonzero(drawn.any(axis=1))
    cols = np.flatnonzero(drawn.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = value[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    out_h = min(BOX, max(1, round(h * scale)))
    out_w = min(BOX, max(1, round(w * scale)))

    small = F.interpolate(
        torch.from_numpy(np.ascontiguousarray(crop))[None, None],
        size=(out_h, out_w),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0, 0].clamp_(0, 255).numpy()
    peak = small.max()
    if peak <= 0:
        return None
    small = small * (255.0 / peak)

    # centre the box, then move it so that the centre of mass lands on (14, 14)
    box_row, box_col = (FIELD - out_h) // 2, (FIELD - out_w) // 2
    cy, cx = centre_of_mass(small)
    row = int(np.clip(round(FIELD / 2 - cy), 0, FIELD - out_h))
    col = int(np.clip(round(FIELD / 2 - cx), 0, FIELD - out_w))

    image = np.zeros((FIELD, FIELD), dtype=np.uint8)
    image[row : row + out_h, col : col + out_w] = np.rint(small).astype(np.uint8)
    return Preprocessed(
        image=image,
        bbox=(top, left, bottom, right),
        scale=scale,
        shift=(row - box_row, col - box_col),
        offset=(row, col),
        size=(out_h, out_w),
    )


def mnist_roundtrip(images_u8: np.ndarray | torch.Tensor, canvas: int = 280) -> np.ndarray:
    """MNIST digits pushed through the drawing path: upscale 28 → ``canvas`` (bilinear, like a
    canvas drawing), then ``to_mnist``. Returns uint8 (N, 28, 28); an image that comes out empty
    stays all black."""
    out = np.zeros((len(images_u8), FIELD, FIELD), dtype=np.uint8)
    for i, drawing in enumerate(mnist_drawings(images_u8, canvas)):
        prep = to_mnist(drawing)
        if prep is not None:
            out[i] = prep.image
    return out


def mnist_drawings(images_u8: np.ndarray | torch.Tensor, canvas: int = 280) -> Iterator[np.ndarray]:
    """MNIST digits as canvas drawings, one by one: each upscaled 28 → ``canvas`` (bilinear),
    uint8 (canvas, canvas), light ink on black, the way ``mnist_roundtrip`` draws them."""
    if isinstance(images_u8, torch.Tensor):
        images = images_u8.detach().cpu().to(torch.uint8)
    else:
        images = torch.from_numpy(np.array(images_u8, dtype=np.uint8))  # a writable copy
    chunk = 256
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk].float()[:, None]  # (B, 1, 28, 28)
        big = F.interpolate(batch, size=(canvas, canvas), mode="bilinear", align_corners=False)
        yield from big[:, 0].clamp_(0, 255).round_().to(torch.uint8).numpy()  # (B, canvas, canvas)


def as_input(image: np.ndarray | torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """Model input (1, 1, 28, 28) float in [0, 1] from a uint8 (28, 28) image; a float tensor
    of shape (28, 28), (1, 28, 28) or (1, 1, 28, 28) is taken as already normalised."""
    x = torch.from_numpy(np.array(image)) if isinstance(image, np.ndarray) else image
    if x.dtype == torch.uint8:
        x = normalise(x.reshape(1, FIELD, FIELD))
    x = x.reshape(1, 1, FIELD, FIELD).float()
    return x if device is None else x.to(device)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (cpu for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed torch work on one intra-op thread, then restore the thread count.

    For one 28×28 image, splitting an op over threads gains nothing, and on a busy CPU every
    parallel region waits for a free core (``scripts/bench_draw.py --latency-url`` measures the Draw
    page's stroke → answer). ``torch.set_num_threads`` sets the
    calling thread's OpenMP/MKL count, but also the default that a thread running its first torch
    op meanwhile picks up (a training thread starting right then would train on one thread), so
    keep the block short: torch calls only.
    """
    previous = torch.get_num_threads()
    if previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def predict(model: nn.Module, image_u8: np.ndarray | torch.Tensor) -> np.ndarray:
    """Class probabilities (10,) for one uint8 (28, 28) digit, in eval mode, no autograd."""
    with evaluating(model), torch.inference_mode():
        logits = model(as_input(image_u8, model_device(model)))
        return torch.softmax(logits.float(), dim=1)[0].cpu().numpy()


def _target(model: nn.Module, x: torch.Tensor, target: int | None) -> int:
    if target is not None:
        return int(target)
    with torch.no_grad():
        return int(model(x).argmax(dim=1)[0])


def input_gradient(model: nn.Module, x, target: int | None = None) -> torch.Tensor:
    """d logit[target] / d input, signed, shape (28, 28); target defaults to the predicted class.

    ``x`` is a uint8 (28, 28) image or an already-normalised float input (see ``as_input``).
    The model is put in eval mode for the call and restored afterwards; parameters get no .grad.
    """
    with evaluating(model), torch.enable_grad():
        x = as_input(x, model_device(model)).detach().requires_grad_(True)
        target = _target(model, x, target)
        logit = model(x)[0, target]
        (grad,) = torch.autograd.grad(logit, x)
    return grad[0, 0].detach().cpu()


def integrated_gradients(
    model: nn.Module,
    x,
    target: int | None = None,
    steps: int = 32,
    baseline: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integrated gradients (Sundararajan et al. 2017), signed, shape (28, 28).

    attribution = (x - baseline) · mean over α of d logit[target] / d input at baseline + α(x - baseline),
    with ``steps`` midpoint α = (k + ½)/steps in one batched forward/backward. Completeness:
    the attributions sum to about logit(x) - logit(baseline). Baseline defaults to black.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    with evaluating(model):
        device = model_device(model)
        x = as_input(x, device)
        base = torch.zeros_like(x) if baseline is None else as_input(baseline, device)
        target = _target(model, x, target)
        alphas = (torch.arange(steps, device=device, dtype=x.dtype) + 0.5) / steps
        with torch.enable_grad():
            path = (base + alphas[:, None, None, None] * (x - base)).requires_grad_(True)  # (S,1,28,28)
            logits = model(path)[:, target]  # (S,)
            (grads,) = torch.autograd.grad(logits.sum(), path)
    attribution = (x - base)[0, 0] * grads.mean(dim=0)[0]  # (28, 28)
    return attribution.detach().cpu()


def attributions(model: nn.Module, x, target: int | None, method: SaliencyMethod, steps: int = 32) -> torch.Tensor:
    """Raw attributions (28, 28) for ``target`` by ``method``: "integrated_gradients" or "gradient"."""
    if method == "integrated_gradients":
        return integrated_gradients(model, x, target, steps=steps)
    if method == "gradient":
        return input_gradient(model, x, target)
    raise ValueError(f'method must be "integrated_gradients" or "gradient", got {method!r}.')


def saliency(
    model: nn.Module,
    x,
    target: int | None = None,
    method: SaliencyMethod = "integrated_gradients",
    steps: int = 32,
) -> np.ndarray:
    """Absolute attributions scaled to [0, 1], float32 (28, 28), for ``target`` (default: the
    predicted class). ``method``: "integrated_gradients" (black baseline) or "gradient"."""
    return np.abs(signed_saliency(model, x, target, method, steps))


def _bilinear_taps(coords: np.ndarray, n: int, edge: Literal["zeros", "clamp"]):
    """Sampling an n-pixel axis bilinearly at continuous ``coords`` (pixel units, 0 = the left
    edge of pixel 0) the way torch does with align_corners=False, with ``grid_sample``'s zero
    padding ("zeros") or ``interpolate``'s clamped edges ("clamp"): the two source indices and
    their weights per coordinate, as (i0, w0, i1, w1)."""
    pos = np.asarray(coords, dtype=np.float64) - 0.5
    if edge == "clamp":
        pos = np.maximum(pos, 0.0)
    i0 = np.floor(pos).astype(np.int64)
    w1 = (pos - i0).astype(np.float32)
    w0 = 1 - w1
    i1 = np.minimum(i0 + 1, n - 1) if edge == "clamp" else i0 + 1
    taps = []
    for index, weight in ((i0, w0), (i1, w1)):
        inside = (index >= 0) & (index < n)
        taps += [np.clip(index, 0, n - 1), np.where(inside, weight, np.float32(0))]
    return taps


def saliency_overlay(
    saliency_28: np.ndarray,
    size: int = 280,
    prep: Preprocessed | None = None,
    colour: tuple[int, int, int] = (255, 64, 0),
    max_alpha: int = 200,
) -> np.ndarray:
    """An RGBA uint8 (size, size, 4) layer for the canvas: ``colour`` everywhere, alpha from the
    saliency (bilinear upsampling). With ``prep`` (from ``to_mnist`` on a drawing of that size)
    the map is carried back through crop, scale and shift, so it lies on the strokes themselves;
    without it the 28×28 field is simply stretched over the canvas.

    The sampling is separable: two bilinear passes in plain numpy (rows, then columns), the same
    numbers as torch's ``grid_sample`` / ``interpolate`` but no multi-threaded torch or BLAS call
    on the Draw page's per-stroke path (on a busy CPU those stall for tens of milliseconds)."""
    sal = np.asarray(saliency_28, dtype=np.float32)
    centres = np.arange(size, dtype=np.float64) + 0.5  # canvas pixel centres
    if prep is None:
        rows = cols = centres * (sal.shape[0] / size)
        edge = "clamp"
    else:
        top, left, bottom, right = prep.bbox
        rows = (centres - top) * (prep.size[0] / (bottom - top)) + prep.offset[0]  # 28-field coordinates
        cols = (centres - left) * (prep.size[1] / (right - left)) + prep.offset[1]
        edge = "zeros"  # outside the field: no saliency
    r0, u0, r1, u1 = _bilinear_taps(rows, sal.shape[0], edge)
    c0, v0, c1, v1 = _bilinear_taps(cols, sal.shape[1], edge)
    by_row = sal[r0] * u0[:, None] + sal[r1] * u1[:, None]  # (size, 28)
    alpha = by_row[:, c0] * v0 + by_row[:, c1] * v1  # (size, size)
    layer = np.empty((size, size, 4), dtype=np.uint8)
    layer[:, :, :3] = colour
    layer[:, :, 3] = np.rint(np.clip(alpha, 0, 1) * max_alpha).astype(np.uint8)
    return layer


def composite(drawing_rgba: np.ndarray, layer_rgba: np.ndarray) -> np.ndarray:
    """``layer`` alpha-blended over an opaque view of ``drawing`` (its ink in white on black),
    RGB uint8; both must have the same height and width."""
    base = np.repeat(ink(drawing_rgba)[:, :, None], 3, axis=2)
    alpha = layer_rgba[:, :, 3:4].astype(np.float32) / 255
    out = base * (1 - alpha) + layer_rgba[:, :, :3].astype(np.float32) * alpha
    return np.rint(out).clip(0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Signed saliency: the pixels that speak for a class and those that speak against it


def signed_saliency(
    model: nn.Module,
    x,
    target: int | None = None,
    method: SaliencyMethod = "integrated_gradients",
    steps: int = 32,
) -> np.ndarray:
    """Attributions for ``target`` (default: the predicted class) with their sign kept, scaled so
    the largest |value| is 1: float32 (28, 28) in [-1, 1]; > 0 pushes towards the class, < 0 away."""
    raw = attributions(model, x, target, method, steps)
    values = raw.numpy().astype(np.float32)
    peak = np.abs(values).max()
    return values / peak if peak > 0 else values


FOR_COLOUR = (255, 64, 0)
"""Pixels that speak for the class (positive attribution)."""
AGAINST_COLOUR = (0, 140, 255)
"""Pixels that speak against it (negative attribution)."""


def signed_overlay(signed_28: np.ndarray, size: int = 280, prep: Preprocessed | None = None,
                   max_alpha: int = 200) -> np.ndarray:
    """An RGBA uint8 (size, size, 4) layer: ``FOR_COLOUR`` where the signed saliency is positive,
    ``AGAINST_COLOUR`` where negative, alpha from |value| (see ``saliency_overlay``)."""
    signed = np.asarray(signed_28, dtype=np.float32)
    pro = saliency_overlay(np.clip(signed, 0, None), size, prep, FOR_COLOUR, max_alpha)
    con = saliency_overlay(np.clip(-signed, 0, None), size, prep, AGAINST_COLOUR, max_alpha)
    return np.where(con[:, :, 3:4] > pro[:, :, 3:4], con, pro)


# ---------------------------------------------------------------------------------------------
# Is it a digit at all? The ink's size and shape, the model's uncertainty, and a hint


@dataclass(frozen=True)
class InkShape:
    """Size, shape and place of a drawing's ink, the numbers ``drawing_hint`` judges by."""

    extent: float
    """Longer side of the ink box / the canvas's shorter side (a full-size digit ≈ 0.7)."""
    coverage: float
    """Fraction of the canvas's pixels that hold ink (> ``INK_LEVEL``)."""
    fill: float
    """Fraction of the 20×20 square the digit is scaled into that holds ink: strokes fill part
    of it (a "1" very little), a dot or a scribble becomes a solid blob that fills most of it."""
    thinness: float
    """Shorter side / longer side of the ink box (1 square, near 0 a thin line)."""
    edge: float
    """How far the ink box's centre is from the canvas's centre, as a fraction of half the side,
    along the worse axis: 0 in the middle, 1 on the border."""


def ink_shape(drawing: np.ndarray, prep: Preprocessed) -> InkShape:
    """The ``InkShape`` of a drawing and its ``to_mnist`` result."""
    value = ink(drawing)
    height, width = value.shape
    top, left, bottom, right = prep.bbox
    box_h, box_w = bottom - top, right - left
    return InkShape(
        extent=max(box_h, box_w) / min(height, width),
        coverage=float((value > INK_LEVEL).mean()),
        fill=float((prep.image > INK_LEVEL).sum()) / (BOX * BOX),
        thinness=min(box_h, box_w) / max(box_h, box_w),
        edge=max(abs((top + bottom) / 2 - height / 2) / (height / 2),
                 abs((left + right) / 2 - width / 2) / (width / 2)),
    )


def entropy(probabilities: np.ndarray) -> float:
    """Shannon entropy of a probability vector, in nats: 0 when sure, ln 10 ≈ 2.30 when lost."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)
    return float(-(p * np.log(p)).sum())


# The thresholds. Measured by scripts/measure_draw_hints.py on the 10,000 MNIST test digits pushed
# through the canvas path (``mnist_drawings`` → ``to_mnist``, 280 px) with the shipped default model
# (nnplay/assets/default_model.pt, test accuracy 96.8%). Over those real digits: fill max 0.772
# (p99.9 0.715), coverage max 0.401 (p99.9 0.372), entropy max 2.028 nats (p99.9 1.656). FILL_MAX,
# COVERAGE_MAX and ENTROPY_MAX sit just above those maxima: 0 of the 10,000 real digits gets a hint.
# The script's own non-digits (``example_non_digits``, 50 each, seed 1) get one: dots 50/50,
# scribbles 47/50, edge lines 50/50. DOT_EXTENT_MAX and EDGE_* are about where and how large the
# learner draws, which MNIST cannot tell (its digits are all centred, 20 of 28 px, extent 0.69-0.74,
# edge ≤ 0.34): they are geometric. The widest pen (40 px) makes a dot of extent 0.14 < 0.15; a
# stroke at least 0.35 of the canvas long whose box's centre lies in the outer fifth hugs an edge.
FILL_MAX = 0.80
"""A real digit fills at most 0.772 of its 20×20 square; a blob (dot, scribble) fills more."""
COVERAGE_MAX = 0.42
"""A real digit drawn full size covers at most 0.401 of the canvas; a scribble covers more."""
ENTROPY_MAX = 2.10
"""The default model is never this unsure about a real test digit (max 2.028 nats; ln 10 = 2.303)."""
DOT_EXTENT_MAX = 0.15
"""Ink smaller than this fraction of the canvas is a dot, not a digit."""
EDGE_MIN = 0.6
"""An ink box whose centre is this far out (0 middle, 1 border) hugs an edge ..."""
EDGE_EXTENT_MIN = 0.35
"""... if it is also this long: a line along the border, not a small digit drawn off-centre."""

HintReason = Literal["dot", "scribble", "edge", "unsure"]


@dataclass(frozen=True)
class DrawingHint:
    """Why a drawing does not look like a digit, and what to tell the learner."""

    reason: HintReason
    message: str


def drawing_hint(shape: InkShape, probabilities: np.ndarray | None = None) -> DrawingHint | None:
    """A hint instead of an answer when the drawing does not look like a digit, else None.

    In order: a dot (tiny ink), a line along an edge, a scribble (a solid blob or most of the
    canvas inked), and last the model itself being unsure (entropy above any real test digit's).
    """
    if shape.extent < DOT_EXTENT_MAX:
        return DrawingHint("dot", "That is a dot (or a digit too small to read): draw a digit that fills "
                                  "most of the canvas.")
    if shape.edge > EDGE_MIN and shape.extent > EDGE_EXTENT_MIN:
        return DrawingHint("edge", "That is a line along the edge of the canvas: draw the digit in the middle.")
    if shape.fill > FILL_MAX or shape.coverage > COVERAGE_MAX:
        return DrawingHint("scribble", "That covers too much to be a digit (the ink is a solid patch): "
                                       "clear the canvas and draw one digit with single strokes.")
    if probabilities is not None and entropy(probabilities) > ENTROPY_MAX:
        return DrawingHint("unsure", "The model cannot tell which digit this is (it spreads its answer over "
                                     "several classes): draw it larger, or more like a printed digit.")
    return None


def _stroke(img: np.ndarray, points: np.ndarray, width: float) -> None:
    """Paint a polyline of the given pen width, white and opaque, onto an RGBA canvas in place."""
    size = img.shape[0]
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    mask = np.zeros((size, size), dtype=bool)
    for (y0, x0), (y1, x1) in zip(points[:-1], points[1:]):
        dy, dx = y1 - y0, x1 - x0
        t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0, 1)
        mask |= np.hypot(yy - (y0 + t * dy), xx - (x0 + t * dx)) <= width / 2
    img[mask] = (255, 255, 255, 255)


def example_non_digits(n: int = 10, size: int = 280, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Drawings that are not digits, as the canvas returns them (RGBA, white on transparent), to
    measure and test ``drawing_hint``: ``n`` each of "dot" (a dab of the pen anywhere),
    "scribble" (a long zigzag over most of the canvas) and "edge" (a straight line along one of
    the four borders). Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {"dot": [], "scribble": [], "edge": []}
    for _ in range(n):
        img = np.zeros((size, size, 4), dtype=np.uint8)
        centre = rng.uniform(0.15, 0.85, 2) * size
        _stroke(img, np.array([centre, centre + rng.uniform(-4, 4, 2)]), rng.uniform(12, 26))
        out["dot"].append(img)

        img = np.zeros((size, size, 4), dtype=np.uint8)
        points = rng.uniform(0.05, 0.95, (int(rng.integers(25, 45)), 2)) * size
        _stroke(img, points, rng.uniform(18, 30))
        out["scribble"].append(img)

        img = np.zeros((size, size, 4), dtype=np.uint8)
        offset, length = rng.uniform(0.02, 0.1) * size, rng.uniform(0.5, 0.9) * size
        start = rng.uniform(0.05 * size, size * 0.95 - length)
        line = np.array([[offset, start], [offset, start + length]])  # along the top
        side = int(rng.integers(4))
        if side in (1, 3):
            line = line[:, ::-1]  # along the left
        if side >= 2:
            line = np.where(np.arange(2) == (0 if side == 2 else 1), size - 1 - line, line)  # bottom / right
        _stroke(img, line, rng.uniform(10, 24))
        out["edge"].append(img)
    return out
