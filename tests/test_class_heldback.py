"""Class mode's held-back test half: a deterministic split into two halves, training evaluates on the visible half
only, and the hidden score of an ended run is made from its final model on the other half alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnplay.classroom import heldback
from nnplay.classroom.heldback import hidden_mask, hidden_part, visible_part
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.data import load_mnist
from nnplay.engine import evaluate
from nnplay.runs import Run
from nnplay.store import open_store


def test_the_split_is_half_and_half_deterministic_and_prefix_stable():
    mask = hidden_mask(10_000)
    assert mask.sum() == 5_000
    assert (mask[0::2] ^ mask[1::2]).all()  # one of each pair is hidden
    assert np.array_equal(mask, hidden_mask(10_000))  # the same every time
    assert np.array_equal(hidden_mask(1_000), mask[:1_000])  # the first N's split is the whole set's
    assert np.array_equal(hidden_mask(200_001)[:10_000], mask)  # across the coins' blocks too
    assert not np.array_equal(mask[0::2], np.zeros(5_000, bool)) and 2_300 < mask[0::2].sum() < 2_700  # not even/odd


def test_the_halves_cut_only_the_test_set_and_share_no_image(tiny_data):
    seen, hidden = visible_part(tiny_data), hidden_part(tiny_data)
    assert seen.train_images is tiny_data.train_images
    assert len(seen.test_labels) + len(hidden.test_labels) == len(tiny_data.test_labels) == 500
    index = torch.arange(500)
    mask = torch.from_numpy(hidden_mask(500))
    assert torch.equal(seen.test_images, tiny_data.test_images[index[~mask]])
    assert torch.equal(hidden.test_images, tiny_data.test_images[index[mask]])


@pytest.mark.slow
def test_a_class_run_shows_the_visible_half_and_its_hidden_score_uses_the_other(monkeypatch, tiny_data):
    monkeypatch.setenv("NNPLAY_CLASS", "1")
    run = Run("c", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=1, batch_size=200, device="cpu")).bind(open_store(), "learner-a")
    run.start(tiny_data).wait(120)
    assert run.status == "finished", run.message
    assert run.history.start.test_size == 250  # the visible half of the 500 test images
    model = run.model
    shown = evaluate(model, visible_part(tiny_data).test_images, visible_part(tiny_data).test_labels).accuracy
    assert run.final()["test_accuracy"] == shown
    future = heldback.score_soon(run)
    assert future.result(60) is not None
    whole_hidden = hidden_part(load_mnist(DataConfig(download=False)))  # the data set's whole test set, its hidden half
    expected = evaluate(model, whole_hidden.test_images, whole_hidden.test_labels).accuracy
    assert heldback.kept_hidden_accuracy(run.store, run.id) == expected
    assert heldback.hidden_accuracy(run) == expected


def test_outside_class_mode_the_whole_test_set_is_shown(monkeypatch, tiny_data):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    run = Run("c", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=200, device="cpu"))
    run.bind(open_store(), "local").start(tiny_data).wait(120)
    assert run.history.start.test_size == 500
    assert heldback.kept_hidden_accuracy(run.store, run.id) is None
