"""Tests for ``nnplay.lessons.draw``: drawing → MNIST-like digit, prediction and saliency.

What lives here: geometric checks of ``to_mnist`` against MNIST's own recipe (20 px box, centre of
mass at (14, 14), aspect ratio kept, empty canvas → None), the round trip of real MNIST digits
(when ``$NNPLAY_DATA_DIR`` has them), and the attributions checked against autograd and against
the completeness property of integrated gradients.
What does not live here: the draw page itself (see ``tests/test_pages_draw_inspect.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnplay.lessons import draw
from nnplay.config import ModelConfig
from nnplay.data import read_idx
from nnplay.lessons.draw import centre_of_mass, to_mnist
from nnplay.engine import seeded_model


def canvas(size: int = 280) -> np.ndarray:
    """A blank canvas as streamlit-drawable-canvas returns it: RGBA, fully transparent."""
    return np.zeros((size, size, 4), dtype=np.uint8)


def paint(img: np.ndarray, rows: slice, cols: slice, colour=(255, 255, 255)) -> np.ndarray:
    img[rows, cols, :3] = colour
    img[rows, cols, 3] = 255
    return img


def ring(size: int = 280, centre=(140, 140), radius=(90, 60), width=18) -> np.ndarray:
    """A zero-like ellipse stroke on a transparent canvas."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot((yy - centre[0]) / radius[0], (xx - centre[1]) / radius[1])
    stroke = np.abs(r - 1) * min(radius) < width / 2
    img = canvas(size)
    img[stroke] = (255, 255, 255, 255)
    return img


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows = np.flatnonzero((image > 0).any(axis=1))
    cols = np.flatnonzero((image > 0).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_centred_digit_stays_centred():
    prep = to_mnist(ring())
    assert prep is not None
    assert prep.image.dtype == np.uint8 and prep.image.shape == (28, 28)
    cy, cx = centre_of_mass(prep.image)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert prep.image.max() == 255
    assert max(ink_box(prep.image)) == 20


def test_small_digit_in_corner_is_moved_to_centre_and_scaled():
    img = ring(centre=(30, 250), radius=(20, 14), width=6)  # a 0 about 46 px tall, top right
    prep = to_mnist(img)
    assert prep is not None
    cy, cx = centre_of_mass(prep.image)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert abs(max(ink_box(prep.image)) - 20) <= 1
    top, left, bottom, right = prep.bbox
    assert top < 15 and bottom < 60 and left > 220
    assert prep.scale == pytest.approx(20 / (bottom - top))


def test_aspect_ratio_is_kept_for_a_tall_thin_stroke():
    img = paint(canvas(), slice(40, 240), slice(100, 120))  # a "1": 200 × 20
    prep = to_mnist(img)
    assert prep is not None
    h, w = ink_box(prep.image)
    assert h == 20 and w <= 3
    cy, cx = centre_of_mass(prep.image)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_coloured_stroke_on_opaque_black_counts_as_ink():
    img = canvas()
    img[:, :, 3] = 255  # opaque black background, as with background_color="#000"
    paint(img, slice(40, 240), slice(100, 130), colour=(0, 0, 255))
    prep = to_mnist(img)
    assert prep is not None and max(ink_box(prep.image)) == 20


def test_grey_input_light_ink_on_black():
    grey = np.zeros((280, 280), dtype=np.uint8)
    grey[60:220, 130:150] = 255
    prep = to_mnist(grey)
    assert prep is not None and ink_box(prep.image)[0] == 20


def test_heavy_ink_is_never_inverted():
    img = paint(canvas(), slice(10, 270), slice(10, 270))  # ink over most of the canvas
    img[130:150, 130:150] = 0  # a small hole in the middle
    prep = to_mnist(img)
    assert prep is not None
    assert (prep.image > 200).mean() > 0.4  # a solid patch, not a hollow frame
    assert prep.image[4:8, 4:24].min() > 200  # the ink stays ink


@pytest.mark.parametrize("pixels", [0, 5, 19])
def test_empty_or_almost_empty_canvas_gives_none(pixels):
    img = canvas()
    img[100, 100 : 100 + pixels] = (255, 255, 255, 255)
    img[200:210, 200:210] = (255, 255, 255, 20)  # faint smudge below the ink level
    assert to_mnist(img) is None


def test_near_border_digit_stays_inside_field():
    img = paint(canvas(), slice(0, 280), slice(0, 40))  # thick bar along the left edge
    prep = to_mnist(img)
    assert prep is not None
    row, col = prep.offset
    assert 0 <= row and row + prep.size[0] <= 28 and 0 <= col and col + prep.size[1] <= 28


def test_bad_shape_raises_a_readable_error():
    with pytest.raises(ValueError, match="RGBA"):
        to_mnist(np.zeros((5, 5, 2)))


# --- model-dependent parts -------------------------------------------------------------------


def tiny_model(activation: str = "tanh") -> nn.Module:
    """A small MLP from the project's builder (784-32-10), seeded."""
    return seeded_model(ModelConfig(family="mlp", hidden=(32,), activation=activation, init="xavier"), 0)


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    prep = to_mnist(ring())
    assert prep is not None
    return prep.image


def test_predict_gives_probabilities(digit):
    model = tiny_model()
    model.train()
    probs = draw.predict(model, digit)
    assert probs.shape == (10,)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5) and (probs >= 0).all()
    assert model.training  # mode restored


