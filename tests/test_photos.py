"""Photos of handwritten digits (``nnplay.handwriting.photos``), synthesised with Pillow: dark ink on light paper
(noisy, unevenly lit, with dust) and light ink on dark give the digit that the same strokes drawn on the canvas
give (``to_mnist``); a blank page, an animated GIF, a header claiming 30 megapixels, a text file and an empty file
are refused with a sentence naming the file; several files at once give one result each.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFile

from nnplay.handwriting import photos
from nnplay.handwriting.photos import PhotoError, label_from_name, photo_to_digit, photos_to_digits
from nnplay.lessons.draw import to_mnist

SEVEN = [((0.3, 0.25), (0.7, 0.25)), ((0.7, 0.25), (0.42, 0.8))]  # the strokes of a 7, as fractions of the side


def strokes(size: tuple[int, int], ink: int, paper: int, width: float, lines=SEVEN, offset=(0.0, 0.0)) -> Image.Image:
    w, h = size
    image = Image.new("L", size, paper)
    pen = ImageDraw.Draw(image)
    for (x0, y0), (x1, y1) in lines:
        pen.line([((x0 + offset[0]) * w, (y0 + offset[1]) * h), ((x1 + offset[0]) * w, (y1 + offset[1]) * h)],
                 fill=ink, width=max(1, round(width * w)))
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def canvas_seven(size=(280, 280)) -> np.ndarray:
    """The same 7 drawn clean, light ink on black (the Draw canvas's 280 px square unless ``size`` says)."""
    return to_mnist(np.asarray(strokes(size, 255, 0, 0.05), dtype=np.uint8)).image


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def paper_photo(seed: int = 0) -> Image.Image:
    """A 7 in dark ink on a 1200×900 photo of paper: uneven light, grain, a few specks of dust, off-centre."""
    rng = np.random.default_rng(seed)
    image = np.asarray(strokes((1200, 900), 40, 255, 0.05, offset=(0.1, 0.05)), dtype=np.float64)
    light = np.linspace(0.82, 0.95, 1200)[None, :]  # lit from the right
    paper = image * light + rng.normal(0, 6, image.shape)
    for y, x in [(60, 80), (820, 1100), (700, 150)]:
        paper[y:y + 4, x:x + 4] = 60  # dust
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")


def test_dark_ink_on_light_paper_is_inverted_and_gives_the_canvas_digit():
    digit = photo_to_digit(encoded(paper_photo(), "JPEG", quality=90), "seven.jpg")
    assert digit.inverted
    assert digit.image.shape == (28, 28) and digit.image.dtype == np.uint8
    assert digit.picture.max() == 255 and max(digit.picture.shape) <= photos.WORKING_SIDE
    assert digit.picture[0].max() == 0 and digit.picture[:, 0].max() == 0  # black around, like the canvas
    assert similarity(digit.image, canvas_seven((1200, 900))) > 0.9
    # the picture kept is the digit's own input: the Draw preprocessing of it gives the digit again
    np.testing.assert_array_equal(to_mnist(digit.picture).image, digit.image)
    assert Image.open(io.BytesIO(digit.picture_png())).size == digit.picture.shape[::-1]


def test_light_ink_on_dark_is_not_inverted():
    digit = photo_to_digit(encoded(strokes((600, 600), 230, 20, 0.05)), "chalk.png")
    assert not digit.inverted
    assert similarity(digit.image, canvas_seven()) > 0.9


def test_dust_far_from_the_digit_does_not_move_the_crop():
    clean = np.asarray(paper_photo(), dtype=np.uint8).copy()
    clean_digit = photo_to_digit(encoded(Image.fromarray(clean)), "clean.png")
    assert similarity(clean_digit.image, canvas_seven((1200, 900))) > 0.9
    # the dust specks are in paper_photo already; the ink box stays the 7's
    top, left, bottom, right = clean_digit.prep.bbox
    h, w = clean_digit.picture.shape
    assert top > 0 and left > 0 and bottom < h and right < w  # the margin around the ink


def test_dark_ink_on_a_transparent_background_is_seen():
    rgba = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(120, 100), (280, 100), (170, 320)], fill=(10, 10, 10, 255), width=20)
    digit = photo_to_digit(encoded(rgba), "transparent.png")
    assert similarity(digit.image, canvas_seven()) > 0.8


def test_a_blank_page_is_refused():
    rng = np.random.default_rng(1)
    page = Image.fromarray(np.clip(230 + rng.normal(0, 4, (500, 400)), 0, 255).astype(np.uint8))
    with pytest.raises(PhotoError, match=r"blank\.jpg looks blank"):
        photo_to_digit(encoded(page, "JPEG"), "blank.jpg")


def test_an_animated_gif_is_refused():
    frames = [strokes((100, 100), 0, 255, 0.08), strokes((100, 100), 0, 255, 0.08, offset=(0.1, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(PhotoError, match=r"moving\.gif is animated \(2 frames\)"):
        photo_to_digit(buffer.getvalue(), "moving.gif")
    assert photo_to_digit(encoded(frames[0], "GIF"), "still.gif").image.max() == 255  # one frame is fine


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header says it is ``width`` × ``height`` (its pixels would not fill that)."""
    data = bytearray(encoded(Image.new("L", (8, 8), 255)))
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[12:ihdr + 13])))
    return bytes(data)


def test_a_huge_image_is_refused_from_its_header_before_decoding(monkeypatch):
    huge, bomb = png_claiming(6000, 5000), png_claiming(20000, 20000)
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    with pytest.raises(PhotoError, match=r"huge\.png is 6000 × 5000 pixels \(30 megapixels\), above the 20"):
        photo_to_digit(huge, "huge.png")
    with pytest.raises(PhotoError, match="far above 20 megapixels"):  # Pillow's own decompression-bomb guard
        photo_to_digit(bomb, "bomb.png")
    assert decoded == []


@pytest.mark.parametrize("data, sentence", [
    (b"a shopping list, not a photo\n", r"notes\.txt is not an image"),
    (b"", r"notes\.txt is empty"),
])
def test_a_file_that_is_no_image_is_refused(data, sentence):
    with pytest.raises(PhotoError, match=sentence):
        photo_to_digit(data, "notes.txt")


def test_a_cut_short_image_is_refused():
    data = encoded(paper_photo(), "PNG")
    with pytest.raises(PhotoError, match=r"cut\.png cannot be decoded"):
        photo_to_digit(data[: len(data) // 2], "cut.png")


def test_several_files_give_one_result_each_in_order():
    results = photos_to_digits([("a.png", encoded(strokes((300, 300), 0, 255, 0.05))), ("b.txt", b"hello"),
                                ("c.jpg", encoded(paper_photo(2), "JPEG"))])
    assert [r.name for r in results] == ["a.png", "b.txt", "c.jpg"]
    assert results[0].digit is not None and not results[0].error
    assert results[1].digit is None and results[1].error.startswith("b.txt is not an image")
    assert results[2].digit is not None


@pytest.mark.parametrize("name, label", [("3.jpg", 3), ("anna-7.png", 7), ("scans/2_b.png", 2),
                                         ("IMG_2041.jpg", None), ("seven.png", None)])
def test_label_from_name(name, label):
    assert label_from_name(name) == label
