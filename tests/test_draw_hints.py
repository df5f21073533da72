"""The Draw page's honesty: drawings that are not digits get a hint, real digits never do, and the
saliency keeps its sign.

What lives here: ``nnplay.lessons.draw.drawing_hint`` on ``example_non_digits`` (dots, scribbles,
lines along an edge) and on real test digits pushed through the canvas path with the shipped
default model (the built-in sample's 2,000; the whole test set is measured by
``scripts/measure_draw_hints.py``); ``ink_shape``, ``entropy``, ``signed_saliency`` and
``signed_overlay``. What does not: the preprocessing itself (``tests/test_draw.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnplay.checkpoint import load_checkpoint
from nnplay.config import ModelConfig
from nnplay.engine import seeded_model
from nnplay.lessons import draw

DEFAULT_MODEL = draw.__file__.rsplit("lessons", 1)[0] + "assets/default_model.pt"


@pytest.fixture(scope="module")
def model():
    return load_checkpoint(DEFAULT_MODEL)[0]


def judge(model, drawing):
    prep = draw.to_mnist(drawing)
    assert prep is not None
    with torch.inference_mode():
        probabilities = draw.predict(model, prep.image)
    return draw.drawing_hint(draw.ink_shape(drawing, prep), probabilities)


@pytest.mark.parametrize("kind", ["dot", "scribble", "edge"])
@pytest.mark.slow
def test_non_digits_get_a_hint_of_their_kind(model, kind):
    drawings = draw.example_non_digits(10, seed=0)[kind]
    hints = [judge(model, d) for d in drawings]
    caught = [h for h in hints if h is not None]
    # every dot and edge line; a scribble light enough to cover no more of the canvas than the
    # heaviest real digit (0.401) can pass: 47 of 50 are caught in scripts/measure_draw_hints.py
    assert len(caught) >= (9 if kind == "scribble" else 10), [h and h.reason for h in hints]
    assert all(h.reason == kind for h in caught)
    assert all(h.message.endswith(".") for h in caught)


@pytest.mark.slow
def test_no_real_test_digit_gets_a_hint(model, sample_data):
    images = sample_data.test_images.numpy()
    hinted = []
    for i, drawing in enumerate(draw.mnist_drawings(images)):
        if judge(model, drawing) is not None:
            hinted.append(i)
    assert hinted == [], f"{len(hinted)} of {len(images)} real digits got a hint: {hinted[:10]}"


def test_ink_shape_of_a_known_drawing():
    img = np.zeros((280, 280, 4), dtype=np.uint8)
    img[40:240, 130:150] = 255  # a bar 200 tall, 20 wide, centred horizontally, 0 off vertically
    shape = draw.ink_shape(img, draw.to_mnist(img))
    assert shape.extent == pytest.approx(200 / 280)
    assert shape.coverage == pytest.approx(200 * 20 / 280 ** 2)
    assert shape.thinness == pytest.approx(20 / 200)
    assert shape.edge == pytest.approx(0.0)
    assert shape.fill == pytest.approx(20 * 2 / 400, abs=0.03)  # a 20×2 bar in the 20×20 square


def test_entropy():
    assert draw.entropy(np.eye(10)[3]) == pytest.approx(0, abs=1e-9)
    assert draw.entropy(np.full(10, 0.1)) == pytest.approx(math.log(10))


def test_signed_saliency_keeps_the_sign_of_the_gradient():
    model = seeded_model(ModelConfig(family="mlp", hidden=(32,), activation="tanh", init="xavier"), 0)
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 12:16] = 255
    grad = draw.input_gradient(model, image, target=3).numpy()
    signed = draw.signed_saliency(model, image, target=3, method="gradient")
    np.testing.assert_allclose(signed, grad / np.abs(grad).max(), atol=1e-6)
    assert signed.min() < 0 < signed.max() and np.abs(signed).max() == pytest.approx(1)
    layer = draw.signed_overlay(signed, size=56)
    big = np.kron(signed, np.ones((2, 2)))
    strong_for, strong_against = big > 0.5, big < -0.5
    assert (layer[strong_for][:, :3] == draw.FOR_COLOUR).all()
    assert (layer[strong_against][:, :3] == draw.AGAINST_COLOUR).all()
    with pytest.raises(ValueError, match="method"):
        draw.signed_saliency(model, image, method="guess")