def test_gradient_method_equals_autograd_of_the_class_logit(digit):
    model = tiny_model()
    x = torch.from_numpy(digit).float().div(255).reshape(1, 1, 28, 28).requires_grad_(True)
    target = 3
    (expected,) = torch.autograd.grad(model(x)[0, target], x)
    got = draw.input_gradient(model, digit, target=target)
    torch.testing.assert_close(got, expected[0, 0])
    assert all(p.grad is None for p in model.parameters())


def test_gradient_default_target_is_the_predicted_class(digit):
    model = tiny_model()
    predicted = int(np.argmax(draw.predict(model, digit)))
    torch.testing.assert_close(
        draw.input_gradient(model, digit), draw.input_gradient(model, digit, target=predicted)
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_integrated_gradients_completeness(digit, activation):
    model = tiny_model(activation).eval()
    target = 7
    x = torch.from_numpy(digit).float().div(255).reshape(1, 1, 28, 28)
    with torch.no_grad():
        gap = float(model(x)[0, target] - model(torch.zeros_like(x))[0, target])
    attribution = draw.integrated_gradients(model, digit, target=target, steps=256)
    assert attribution.shape == (28, 28)
    assert float(attribution.sum()) == pytest.approx(gap, rel=0.02, abs=1e-3)
    assert float(attribution[digit == 0].abs().sum()) == 0.0  # black pixels get nothing


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient"])
def test_saliency_shape_and_range(digit, method):
    sal = draw.saliency(tiny_model(), digit, method=method, steps=8)
    assert sal.shape == (28, 28) and sal.dtype == np.float32
    assert sal.min() >= 0 and sal.max() == pytest.approx(1.0)


def test_saliency_overlay_aligns_with_the_drawing():
    img = ring(centre=(80, 190), radius=(40, 30), width=10)
    prep = to_mnist(img)
    assert prep is not None
    sal = prep.image.astype(np.float32) / 255  # "saliency" = the digit itself
    layer = draw.saliency_overlay(sal, size=280, prep=prep)
    assert layer.shape == (280, 280, 4) and layer.dtype == np.uint8
    lit = layer[:, :, 3] > 40
    stroke = img[:, :, 3] > 0
    # the overlay falls on the strokes, not somewhere else on the canvas
    assert (lit & stroke).sum() > 0.6 * lit.sum()
    plain = draw.saliency_overlay(sal, size=280)
    assert plain.shape == (280, 280, 4)
    assert draw.composite(img, layer).shape == (280, 280, 3)


@pytest.mark.parametrize("seed", range(5))
def test_saliency_overlay_samples_like_torch(seed):
    """The numpy sampling matches grid_sample (zero padding) / interpolate (clamped edges)."""
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    sal = rng.random((28, 28)).astype(np.float32)
    top, left = (int(v) for v in rng.integers(0, 150, 2))
    bottom, right = top + int(rng.integers(10, 280 - top)), left + int(rng.integers(10, 280 - left))
    scale = 20 / max(bottom - top, right - left)
    size = (max(1, round((bottom - top) * scale)), max(1, round((right - left) * scale)))
    prep = draw.Preprocessed(image=np.zeros((28, 28), np.uint8), bbox=(top, left, bottom, right),
                             scale=scale, shift=(0, 0), offset=(3, 5), size=size)
    t = torch.from_numpy(sal)[None, None]
    centres = torch.arange(280, dtype=torch.float32) + 0.5
    gy = ((centres - top) * (size[0] / (bottom - top)) + 3) / 14 - 1
    gx = ((centres - left) * (size[1] / (right - left)) + 5) / 14 - 1
    grid = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), dim=-1)[None]
    expected = [(prep, F.grid_sample(t, grid, mode="bilinear", padding_mode="zeros", align_corners=False)),
                (None, F.interpolate(t, size=(280, 280), mode="bilinear", align_corners=False))]
    for p, alpha in expected:
        want = np.rint(alpha[0, 0].clamp(0, 1).numpy() * 200)
        got = draw.saliency_overlay(sal, size=280, prep=p)[:, :, 3]
        assert np.abs(got - want).max() <= 1  # float rounding at .5 only


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with draw.one_thread():
        assert torch.get_num_threads() == 1
        draw.predict(tiny_model(), np.zeros((28, 28), np.uint8))
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), draw.one_thread():
        raise RuntimeError
    assert torch.get_num_threads() == before


# --- real MNIST round trip ---------------------------------------------------------------------

def test_roundtrip_keeps_mnist_digits_mnist_like(mnist_dir):
    images = read_idx(mnist_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz")[:200]
    out = draw.mnist_roundtrip(images)
    assert out.shape == images.shape and out.dtype == np.uint8
    coms = np.array([centre_of_mass(im) for im in out])
    assert np.abs(coms - 14).max() <= 0.75
    # the digits come back nearly as they went in (MNIST is already 20 px, mass-centred)
    diff = np.abs(out.astype(int) - images.astype(int)).mean(axis=(1, 2))
    assert np.median(diff) < 12
