"""The Your digits page under AppTest: a drawing handed to the canvas (through session state, as the component
would) is saved with the asked label and the canvas PNG, and the next digit is asked; a label changed in the grid
and a Delete reach the store; photos are imported several at once with a sentence for each refused file and
nothing kept lost; an .npz comes back in, a file that is no digits file is refused; the steps of "see why" and the
sentence show; another workspace's digits never show. Each test has its own store (conftest) and a browser
workspace of its own (``NNPLAY_WORKSPACES=browser``).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from nnplay.handwriting.files import npz_bytes
from nnplay.store import open_store

from .test_pages_draw_inspect import ROOT, canvas_value, one_on_canvas

DIGITS = str(ROOT / "pages" / "digits.py")


@pytest.fixture(autouse=True)
def browser_workspaces(monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")


def opened() -> tuple[AppTest, str]:
    at = AppTest.from_file(DIGITS, default_timeout=90).run()
    assert not at.exception
    return at, at.session_state["nnplay_workspace"]


def saved_one(at: AppTest) -> AppTest:
    at.session_state["digits_canvas"] = canvas_value(one_on_canvas())
    at.run()
    assert at.button(key="digits_save").label == "Save as 0" and not at.button(key="digits_save").disabled
    at.button(key="digits_save").click().run()
    assert not at.exception
    return at


def photo(label_ink: int = 20, paper: int = 235) -> bytes:
    picture = Image.new("L", (320, 320), paper)
    ImageDraw.Draw(picture).line([(90, 70), (230, 70), (140, 270)], fill=label_ink, width=22)  # a 7
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_empty_page_asks_for_a_0_and_cannot_save_yet():
    at, ws = opened()
    assert [s.value for s in at.subheader][0] == "Draw a 0"
    assert at.button(key="digits_save").disabled
    assert [m.value for m in at.metric] == ["0"] * 10
    assert [h.value for h in at.header] == ["Your digits (0)", "Photos and files", "See why"]


@pytest.mark.slow
def test_saving_a_drawing_keeps_it_and_asks_for_the_next_digit():
    at, ws = opened()
    saved_one(at)
    (record,) = open_store().list_digits(ws)
    assert record.label == 0 and record.source == "drawn"
    assert record.image.max() == 255 and record.image.shape == (28, 28)
    picture = np.asarray(Image.open(io.BytesIO(open_store().digit_picture(record.id, ws))))
    np.testing.assert_array_equal(picture, one_on_canvas())  # the canvas itself, as PNG
    assert "Kept your 0 (1 of 10). Now draw a 1." in [t.value for t in at.toast]
    assert [s.value for s in at.subheader][0] == "Draw a 1"
    assert at.metric[0].value == "1"
    assert at.button(key="digits_save").disabled  # a fresh, empty canvas
    assert at.header[0].value == "Your digits (1)"
    # see why: the four steps, MNIST's 0s and a sentence
    captions = [i.caption for element in at.get("image") for i in element.proto.imgs]
    assert [c[:2] for c in captions if c[:1].isdigit()] == ["1.", "2.", "3.", "4."]
    assert any("MNIST's 0s" in info.value for info in at.info)


def test_relabel_and_delete_from_the_grid():
    at, ws = opened()
    saved_one(at)
    (record,) = open_store().list_digits(ws)
    at.selectbox(key=f"digit_label_{record.id}").set_value(7).run()
    assert not at.exception
    assert open_store().get_digit(record.id, ws).label == 7
    assert open_store().digit_counts(ws)[7] == 1
    at.button(key=f"digit_delete_{record.id}").click().run()
    assert not at.exception
    assert open_store().list_digits(ws) == []
    assert at.header[0].value == "Your digits (0)"


@pytest.mark.slow
def test_photos_import_with_a_sentence_per_refused_file_and_nothing_lost():
    at, ws = opened()
    saved_one(at)
    at.file_uploader(key="digits_photos_0").set_value([("7.png", photo(), "image/png"),
                                                       ("notes.txt", b"a shopping list", "text/plain"),
                                                       ("blank.png", photo(label_ink=235), "image/png"),
                                                       ("chalk.png", photo(230, 15), "image/png")]).run()
    at.button(key="digits_photos_add").click().run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("notes.txt is not an image") for w in warnings)
    assert any(w.startswith("blank.png looks blank") for w in warnings)
    assert any(w.startswith("chalk.png has no digit in its name") for w in warnings)
    assert "Added 1 photo." in [s.value for s in at.success]
    records = open_store().list_digits(ws)
    assert [(r.label, r.source) for r in records] == [(0, "drawn"), (7, "photo")]  # the drawn one still there
    assert open_store().digit_picture(records[1].id, ws) is not None
    # with a label picked, a photo named without a digit is kept under it
    at.file_uploader(key="digits_photos_1").set_value([("chalk.png", photo(230, 15), "image/png")]).run()
    at.selectbox(key="digits_photos_label").set_value(4).run()
    at.button(key="digits_photos_add").click().run()
    assert [r.label for r in open_store().list_digits(ws)] == [0, 7, 4]


def test_a_digits_file_is_imported_and_a_wrong_one_refused():
    at, ws = opened()
    images = np.zeros((3, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255
    at.file_uploader(key="digits_file_0").set_value(("mine.npz", npz_bytes(images, np.array([1, 1, 2])),
                                                     "application/octet-stream")).run()
    at.button(key="digits_file_add").click().run()
    assert not at.exception and "Added 3 digits." in [s.value for s in at.success]
    assert open_store().digit_counts(ws)[1] == 2
    assert len(at.get("download_button")) == 2  # .npz and zip, now that there are digits
    at.file_uploader(key="digits_file_1").set_value(("broken.zip", b"not a zip", "application/zip")).run()
    at.button(key="digits_file_add").click().run()
    assert any(w.value.startswith("broken.zip: the file is not a zip") for w in at.warning)
    assert len(open_store().list_digits(ws)) == 3
    # an imported digit has no picture: see why starts from its 28×28 image
    assert any("No picture was kept" in c.value for c in at.caption)


def test_another_workspaces_digits_never_show():
    at, ws = opened()
    open_store().add_digit("someone-else", 5, np.full((28, 28), 255, np.uint8), None, "drawn")
    at.run()
    assert at.header[0].value == "Your digits (0)" and [m.value for m in at.metric] == ["0"] * 10
    saved_one(at)
    assert open_store().digit_counts("someone-else")[5] == 1 and open_store().digit_counts(ws)[0] == 1


@pytest.mark.slow
def test_the_goal_is_kept_and_the_grid_filters_and_pages():
    at, ws = opened()
    images = np.zeros((45, 28, 28), np.uint8)
    images[:, 6:22, 12:16] = 255
    open_store().add_digits(ws, images, np.array([3] * 5 + [8] * 40), "import")
    at.number_input(key="digits_goal").set_value(4).run()
    assert not at.exception and open_store().setting(ws, "digits_goal") == "4"
    assert at.metric[3].value == "5 ✓" and at.metric[8].value == "40 ✓" and at.metric[0].value == "0"
    assert at.subheader[0].value == "Draw a 0"
    assert at.number_input(key="digits_page").max == 2  # 45 digits, 40 a page
    assert sum(1 for s in at.selectbox if s.key and s.key.startswith("digit_label_")) == 40
    at.selectbox(key="digits_show").set_value(3).run()
    labels = [s.value for s in at.selectbox if s.key and s.key.startswith("digit_label_")]
    assert labels == [3] * 5
    again = AppTest.from_file(DIGITS, default_timeout=90)
    again.session_state["nnplay_workspace"] = ws  # the same workspace in a new session
    again.run()
    assert again.number_input(key="digits_goal").value == 4
