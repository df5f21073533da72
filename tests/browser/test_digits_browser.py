"""Your handwriting in real headless Chromium: a digit drawn on ``/digits`` is kept across a reload, Draw shows a
drawing's nearest training digits and says when a drawing is unlike them all, and a set of digits imported on
``/digits`` is evaluated and fine-tuned on, with the before and after on the held-back digits and on MNIST.

What lives here: three end-to-end tests on one server (``digits_url``, per-browser workspace mode: each test's
own browser context is a workspace of its own, so Draw uses the shipped default model and nothing one test
keeps shows in another). Saving: the page asks for a 0, strokes on ``canvas.upper-canvas`` enable "Save as 0",
Save keeps it and asks for a 1; after a reload the count, the grid and the question are the same. Nearest: a
vertical line on Draw gets five nearest training digits (images with labels, nearly all 1s) once the index has
been built in the background, in one row at 1280×720, and no "unlike" sentence; a W-shaped zig-zag across the
whole canvas gets it.
Fine-tune: an .npz of MNIST test digits moved off centre is imported, the default model is evaluated on them,
fine-tuned on part of them, and the page shows before and after on the held-back rest (up) and on MNIST's test
set; the grid's thumbnails stay inside their columns. What does not live here: the pages' logic in detail
(tests/test_page_digits.py, tests/test_finetune_panel.py, AppTest), the threshold and which drawings it flags (tests/test_nearest.py), the store (tests/test_store_digits.py).
"""

from __future__ import annotations

import math
import re

import pytest

from nnplay.devtools import wait_until
from nnplay.handwriting.digits_npz import save_digits

from ..test_finetune import off_centre
from .conftest import served_app
from .test_draw_browser import stroke

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNLIKE = "unlike the digits the network learned from"
INDEX_TIMEOUT_MS = 300_000  # the 60,000 training digits are indexed in the background: a minute on a busy machine


@pytest.fixture(scope="module")
def digits_url(tmp_path_factory):
    """The app for this module's tests, each browser its own workspace."""
    with served_app(tmp_path_factory.mktemp("digits-browser-home"), workspaces="browser") as url:
        yield url


