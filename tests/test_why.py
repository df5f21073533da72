"""See why (``nnplay.handwriting.why``): the steps recovered from ``to_mnist`` are the steps it takes (the ink box
of a known stroke, the longer side 20 px with the aspect kept, the centre of mass moved to the middle, the input
itself), the pictures mark them, the simple measures read known shapes right (a bar t px thick is t px thick, a
line leaning right has a positive slant), and the sentence names what differs from MNIST's digits of the class
and nothing when a digit is MNIST's own.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from nnplay.handwriting.why import (BOX_COLOUR, class_examples, compare_to_mnist, picture_array, shape_measures,
                                    step_pictures, why_steps)
from nnplay.lessons.draw import centre_of_mass, to_mnist


def canvas_with(rows: slice, cols: slice) -> np.ndarray:
    """The Draw canvas's RGBA picture (white ink on opaque black) with one rectangle of ink."""
    img = np.zeros((280, 280, 4), dtype=np.uint8)
    img[..., 3] = 255
    img[rows, cols, :3] = 255
    return img


def test_the_steps_are_the_preprocessing_of_the_drawing():
    drawing = canvas_with(slice(40, 240), slice(60, 100))  # an "1" 40 wide, 200 high, left of the middle
    drawing[40:70, 100:160, :3] = 255  # with a flag to the right, so the centre of mass is off the box's centre
    steps = why_steps(drawing)
    assert steps.bbox == (40, 60, 240, 160)
    assert steps.crop.shape == (200, 100)
    ys, xs = np.nonzero(steps.scaled)
    assert ys.max() - ys.min() + 1 == 20 and xs.max() - xs.min() + 1 == 10  # 200 × 100 → 20 × 10: aspect kept
    assert abs((ys.min() + ys.max()) / 2 - 13.5) <= 0.5 and abs((xs.min() + xs.max()) / 2 - 13.5) <= 0.5  # box centred
    np.testing.assert_array_equal(steps.centred, to_mnist(drawing).image)
    my, mx = centre_of_mass(steps.centred)
    assert abs(my - 14) <= 0.5 and abs(mx - 14) <= 0.5
    assert steps.mass_before != pytest.approx((my, mx), abs=0.3)  # the move did something
    np.testing.assert_array_equal(np.sort(steps.scaled.ravel()), np.sort(steps.centred.ravel()))  # moved, not changed


def test_the_step_pictures_mark_the_ink_box():
    steps = why_steps(canvas_with(slice(40, 240), slice(120, 160)))
    pictures = step_pictures(steps, zoom=8)
    assert [caption[:2] for caption, _ in pictures] == ["1.", "2.", "3.", "4."]
    picture = pictures[0][1]
    assert picture.shape == (280, 280, 3) and picture.dtype == np.uint8
    assert tuple(picture[40, 140]) == BOX_COLOUR and tuple(picture[140, 120]) == BOX_COLOUR  # on the box's edges
    assert tuple(picture[140, 60]) == (0, 0, 0)
    assert pictures[3][1].shape == (224, 224, 3)
    crop = pictures[1][1]
    assert crop.shape == (208, 208, 3)  # the 200 × 40 crop in a square, so it shows at the others' scale
    assert tuple(crop[104, 104]) == (255, 255, 255) and tuple(crop[104, 20]) == (0, 0, 0)
    assert "ink box 40 × 200 px" in pictures[0][0]


def test_an_empty_picture_has_no_steps_and_a_stored_png_reads_back():
    assert why_steps(canvas_with(slice(0, 0), slice(0, 0))) is None
    drawing = canvas_with(slice(40, 240), slice(120, 160))
    buffer = io.BytesIO()
    Image.fromarray(drawing).save(buffer, format="PNG")
    np.testing.assert_array_equal(picture_array(buffer.getvalue()), drawing)


def bar(thickness: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 14 - thickness // 2: 14 - thickness // 2 + thickness] = 255
    return image


def test_the_measures_read_known_shapes():
    measures = shape_measures(np.stack([bar(2), bar(4)]))
    assert measures["thickness"] == pytest.approx([2, 4], rel=0.15)
    assert measures["height"].tolist() == [20, 20] and measures["width"].tolist() == [2, 4]
    assert measures["ink"].tolist() == [40, 80]
    assert measures["slant"] == pytest.approx([0, 0], abs=1)
    leaning = np.zeros((28, 28), np.uint8)
    for row in range(4, 24):
        leaning[row, 20 - (row - 4) // 2: 22 - (row - 4) // 2] = 255  # top to the right
    assert shape_measures(leaning[None])["slant"][0] > 20
    assert shape_measures(leaning[:, ::-1][None])["slant"][0] < -20


def test_class_examples_are_of_the_class(sample_data):
    images, labels = sample_data.train_images.numpy(), sample_data.train_labels.numpy()
    examples = class_examples(images, labels, 3, n=8, seed=1)
    assert examples.shape == (8, 28, 28) and examples.dtype == np.uint8
    threes = images[labels == 3]
    assert all(any((e == t).all() for t in threes) for e in examples)
    np.testing.assert_array_equal(examples, class_examples(images, labels, 3, n=8, seed=1))


def test_the_sentence_names_what_differs_from_mnist(sample_data):
    images, labels = sample_data.train_images.numpy(), sample_data.train_labels.numpy()
    ones = images[labels == 1]
    thin = to_mnist(canvas_with(slice(20, 260), slice(138, 142))).image  # a 1 with a hairline pen
    comparison = compare_to_mnist(thin, 1, ones)
    assert "thickness" in comparison.unusual and comparison.count == len(ones)
    assert comparison.sentence.startswith("Unlike most of MNIST's 1s, yours has")
    assert "thinner strokes" in comparison.sentence
    typical = ones[np.argsort(np.abs(shape_measures(ones)["thickness"] - comparison.typical["thickness"]))[0]]
    usual = compare_to_mnist(typical, 1, ones)
    assert "thickness" not in usual.unusual
    with pytest.raises(ValueError, match="no MNIST digits of class 4"):
        compare_to_mnist(thin, 4, ones[:0])
