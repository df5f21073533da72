"""AppTest tests for the fine-tune panel (``nnplay.ui.finetune_panel.finetune_section``), run headless on a
stand-in page that gives it a set of digits: too few digits and no run to start from are said, Start queues a
child run of the picked run (its parent recorded, the held-back count said), and once it has ended the panel
shows the before and after on the held-back digits and the MNIST test set."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.handwriting.digits_npz import save_digits
from nnplay.jobs import thread_backend
from nnplay.runs import Run, find_run
from nnplay.store import open_store


def panel_page(path: str) -> None:
    from nnplay.handwriting.digits_npz import read_digits
    from nnplay.ui.finetune_panel import finetune_section

    finetune_section(*read_digits(path))


def digits(tmp_path, sample_data, n: int) -> str:
    images = torch.roll(sample_data.test_images[:n], shifts=(6, 6), dims=(1, 2)).numpy()  # off centre
    path = tmp_path / "mine.npz"
    save_digits(path, images, sample_data.test_labels[:n].numpy().astype(np.uint8))
    return str(path)


def panel(path: str) -> AppTest:
    at = AppTest.from_function(panel_page, kwargs={"path": path}, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_too_few_digits_and_no_model_are_said(tmp_path, sample_data, monkeypatch):
    at = panel(digits(tmp_path, sample_data, 6))
    assert "at least 10 of your digits" in at.info[0].value and "You have 6" in at.info[0].value
    assert not at.button
    monkeypatch.setattr("nnplay.ui.finetune_panel.DEFAULT_MODEL_FILE", tmp_path / "no-default.pt")
    at = panel(digits(tmp_path, sample_data, 30))
    assert "Train a run on MNIST first" in at.info[0].value


@pytest.mark.slow
def test_the_default_model_is_fine_tuned_as_a_kept_run(tmp_path, sample_data):
    at = panel(digits(tmp_path, sample_data, 30))
    assert at.selectbox(key="finetune_parent").value == "default"  # no run yet: the shipped model
    at.number_input(key="finetune_epochs").set_value(1)
    at.button(key="finetune_start").click().run()
    assert not at.exception, at.exception
    store = open_store()
    child = find_run(store, at.session_state["finetune_child"])
    parent = store.get(store.get(child.id).parent)
    assert parent.kind == "loaded" and parent.name.startswith("nnplay's default model")
    assert at.selectbox(key="finetune_parent").value == parent.id  # kept: picked as the run it now is
    assert child.wait(120) and child.status == "finished", child.message


@pytest.mark.slow
def test_start_queues_a_child_and_the_panel_shows_before_and_after(tmp_path, sample_data):
    store = open_store()
    parent = Run("run 1 · 10:00:00 · MLP 784-64-10", DataConfig(train_limit=2000, test_limit=500),
                 ModelConfig(hidden=(64,)), TrainConfig(epochs=2, batch_size=64)).bind(store)
    parent.start(sample_data.limited(2000, 500), backend=thread_backend()).wait(120)
    at = panel(digits(tmp_path, sample_data, 100))
    assert at.selectbox(key="finetune_parent").options[-1].startswith("nnplay's default model")
    assert at.selectbox(key="finetune_parent").value == parent.id
    at.number_input(key="finetune_epochs").set_value(2)
    at.slider(key="finetune_held_back").set_value(0.2).run()
    assert "20 of your 100 digits are held back" in at.caption[0].value
    assert "Each counts 4 times an epoch, beside 320 MNIST training images" in at.caption[0].value  # share 0.5
    at.button(key="finetune_start").click().run()
    assert not at.exception, at.exception
    child_id = at.session_state["finetune_child"]
    assert any("20 of your 100 digits are held back" in i.value for i in at.info)
    child = find_run(store, child_id)
    assert child.wait(120) and child.status == "finished", child.message
    assert store.get(child_id).parent == parent.id and child.train_cfg.epochs == 2
    assert child.history.start.train_size == 80 * 4 + 320
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table.index) == ["your 20 held-back digits", "MNIST's 10,000 test digits"]
    assert table.loc["your 20 held-back digits", "after"] > table.loc["your 20 held-back digits", "before"]
    assert any("Neither counts a digit the fine-tuned run trained on" in c.value for c in at.caption)