@pytest.fixture
def own_page(browser):
    """A page in a browser context of its own (so a workspace of its own), tall enough for a page's sections."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    yield context.new_page()
    context.close()


def polyline(corners: list[tuple[float, float]], step: float = 8) -> list[tuple[float, float]]:
    """Points every ``step`` px along the straight segments between ``corners``: the canvas's pen smooths a stroke
    through the points it gets, so a corner given alone would be rounded off."""
    points = []
    for (x0, y0), (x1, y1) in zip(corners[:-1], corners[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) // step))
        points += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n)]
    return points + [corners[-1]]


def test_a_drawn_digit_is_saved_and_still_there_after_a_reload(digits_url, own_page):
    page = own_page
    page.goto(f"{digits_url}/digits")
    page.get_by_role("heading", name="Draw a 0").wait_for(timeout=90_000)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=60_000)
    save = page.locator(".st-key-digits_save button")
    assert save.is_disabled()  # nothing drawn yet
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    # a 0: an oval in one stroke
    stroke(page, [(x + 140 + 60 * math.sin(t / 20 * math.tau), y + 140 - 100 * math.cos(t / 20 * math.tau))
                  for t in range(21)])
    wait_until(lambda: save.is_enabled(), 60, "Save to be enabled by the drawing")
    assert "Save as 0" in save.inner_text()
    save.click()
    page.get_by_text("Kept your 0 (1 of 10). Now draw a 1.").wait_for(timeout=60_000)
    page.get_by_text("Your digits (1)").wait_for(timeout=30_000)
    # the workspace is kept in a cookie, written by the page: wait until the browser holds it
    wait_until(lambda: any(c["name"] == "nnplay_ws" for c in page.context.cookies()), 30, "the workspace cookie")
    page.goto(f"{digits_url}/digits")  # a reload
    page.get_by_text("Your digits (1)").wait_for(timeout=90_000)
    assert page.get_by_role("heading", name="Draw a 1").count() == 1
    assert page.locator(".st-key-digits_save button").is_disabled()  # a fresh canvas


def test_draw_shows_the_nearest_training_digits_and_says_when_a_drawing_is_unlike_them(digits_url, own_page):
    page = own_page
    page.set_viewport_size({"width": 1280, "height": 720})  # a laptop's window: the answer column is narrowest
    page.goto(f"{digits_url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(timeout=90_000)
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=60_000)
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, polyline([(x + 140, y + 40), (x + 140, y + 240)]))  # a 1: one vertical line

    nearest = page.locator(".st-key-draw_nearest")
    nearest.get_by_text("Nearest training digits").wait_for(timeout=INDEX_TIMEOUT_MS)
    nearest.last.scroll_into_view_if_needed()  # below the fold at 1280×720, and images load once in view
    images = nearest.locator("[data-testid='stImage'] img")
    wait_until(lambda: images.count() == 5 and images.evaluate_all(
        "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"), 30, "the five nearest digits' images")
    captions = nearest.locator("[data-testid='stImageCaption']").all_inner_texts()
    assert len(captions) == 5 and all(re.fullmatch(r"\d · \d\.\d{3}", c) for c in captions), captions
    assert [c[0] for c in captions].count("1") >= 4, captions  # labels: the nearest of a 1 are 1s
    distances = [float(c.split(" · ")[1]) for c in captions]
    assert distances == sorted(distances)
    assert nearest.get_by_text(UNLIKE).count() == 0
    tops = images.evaluate_all("imgs => imgs.map(i => Math.round(i.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops  # the five in one row, even in the narrow answer column of a 1280-px window

    page.get_by_role("button", name="✕ Clear", exact=True).click()
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # where it is in the window now
    x, y = box["x"], box["y"]
    # one stroke zig-zagging down and up the whole height four times, left to right: a W
    stroke(page, polyline([(x + 20 + 60 * i, y + (30 if i % 2 == 0 else 250)) for i in range(5)]))
    nearest.get_by_text(UNLIKE).wait_for(timeout=30_000)
    assert nearest.locator("[data-testid='stImage'] img").count() == 5  # the nearest still shown beside it

    # a denser one, five strokes between two heights: among the 4s in the hidden layer, flagged by its pixels
    page.get_by_role("button", name="✕ Clear", exact=True).click()
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, polyline([(x + 40 + 40 * i, y + (60 if i % 2 == 0 else 220)) for i in range(6)]))
    nearest.get_by_text(UNLIKE).wait_for(timeout=30_000)


OVERFLOWING = """imgs => imgs.filter(i => {  // a thumbnail wider than its column overlaps the next one
  const col = i.closest('[data-testid="stColumn"]').getBoundingClientRect(), r = i.getBoundingClientRect();
  return r.left < col.left - 0.5 || r.right > col.right + 0.5;
}).map(i => i.getBoundingClientRect().width)"""
ACCURACY = re.compile(r"On your (\d+) held-back digits accuracy went from ([\d.]+)% to ([\d.]+)% \([+-][\d.]+ points\); "
                      r"on MNIST's test set from ([\d.]+)% to ([\d.]+)%")


def test_imported_digits_are_evaluated_and_fine_tuning_moves_both_numbers(digits_url, own_page, sample_data, tmp_path):
    n = 80
    mine = tmp_path / "mine.npz"
    save_digits(mine, off_centre(sample_data.test_images[:n]), sample_data.test_labels[:n].numpy())
    page = own_page
    page.goto(f"{digits_url}/digits")
    page.get_by_role("heading", name="Draw a 0").wait_for(timeout=90_000)
    page.locator(".st-key-digits_file_0 input[type='file']").set_input_files(str(mine))
    add = page.locator(".st-key-digits_file_add button")
    wait_until(lambda: add.is_enabled(), 60, "Add its digits to be enabled by the upload")
    add.click()
    page.get_by_text(f"Added {n} digits.").wait_for(timeout=60_000)
    page.get_by_text(f"Your digits ({n})").wait_for(timeout=30_000)
    thumbs = page.locator("[data-testid='stColumn'] [class*='st-key-digit_'] img")  # the grid's, in rows of ten
    wait_until(lambda: thumbs.count() == 40, 30, "the first page of the grid")
    assert thumbs.evaluate_all(OVERFLOWING) == []

    # evaluated at once with the default model (its table is drawn on a canvas: its mistakes are counted in words)
    page.get_by_text(f"Accuracy on your {n} digits beside each model's accuracy").wait_for(timeout=60_000)
    mistakes = page.get_by_text(re.compile(r"^\d+ mistakes of nnplay's default model, the most confident first"))
    mistakes.wait_for(timeout=30_000)
    wrong = int(mistakes.inner_text().split()[0])
    assert wrong >= n // 2  # moved off centre, most of them are misread

    page.locator(".st-key-finetune_start button").click()
    said = page.get_by_text("Neither counts a digit the fine-tuned run trained on")
    said.wait_for(timeout=180_000)
    match = ACCURACY.search(said.inner_text())
    assert match, said.inner_text()
    held, digits_before, digits_after, mnist_before, mnist_after = match.groups()
    assert int(held) == 24  # 30% of 80 held back, never trained on
    assert float(digits_after) > float(digits_before)  # fine-tuning on the others taught the run these
    assert 24 * (1 - float(digits_before) / 100) <= wrong + 0.05  # before: the default model, as evaluated above
    assert float(mnist_before) > 90 and float(mnist_after) > 80  # MNIST's test set measured before and after
    rows = page.locator("[data-testid='stDataFrame']")
    assert rows.count() == 2  # the evaluation's table and the before/after table
