"""Tests for ``nnplay.handwriting.finetune``: the held-back split, the child run's configs and files, the queued
child that starts from its parent and records it, and the before/after measured on held-back digits only.

The learner's digits are simulated by MNIST digits moved off centre (as digits drawn without MNIST's centring
are): the parent reads them worse, and fine-tuning on some of them must raise its accuracy on the others.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.handwriting.digits_npz import read_digits
from nnplay.handwriting.finetune import (HELD_FILE, MIN_DIGITS, START_FILE, TUNE_FILE, BeforeAfter, FinetuneError,
                                         before_after, before_after_of, finetune_configs, held_back_digits, parent_refusal,
                                         replay_count, split_digits, start_finetune)
from nnplay.jobs import thread_backend
from nnplay.models import build_model
from nnplay.runs import Run
from nnplay.store import LOCAL_WORKSPACE, open_store


def off_centre(images: torch.Tensor) -> np.ndarray:
    """MNIST digits moved 6 pixels right and down: what a drawing not centred like MNIST looks like."""
    return torch.roll(images, shifts=(6, 6), dims=(1, 2)).numpy()


def test_too_few_digits_are_refused_with_a_sentence():
    with pytest.raises(FinetuneError, match=f"at least {MIN_DIGITS} of your digits.*you have 9. Draw 1 more"):
        split_digits(np.zeros((9, 28, 28), np.uint8), np.arange(9) % 10)


def test_the_split_holds_back_the_share_of_each_label_seeded():
    labels = np.repeat(np.arange(10), 10)  # 10 of each
    images = np.arange(100, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    split = split_digits(images, labels, held_back=0.3, seed=4)
    assert split.held_count == 30 and split.tune_count == 70
    assert np.bincount(split.held[1], minlength=10).tolist() == [3] * 10  # stratified
    held_ids, tune_ids = set(split.held[0][:, 0, 0].tolist()), set(split.tune[0][:, 0, 0].tolist())
    assert not held_ids & tune_ids and len(held_ids | tune_ids) == 100  # disjoint, nothing lost
    again = split_digits(images, labels, held_back=0.3, seed=4)
    assert np.array_equal(again.held[0], split.held[0])
    other = split_digits(images, labels, held_back=0.3, seed=5)
    assert not np.array_equal(other.held[0], split.held[0])
    assert split.sentence().startswith("30 of your 100 digits are held back")


def test_a_split_keeps_one_of_each_label_to_train_on_and_falls_back_to_random():
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    split = split_digits(np.zeros((10, 28, 28), np.uint8), labels, held_back=0.5)
    assert np.bincount(split.held[1], minlength=5).tolist() == [1] * 5
    one_each = split_digits(np.zeros((10, 28, 28), np.uint8), np.arange(10), held_back=0.3)
    assert one_each.held_count == 3 and one_each.tune_count == 7  # not stratifiable: 3 at random
    with pytest.raises(FinetuneError, match="held-back share"):
        split_digits(np.zeros((10, 28, 28), np.uint8), np.arange(10), held_back=0.95)


def test_replay_count_makes_the_share_of_the_mix():
    assert replay_count(0.5, 140) == 140
    assert replay_count(0.0, 140) == 0
    assert replay_count(0.9, 100, extra_weight=2) == 1800
    with pytest.raises(FinetuneError):
        replay_count(1.0, 10)


def test_the_childs_configs_keep_the_parents_network_and_name_the_digits():
    parent = Run("p", DataConfig(train_limit=5000), ModelConfig(hidden=(64,)),
                 TrainConfig(epochs=10, schedule="cosine", batch_size=256, lr=0.01))
    data_cfg, model_cfg, train_cfg = finetune_configs(parent, "/runs/c/finetune_digits.npz", epochs=3, replay=2000)
    assert model_cfg == parent.model_cfg
    assert (data_cfg.extra_data, data_cfg.replay, data_cfg.train_limit) == ("/runs/c/finetune_digits.npz", 2000, 5000)
    assert (train_cfg.epochs, train_cfg.schedule, train_cfg.batch_size, train_cfg.lr) == (3, "none", 32, 0.01)
    with pytest.raises(FinetuneError, match="1 to 50 epochs"):
        finetune_configs(parent, "x.npz", epochs=0)


def constant_model(label: int):
    """A model that reads every image as ``label``: zero weights, one positive output bias."""
    model = build_model(ModelConfig(hidden=()))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model[-1].bias[label] = 1.0
    return model


def test_before_after_measures_both_models_on_both_sets():
    held = (np.zeros((4, 28, 28), np.uint8), np.array([3, 3, 3, 5]))
    mnist = (np.zeros((10, 28, 28), np.uint8), np.array([5] * 6 + [3] * 4))
    result = before_after(constant_model(5), constant_model(3), held, mnist)
    assert result == BeforeAfter(4, 10, 0.25, 0.75, 0.6, 0.4)
    rows = result.rows()
    assert rows[0]["measured on"] == "your 4 held-back digits" and rows[0]["change (points)"] == pytest.approx(50)
    assert rows[1]["change (points)"] == pytest.approx(-20)
    assert "+50.0 points" in result.sentence() and "that is forgetting" in result.sentence()


def trained_parent(store, data, workspace=LOCAL_WORKSPACE, dataset="mnist"):
    parent = Run("run 1 · 10:00:00 · MLP", DataConfig(dataset=dataset, train_limit=2000, test_limit=500),
                 ModelConfig(hidden=(64,)), TrainConfig(epochs=2, batch_size=64))
    parent.bind(store, workspace)
    parent.start(data, backend=thread_backend()).wait(120)
    assert parent.status == "finished", parent.message
    return parent


@pytest.mark.slow
def test_a_finetune_queues_a_child_that_starts_from_its_parent_and_gains_on_held_back_digits(tiny_data):
    store = open_store()
    parent = trained_parent(store, tiny_data)
    images = off_centre(tiny_data.test_images[:150])
    labels = tiny_data.test_labels[:150].numpy().astype(np.uint8)
    child, split = start_finetune(store, parent.id, images, labels, LOCAL_WORKSPACE, epochs=3, replay=500,
                                  held_back=0.3, data=tiny_data, backend=thread_backend())
    child.wait(120)
    assert child.status == "finished", child.message
    assert store.get(child.id).parent == parent.id
    folder = store.run_dir(child.id)
    tuned, held = read_digits(folder / TUNE_FILE), read_digits(folder / HELD_FILE)
    assert (folder / START_FILE).is_file() and len(held[1]) == split.held_count == 45
    assert len(tuned[1]) + len(held[1]) == 150
    assert child.history.start.train_size == 4 * len(tuned[1]) + 500  # its digits (weight 4), plus the replay
    tuned_rows = {row.tobytes() for row in tuned[0]}
    assert not any(row.tobytes() in tuned_rows for row in held[0])  # it never sees a held-back digit
    assert np.array_equal(held_back_digits(store, child.id)[1], held[1])
    result = before_after_of(store, child.id, (tiny_data.test_images.numpy(), tiny_data.test_labels.numpy()))
    assert result.held_back == 45 and result.mnist_test == 500
    assert result.digits_after > result.digits_before + 0.1  # it learned the off-centre digits


@pytest.mark.slow
def test_a_finetune_is_refused_with_a_sentence(tiny_data):
    store = open_store()
    images, labels = np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10
    with pytest.raises(FinetuneError, match="not one of this workspace's runs"):
        start_finetune(store, "nosuchrun", images, labels, LOCAL_WORKSPACE)
    parent = trained_parent(store, tiny_data)
    with pytest.raises(FinetuneError, match="not one of this workspace's runs"):
        start_finetune(store, parent.id, images, labels, "someone-else")
    with pytest.raises(FinetuneError, match="you have 5"):
        start_finetune(store, parent.id, images[:5], labels[:5], LOCAL_WORKSPACE)
    queued = Run("q", DataConfig(), ModelConfig(hidden=(8,)), TrainConfig()).bind(store)
    with pytest.raises(FinetuneError, match="still training"):
        start_finetune(store, queued.id, images, labels, LOCAL_WORKSPACE)
    with pytest.raises(FinetuneError, match="no held-back digits"):
        held_back_digits(store, parent.id)
    fashion = dataclasses.replace(store.get(parent.id), data_cfg=DataConfig(dataset="fashion-mnist"))
    assert "not on digits" in parent_refusal(fashion, LOCAL_WORKSPACE)
    assert parent_refusal(store.get(parent.id), LOCAL_WORKSPACE) == ""
