"""The digits as files (``nnplay.handwriting.files``): the ``.npz`` and the zip of PNGs give back exactly the
images and labels they were made from; a zip's bad entries (outside 0..9 folders, paths leaving the folder, not
images, too big) are refused one by one with a sentence while the good ones are kept; a file that is no zip, or a
zip too big or unpacking too far, is refused whole.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nnplay.handwriting import files
from nnplay.handwriting.digits_npz import DigitsFileError
from nnplay.export.run import zip_files
from nnplay.handwriting.files import npz_bytes, read_npz, read_zip, zip_bytes


def some_digits(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Digits as nnplay keeps them: any grey levels inside, a black border (white on black, like MNIST)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 4:24, 4:24] = rng.integers(0, 256, (n, 20, 20), dtype=np.uint8)
    return images, rng.integers(0, 10, n).astype(np.uint8)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_npz_round_trip():
    images, labels = some_digits()
    got_images, got_labels = read_npz(npz_bytes(images, labels))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_zip_round_trip_keeps_images_and_labels_in_label_folders():
    images, labels = some_digits()
    ids = [f"id{i}" for i in range(len(images))]
    data = zip_bytes(images, labels, ids)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == [f"{label}/id{i}.png" for i, label in enumerate(labels)]
    back = read_zip(data)
    assert back.refused == []
    np.testing.assert_array_equal(back.images, images)
    np.testing.assert_array_equal(back.labels, labels)
    assert back.images.dtype == np.uint8 and back.labels.dtype == np.uint8


def test_a_zip_in_a_folder_of_its_own_and_zip_tools_extras_are_read():
    images, _ = some_digits(2)
    back = read_zip(zip_files({"mine/4/a.png": png(images[0]), "mine/9/b.png": png(images[1]),
                            "__MACOSX/mine/4/._a.png": b"junk", "mine/.DS_Store": b"junk", "mine/": b""}))
    assert back.refused == [] and back.labels.tolist() == [4, 9]


def test_a_dark_on_light_digit_and_a_photo_in_the_zip_are_made_white_on_black():
    light = np.full((28, 28), 255, np.uint8)
    light[6:22, 12:16] = 0  # a black 1 on white
    photo = Image.new("L", (300, 300), 250)
    ImageDraw.Draw(photo).line([(150, 40), (150, 260)], fill=10, width=20)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG")
    back = read_zip(zip_files({"1/light.png": png(light), "1/photo.jpg": buffer.getvalue()}))
    assert back.refused == [] and back.labels.tolist() == [1, 1]
    assert back.images[0][0].max() == 0 and back.images[0][10, 13] == 255
    assert back.images[1][0].max() == 0 and back.images[1].max() == 255  # the photo made into a digit


def test_bad_entries_are_refused_one_by_one_and_the_good_ones_kept():
    images, _ = some_digits(1)
    good = png(images[0])
    back = read_zip(zip_files({
        "3/good.png": good,
        "../../etc/7/evil.png": good,
        "/abs/5/evil.png": good,
        "12/x.png": good,
        "loose.png": good,
        "2/notes.txt": b"not a picture",
    }))
    assert back.labels.tolist() == [3]
    np.testing.assert_array_equal(back.images[0], images[0])
    refused = "\n".join(back.refused)
    assert len(back.refused) == 5
    assert "../../etc/7/evil.png: a path outside" in refused and "/abs/5/evil.png: a path outside" in refused
    assert "12/x.png: not in a folder named by its label" in refused
    assert "loose.png: not in a folder named by its label" in refused
    assert "2/notes.txt is not an image" in refused


def test_an_entry_that_unpacks_too_far_is_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_ENTRY_BYTES", 1000)
    back = read_zip(zip_files({"1/big.png": b"\0" * 5000, "2/ok.png": png(some_digits(1)[0][0])}))
    assert back.labels.tolist() == [2]
    assert back.refused == ["1/big.png: 0 MB is too big for a digit's picture."]


def test_a_zip_bomb_is_refused_whole(monkeypatch):
    monkeypatch.setattr(files, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(DigitsFileError, match="unpacks to more than"):
        read_zip(zip_files({f"1/{i}.png": b"\0" * 5000 for i in range(3)}))


def test_a_file_that_is_no_zip_or_too_big_is_refused(monkeypatch):
    with pytest.raises(DigitsFileError, match="not a zip"):
        read_zip(b"just text")
    monkeypatch.setattr(files, "MAX_ZIP_BYTES", 100)
    with pytest.raises(DigitsFileError, match="above the 0 MB"):
        read_zip(zip_bytes(*some_digits(3)))


def test_an_empty_set_exports_and_reads_back_empty():
    empty = np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    assert read_zip(zip_bytes(*empty)).images.shape == (0, 28, 28)
    assert read_npz(npz_bytes(*empty))[0].shape == (0, 28, 28)
