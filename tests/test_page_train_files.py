"""AppTest tests for the Train page's model files: download and upload go through ``nnplay.checkpoint``.

What lives here: a run downloaded with the Model button and uploaded again comes back with its
accuracies in the runs table and its curves in Compare; a text file and random bytes are refused
with a sentence that says what nnplay accepts; a file whose name is Markdown (an image link) or
2 MB long becomes a plain, cut run name and an escaped message. What does not live here: the
reader's own checks (tests/test_checkpoint.py) and the rest of the page (tests/test_page_train.py).
"""

from __future__ import annotations

import io
import random

import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.runs import Run, run_checkpoint_bytes

from .test_page_train import at, runs, show_tab  # noqa: F401 - the Train page's fixture, the runs it shows, its tabs


@pytest.fixture(scope="module")
def saved(tiny_data) -> tuple[Run, bytes]:
    run = Run("run 1 · saved", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=2, batch_size=250))
    run.start(tiny_data).wait()
    return run, run_checkpoint_bytes(run)


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    show_tab(app, "Load a model")
    return app.file_uploader(key="train_upload").set_value((name, data, "application/octet-stream")).run()




@pytest.mark.slow
def test_a_reuploaded_run_shows_its_accuracies_and_curves(at, saved):
    original, data = saved
    upload(at, "saved.pt", data)
    assert not at.exception and len(runs(at)) == 1
    loaded = runs(at)[0]
    assert loaded.history.steps == original.history.steps
    table = next(df.value for df in show_tab(at, "Runs").dataframe if "test acc" in df.value.columns)
    assert table["test acc"].iloc[0] == pytest.approx(original.final()["test_accuracy"])
    assert table["train acc"].iloc[0] == pytest.approx(original.final()["train_accuracy"])
    # a second upload: two runs with steps, so Compare draws both curves
    upload(at, "again.pt", data)
    assert len(runs(at)) == 2
    chart = show_tab(at, "Compare").get("plotly_chart")
    assert chart, "Compare shows no chart for two uploaded runs with curves"


def test_a_loaded_run_can_be_downloaded_again(at, saved):
    original, data = saved
    upload(at, "saved.pt", data)
    button = next(b for b in show_tab(at, "Runs").get("download_button") if b.proto.label == "Model (.pt)")
    assert not button.proto.disabled


@pytest.mark.parametrize("name, data", [
    ("notes.txt", b"a shopping list, not a model\n"),
    ("noise.pt", random.Random(2).randbytes(3000)),
])
def test_a_text_file_or_noise_says_what_nnplay_accepts(at, name, data):
    upload(at, name, data)
    assert not at.exception and runs(at) == []
    (message,) = [e.value for e in at.error]
    assert message.startswith(f"{name} was not loaded: it is not a PyTorch checkpoint")
    assert "only plain nnplay checkpoints" in message and "python \\-m nnplay train \\-\\-save" not in message
    assert "Model \\(.pt\\)" in message  # escaped Markdown: shown as typed


def test_a_markdown_or_huge_name_is_plain_text(at, saved):
    _, data = saved
    payload = torch.load(io.BytesIO(data), weights_only=True)
    payload["meta"]["name"] = "![t](http://example.invalid/pixel.png) " + "y" * 2_000_000
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    upload(at, "![x](http://example.invalid/f.png).pt", buffer.getvalue())
    assert not at.exception
    (run,) = runs(at)
    assert len(run.name) <= 80 and run.name.endswith("…")
    (success,) = [s.value for s in at.success]
    assert "![" not in success and "\\!\\[x\\]\\(http" in success  # no image link reaches the browser
