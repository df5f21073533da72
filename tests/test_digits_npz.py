"""The digits file format the handwriting parts share (``nnplay.handwriting.digits_npz``)."""

import io

import numpy as np
import pytest

from nnplay.handwriting.digits_npz import DigitsFileError, digits_bytes, read_digits, save_digits


def test_digits_round_trip_as_uint8_in_mnist_shapes(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    labels = np.array([0, 1, 2, 3, 9])
    save_digits(tmp_path / "mine.npz", images, labels)
    back, back_labels = read_digits(tmp_path / "mine.npz")
    assert back.dtype == np.uint8 and back_labels.dtype == np.uint8
    assert np.array_equal(back, images) and back_labels.tolist() == [0, 1, 2, 3, 9]
    assert np.array_equal(read_digits(digits_bytes(images, labels))[0], back)


@pytest.mark.parametrize("arrays, words", [
    ({"images": np.zeros((2, 28, 28))}, "no labels"),
    ({"images": np.zeros((2, 27, 28)), "labels": np.zeros(2, int)}, "N×28×28"),
    ({"images": np.zeros((2, 28, 28)), "labels": np.zeros(3, int)}, "one label per image"),
    ({"images": np.full((1, 28, 28), 300), "labels": np.zeros(1, int)}, "0..255"),
    ({"images": np.zeros((1, 28, 28)), "labels": np.array([10])}, "0 to 9"),
    ({"images": np.zeros((1, 28, 28)), "labels": np.array([0.5])}, "0 to 9"),
])
def test_a_file_that_is_no_digit_set_is_refused_with_a_sentence(arrays, words):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(DigitsFileError, match=words):
        read_digits(buffer.getvalue())


def test_not_an_npz_and_a_pickled_array_are_refused(tmp_path):
    with pytest.raises(DigitsFileError, match="not an .npz"):
        read_digits(b"hello, this is text")
    with pytest.raises(DigitsFileError, match="does not exist"):
        read_digits(tmp_path / "none.npz")
    buffer = io.BytesIO()
    np.savez(buffer, images=np.array([{"a": 1}], dtype=object), labels=np.zeros(1, int))
    with pytest.raises(DigitsFileError, match="pickle"):
        read_digits(buffer.getvalue())
