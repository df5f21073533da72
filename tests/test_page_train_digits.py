"""AppTest tests for the Train page's "MNIST + your digits" training data (``nnplay.ui.digits_option``): offered
only for MNIST when the workspace holds digits, and a run started with it trains on MNIST plus those digits,
each counted the chosen weight, read from a digits file in the run's own folder. The workspace's digits come
from ``Store.digits_arrays`` (the digits' store tables), stood in for here by a fixed set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.handwriting.digits_npz import read_digits
from nnplay.runs import find_run
from nnplay.store import Store, open_store
from nnplay.ui.digits_option import DIGITS_FILE, DIGITS_KEY, WEIGHT_KEY, WITH_DIGITS

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def has_digits(monkeypatch, n: int, sample_data=None) -> None:
    images = sample_data.test_images[:n].numpy() if n else np.zeros((0, 28, 28), np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    def digits_arrays(self, workspace):
        return images, labels

    monkeypatch.setattr(Store, "digits_arrays", digits_arrays, raising=False)


@pytest.fixture
def page():
    at = AppTest.from_file(PAGE, default_timeout=60)
    yield at
    for record in open_store().list_runs():
        run = find_run(open_store(), record.id)
        run.stop()
        run.wait(30)


def test_no_digits_no_choice(monkeypatch, page):
    has_digits(monkeypatch, 0)
    page.run()
    assert not page.exception, page.exception
    assert DIGITS_KEY not in [r.key for r in page.radio]


def test_the_choice_is_offered_for_mnist_only(monkeypatch, page, sample_data):
    has_digits(monkeypatch, 30, sample_data)
    page.run()
    assert page.radio(key=DIGITS_KEY).value == "MNIST"
    page.selectbox(key="train_dataset").set_value("fashion-mnist").run()
    assert DIGITS_KEY not in [r.key for r in page.radio]


@pytest.mark.slow
def test_a_run_with_your_digits_trains_on_them_with_their_weight(monkeypatch, page, sample_data):
    has_digits(monkeypatch, 30, sample_data)
    page.run()
    page.radio(key=DIGITS_KEY).set_value(WITH_DIGITS).run()
    page.slider(key=WEIGHT_KEY).set_value(3).run()
    assert any("Your 30 digits, each counted 3 times an epoch: 90 images" in c.value for c in page.caption)
    page.toggle(key="train_quick").set_value(True).run()
    page.text_input(key="train_train_limit").set_value("500")
    page.text_input(key="train_test_limit").set_value("100")
    page.text_input(key="train_hidden").set_value("16")
    page.text_input(key="train_epochs").set_value("1").run()
    page.button(key="train_start").click().run()
    assert not page.exception, page.exception
    run = open_store().list_runs()[-1]
    live = find_run(open_store(), run.id)
    assert live.wait(120) and live.status == "finished", live.message
    path = Path(run.data_cfg.extra_data)
    assert path == open_store().run_dir(run.id) / DIGITS_FILE and run.data_cfg.extra_weight == 3
    assert len(read_digits(path)[1]) == 30
    assert live.history.start.train_size == 500 + 3 * 30
    assert "extra_data" not in page.query_params and "extra_weight" not in page.query_params  # never in a link


def test_before_start_the_command_line_and_the_script_name_your_digits(monkeypatch, page, sample_data, downloads):
    import io
    import shlex
    import zipfile

    seen = downloads
    has_digits(monkeypatch, 30, sample_data)
    page.run()
    page.radio(key=DIGITS_KEY).set_value(WITH_DIGITS).run()
    page.slider(key=WEIGHT_KEY).set_value(3).run()
    page.session_state["train_cli_open"] = True
    page.session_state["train_script_open"] = True
    page.run()
    assert not page.exception, page.exception
    line = next(c.value for c in page.code if c.language == "bash")
    words = shlex.split(line)
    assert words[words.index("--extra-data") + 1] == "train_mnist-digits.npz"
    assert words[words.index("--extra-weight") + 1] == "3"
    script = next(c.value for c in page.code if c.language == "python")
    assert "with_your_digits(args, train_images, train_labels)" in script and "30 digits in" in " ".join(script.split())
    with zipfile.ZipFile(io.BytesIO(seen["train_mnist.zip"]())) as zf:
        assert zf.namelist() == ["train_mnist.py", "train_mnist-digits.npz"]
        assert len(read_digits(zf.read("train_mnist-digits.npz"))[1]) == 30
    seen.clear()
    page.radio(key=DIGITS_KEY).set_value("MNIST").run()  # MNIST alone: the single script, no digits named
    assert "--extra-data" not in next(c.value for c in page.code if c.language == "bash")
    assert "train_mnist.py" in seen
