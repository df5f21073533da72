"""AppTest and unit tests for the app glue's shared parts (``nnplay.ui``): the workspace cookie, the sidebar,
the model picker's labels, the data notice, and how a run's end is said (``ui.outcome``).

What lives here: the cookie is written by a v2 component with no deprecation warning; a shared server shows
no server path to its learners; an uploaded model is "relu baseline (loaded)" in the picker, once; the
sample-data notice is one line with a way to the full data; the outcome sentences (one epoch, a time that
is not "0.0 s"). What does not: the Train page itself (test_page_train.py), the store (test_store.py).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from streamlit.testing.v1 import AppTest

import nnplay.data
from nnplay.checkpoint import checkpoint_bytes
from nnplay.runs import run_from_checkpoint
from nnplay.config import ModelConfig
from nnplay.engine import seeded_model
from nnplay.store import open_store
from nnplay.ui.outcome import duration_text, outcome

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TRAIN = str(ROOT / "pages" / "train.py")


def cookie_writers(at: AppTest) -> list[dict]:
    import json

    return [json.loads(c.proto.json) for c in at.get("bidi_component")
            if c.proto.component_name == "nnplay.workspace_cookie"]


@pytest.fixture
def deprecations(monkeypatch):
    """Every deprecation warning Streamlit shows or logs while the test runs."""
    import streamlit.deprecation_util as deprecation_util

    said: list[str] = []
    original = deprecation_util.show_deprecation_warning

    def record(message, *args, **kwargs):
        said.append(message)
        return original(message, *args, **kwargs)

    monkeypatch.setattr(deprecation_util, "show_deprecation_warning", record)
    return said


def test_a_shared_server_writes_the_workspace_cookie_without_a_deprecated_call(monkeypatch, deprecations):
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    ws = at.session_state["nnplay_workspace"]
    (writer,) = cookie_writers(at)
    assert writer["cookie"] == f"nnplay_ws={ws}; path=/; max-age=31536000; SameSite=Lax"
    assert not deprecations, deprecations
    assert not [e for e in at.get("iframe")]  # no components.v1 frame


def test_a_shared_server_shows_no_server_path(monkeypatch, private_store):
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert not [c.value for c in at.sidebar.caption if str(private_store) in c.value]
    train = AppTest.from_file(TRAIN, default_timeout=60).run()
    train.session_state["train_tab"] = "Runs"
    train.run()
    texts = [c.value for c in train.caption] + [m.value for m in train.markdown]
    assert not [t for t in texts if str(private_store) in t]
    assert any("on disk." in t for t in texts)  # the space is still said, without where


def test_a_local_install_shows_where_runs_are_kept(private_store):
    train = AppTest.from_file(TRAIN, default_timeout=60).run()
    train.session_state["train_tab"] = "Runs"
    train.run()
    assert any(str(private_store) in c.value for c in train.caption)


def picker_page():
    from nnplay import ui

    ui.model_picker()


def test_an_uploaded_model_says_loaded_once_in_the_picker():
    model = seeded_model(ModelConfig(hidden=(8,)), 0)
    data = checkpoint_bytes(model, ModelConfig(hidden=(8,)), {"name": "relu baseline"})
    run, message = run_from_checkpoint("relu.pt", data)
    assert run is not None, message
    assert run.name == "relu baseline (loaded)"
    run.bind(open_store(), "local")
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert not at.exception
    picker = at.selectbox(key="nnplay_model_pick")
    assert picker.options[0] == "relu baseline (loaded)", picker.options


def notice_page():
    from nnplay import ui

    ui.show_data_notice()


def test_the_sample_notice_is_one_line_with_a_way_to_the_full_data(monkeypatch, tmp_path):
    monkeypatch.setattr(nnplay.data, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))  # empty: the built-in sample
    at = AppTest.from_function(notice_page, default_timeout=60).run()
    assert not at.exception
    assert not at.info  # no box of four or five lines
    (line,) = [c.value for c in at.caption]
    assert "built-in sample of MNIST (10,000 training, 2,000 test images)" in line and "\n" not in line
    (how,) = at.get("popover")
    assert how.proto.popover.label == "Get the full data"
    said = " ".join(m.value for m in at.markdown)
    assert str(tmp_path / "MNIST" / "raw") in said and "docs/data.md" in said  # a local install: its own folder


def test_on_a_shared_server_the_notice_names_no_server_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(nnplay.data, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")
    at = AppTest.from_function(notice_page, default_timeout=60).run()
    said = " ".join(m.value for m in at.markdown)
    assert "Ask whoever runs it" in said and str(tmp_path) not in said


# -- how a run ended (ui.outcome: no streamlit) ---------------------------------------------------------


def ended(status: str, message: str = "", usable: bool = True, epochs: int = 1, seconds: float = 0.03):
    final = {"epochs_done": epochs, "seconds": seconds, "test_accuracy": 0.9123, "train_accuracy": 0.8765}
    return SimpleNamespace(status=status, message=message, usable=usable, final=lambda: final)


def test_one_epoch_is_one_epoch_and_a_short_run_is_not_zero_seconds():
    said = outcome(ended("finished", epochs=1, seconds=0.03))
    assert said.kind == "success"
    assert said.text.startswith("Finished 1 epoch in 0.03 s: test accuracy 91.23%, train accuracy 87.65%")
    assert outcome(ended("finished", epochs=2, seconds=0.2)).text.startswith("Finished 2 epochs in 0.2 s")
    assert outcome(ended("finished", epochs=3, seconds=75)).text.startswith("Finished 3 epochs in 1 min 15 s")


@pytest.mark.parametrize("seconds, text", [(0.0, "0.0 s"), (0.004, "0.004 s"), (0.049, "0.05 s"), (0.05, "0.1 s"),
                                           (4.21, "4.2 s"), (35.2, "35 s")])
def test_a_duration_that_is_not_zero_is_not_printed_as_zero(seconds, text):
    assert duration_text(seconds) == text


def test_the_other_endings_say_what_is_left():
    stopped = outcome(ended("stopped", "stopped at step 40"))
    assert (stopped.kind, stopped.text) == ("info", "Stopped at step 40. The model trained so far is kept and is now "
                                                    "the current model.")
    assert outcome(ended("stopped", "stopped at step 0", usable=False)).text.endswith("is kept.")
    cut = outcome(ended("interrupted", "interrupted at step 4: the server stopped."))
    assert cut.kind == "info" and cut.text.endswith("model picker.") and cut.icon == ":material/power_off:"
    diverged = outcome(ended("diverged", "diverged at step 7: the loss was nan."))
    assert diverged.kind == "warning" and diverged.text.startswith("This run diverged at step 7")
    assert "lower the learning rate" in diverged.text
    assert outcome(ended("error", "out of memory")).text == "The run failed: out of memory"
    assert outcome(ended("running")) is None and outcome(ended("loaded")) is None


def test_a_long_model_name_is_said_whole_under_the_picker(tiny_data):
    from nnplay.config import DataConfig, TrainConfig
    from nnplay.runs import Run

    name = "run 2 · 09:07:27 · MLP 784-256-10 relu"
    run = Run(name, DataConfig(), ModelConfig(hidden=(8,)), TrainConfig(epochs=1, batch_size=500, device="cpu"))
    run.bind(open_store(), "local")
    run.start(tiny_data).wait()
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert at.selectbox(key="nnplay_model_pick").value == run.id
    assert [c.value for c in at.caption] == [f"{name} \\(finished\\)"]  # markdown-escaped: shown as typed


@pytest.mark.slow
def test_compare_chips_wrap_instead_of_being_cut(tiny_data):
    from nnplay.config import DataConfig, TrainConfig
    from nnplay.runs import Run
    from nnplay.ui.runs_panel import CHIPS_WRAP

    for seed in (0, 1):
        run = Run(f"run {seed + 1} · 09:07:1{seed} · MLP 784-256-10 relu", DataConfig(), ModelConfig(hidden=(8,)),
                  TrainConfig(epochs=1, batch_size=500, device="cpu", seed=seed))
        run.bind(open_store(), "local")
        run.start(tiny_data).wait()
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    at.session_state["train_tab"] = "Compare"
    at.run()
    assert not at.exception
    assert any(h.proto.body == CHIPS_WRAP for h in at.get("html"))
    assert "flex-wrap: wrap" in CHIPS_WRAP and ".st-key-train_compare" in CHIPS_WRAP
