"""Tests for training on MNIST plus a learner's own digits (``DataConfig.extra_data``, ``extra_weight``,
``replay``; ``data.with_extra_digits``), a run that starts from another's weights (``JobSpec.init_from``) and a
run's recorded parent (``runs.parent``).

What lives here: the configs' refusals, the mix's sizes and its seeding, that a run on a worker trains on the extra
digits (a label seen only there changes its predictions) and that without them nothing changes, that a run starts
from a checkpoint's weights and refuses another network's, and the parent's round trip through the store. What
does not live here: splitting and the before/after (test_finetune.py), the pages.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nnplay.config import ConfigError, DataConfig, ModelConfig, TrainConfig
from nnplay.data import MnistData, with_extra_digits
from nnplay.engine import evaluate, seeded_model, train
from nnplay.handwriting.digits_npz import DigitsFileError, save_digits
from nnplay.jobs import JobSpec, thread_backend
from nnplay.runs import Run
from nnplay.store import open_store


def digits_file(tmp_path, images, labels, name="mine.npz"):
    path = tmp_path / name
    save_digits(path, np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.uint8))
    return str(path)


def test_defaults_mix_nothing_in(tiny_data):
    cfg = DataConfig()
    assert (cfg.extra_data, cfg.extra_weight, cfg.replay) == (None, 1.0, None)
    assert with_extra_digits(tiny_data, cfg) is tiny_data


@pytest.mark.parametrize("values, field", [
    ({"extra_data": "x.npz", "extra_weight": 0.5}, "extra_weight"),
    ({"extra_data": "x.npz", "extra_weight": 101}, "extra_weight"),
    ({"extra_data": "x.npz", "replay": -1}, "replay"),
    ({"extra_data": "  "}, "extra_data"),
    ({"replay": 100}, "replay"),  # replay without digits to replay beside
    ({"extra_weight": 3}, "extra_weight"),
])
def test_bad_extra_settings_are_refused_with_the_field(values, field):
    with pytest.raises(ConfigError) as err:
        DataConfig(**values)
    assert err.value.field == field and str(err.value).endswith(".")


def test_the_mix_counts_each_digit_extra_weight_times_beside_replay_images(tiny_data, tmp_path):
    images = np.full((10, 28, 28), 7, np.uint8)
    path = digits_file(tmp_path, images, np.arange(10))
    mixed = with_extra_digits(tiny_data, DataConfig(extra_data=path, extra_weight=2.5, replay=300), seed=1)
    assert len(mixed.train_images) == 300 + 25 and len(mixed.train_labels) == 325
    extra = mixed.train_labels[300:]
    assert sorted(extra[:20].tolist()) == sorted(list(range(10)) * 2)  # two whole copies, then half of them once
    assert len(set(extra[20:].tolist())) == 5
    assert torch.equal(mixed.test_images, tiny_data.test_images)  # the test split stays MNIST's
    again = with_extra_digits(tiny_data, DataConfig(extra_data=path, extra_weight=2.5, replay=300), seed=1)
    assert torch.equal(again.train_labels, mixed.train_labels)  # seeded
    whole = with_extra_digits(tiny_data, DataConfig(extra_data=path))
    assert len(whole.train_images) == len(tiny_data.train_images) + 10  # replay None: every MNIST image


def test_a_bad_digits_file_is_refused_with_a_sentence(tiny_data, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DigitsFileError, match="is not an .npz file"):
        with_extra_digits(tiny_data, DataConfig(extra_data=str(bad)))


@pytest.mark.slow
def test_a_label_seen_only_in_the_extra_digits_changes_predictions(sample_data, tmp_path):
    low = sample_data.train_labels < 5  # MNIST without 5..9
    data = MnistData(sample_data.train_images[low][:3000], sample_data.train_labels[low][:3000],
                     sample_data.test_images, sample_data.test_labels, sample_data.classes)
    eights = sample_data.test_labels == 8
    extra = sample_data.train_images[sample_data.train_labels == 8][:200].numpy()
    path = digits_file(tmp_path, extra, np.full(len(extra), 8))
    cfg = TrainConfig(epochs=2, batch_size=64, seed=0)
    model_cfg = ModelConfig(hidden=(64,))

    def eights_read_as_8(data_cfg):
        model = seeded_model(model_cfg, 0)
        train(model, with_extra_digits(data, data_cfg, seed=0), cfg)
        return (evaluate(model, sample_data.test_images[eights], sample_data.test_labels[eights]).predictions == 8
                ).float().mean().item()

    assert eights_read_as_8(DataConfig()) == 0.0  # never seen: never said
    assert eights_read_as_8(DataConfig(extra_data=path, extra_weight=3)) > 0.5


def test_a_run_on_the_workers_trains_on_its_extra_digits(tiny_data, tmp_path):
    images = tiny_data.train_images[:100].numpy()
    path = digits_file(tmp_path, images, np.full(100, 3))  # every digit labelled 3
    data_cfg = DataConfig(train_limit=2000, test_limit=500, extra_data=path, extra_weight=2, replay=0)
    run = Run("mine", data_cfg, ModelConfig(hidden=(32,)), TrainConfig(epochs=2, batch_size=50))
    run.start(tiny_data, backend=thread_backend()).wait(60)
    assert run.status == "finished", run.message
    assert run.history.start.train_size == 200  # the 100 digits twice, no MNIST image (replay 0)
    predictions = evaluate(run.model, tiny_data.test_images, tiny_data.test_labels).predictions
    assert (predictions == 3).float().mean() > 0.95  # MNIST alone would give each label about a tenth


def test_a_run_with_a_bad_digits_file_ends_in_an_error_with_the_sentence(tiny_data, tmp_path):
    run = Run("bad", DataConfig(extra_data=str(tmp_path / "gone.npz")), ModelConfig(hidden=(8,)), TrainConfig(epochs=1))
    run.start(tiny_data, backend=thread_backend()).wait(60)
    assert run.status == "error" and "does not exist" in run.message


@pytest.mark.slow
def test_a_run_starts_from_its_init_from_weights(tiny_data, tmp_path):
    from nnplay.checkpoint import save_checkpoint

    model_cfg = ModelConfig(hidden=(32,))
    parent = Run("parent", DataConfig(), model_cfg, TrainConfig(epochs=2, batch_size=50))
    parent.start(tiny_data, backend=thread_backend()).wait(60)
    save_checkpoint(parent.model, model_cfg, tmp_path / "start.pt")
    first_losses = {}
    for name, init in (("fresh", None), ("from parent", str(tmp_path / "start.pt"))):
        child = Run(name, DataConfig(), model_cfg, TrainConfig(epochs=1, batch_size=50, log_every=1))
        child.init_from = init
        child.start(tiny_data, backend=thread_backend()).wait(60)
        assert child.status == "finished", child.message
        first_losses[name] = child.history.steps[0].loss
    assert first_losses["from parent"] < 0.5 * first_losses["fresh"]  # it starts where the parent ended

    other = Run("other", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1))
    other.init_from = str(tmp_path / "start.pt")
    other.start(tiny_data, backend=thread_backend()).wait(60)
    assert other.status == "error" and "of another network" in other.message


def test_a_job_spec_carries_init_from():
    assert JobSpec("r", "w").init_from is None
    assert JobSpec("r", "w", init_from="/x/start.pt").init_from == "/x/start.pt"


def test_a_runs_parent_is_recorded_and_read_back(tiny_data):
    store = open_store()
    child = Run("child", DataConfig(), ModelConfig(hidden=(8,)), TrainConfig(epochs=1))
    child.parent = "parent1234"
    child.bind(store)
    assert store.get(child.id).parent == "parent1234"
    plain = Run("plain", DataConfig(), ModelConfig(hidden=(8,)), TrainConfig(epochs=1)).bind(store)
    assert store.get(plain.id).parent == ""
    assert Run.from_record(store, store.get(child.id)).parent == "parent1234"


def test_extra_settings_stay_out_of_links_and_widgets():
    from nnplay.codec import FIELDS, to_query

    assert not {"extra_data", "extra_weight", "replay"} & set(FIELDS[DataConfig])
    cfg = DataConfig(extra_data="/srv/x.npz", extra_weight=2, replay=5)
    assert to_query(cfg, ModelConfig(), TrainConfig()) == {}
    assert dataclasses.asdict(cfg)["extra_data"] == "/srv/x.npz"  # kept with the run's record


class DeletesFilesAtSubmit:
    """A backend that sends each spec through pickle (as to another machine) and deletes the given files first:
    a run that trains must get its digits and weights from the spec, not from the app's files."""

    def __init__(self, *paths):
        self.paths = paths
        self.specs = []

    def submit(self, spec, sink, data=None, commands=()):
        import os
        import pickle

        for path in self.paths:
            os.remove(path)
        spec = pickle.loads(pickle.dumps(spec))
        self.specs.append((spec, spec.extra_digits, spec.init_weights))
        return thread_backend().submit(spec, sink, data=data, commands=commands)


def test_a_job_carries_its_digits_so_the_worker_never_opens_the_file(tiny_data, tmp_path):
    images = tiny_data.train_images[:100].numpy()
    path = digits_file(tmp_path, images, np.full(100, 3))
    data_cfg = DataConfig(train_limit=2000, test_limit=500, extra_data=path, extra_weight=2, replay=0)
    backend = DeletesFilesAtSubmit(path)
    run = Run("remote", data_cfg, ModelConfig(hidden=(32,)), TrainConfig(epochs=1, batch_size=50))
    run.start(tiny_data, backend=backend).wait(60)
    assert run.status == "finished", run.message
    assert run.history.start.train_size == 200  # the 100 digits twice, read from the spec: the file was gone
    spec, (carried_images, carried_labels), _ = backend.specs[0]
    assert np.array_equal(carried_images, images) and set(carried_labels.tolist()) == {3}
    assert spec.extra_digits is None and run.job.spec.extra_digits is None  # let go once the run ended


def test_a_job_carries_the_weights_it_starts_from(tiny_data, tmp_path):
    from nnplay.checkpoint import save_checkpoint

    model_cfg = ModelConfig(hidden=(16,))
    save_checkpoint(seeded_model(model_cfg, 5), model_cfg, tmp_path / "start.pt")
    child = Run("child", DataConfig(), model_cfg, TrainConfig(epochs=1, batch_size=50))
    child.init_from = str(tmp_path / "start.pt")
    backend = DeletesFilesAtSubmit(tmp_path / "start.pt")
    child.start(tiny_data, backend=backend).wait(60)
    assert child.status == "finished", child.message
    assert backend.specs[0][2] is not None and child.job.spec.init_weights is None  # carried, then let go


def test_a_job_spec_reads_its_digits_where_it_is_made(tmp_path):
    path = digits_file(tmp_path, np.zeros((4, 28, 28)), [1, 2, 3, 4])
    spec = JobSpec("r", "w", DataConfig(extra_data=path))
    assert spec.extra_digits[1].tolist() == [1, 2, 3, 4]
    assert JobSpec("r", "w").extra_digits is None and JobSpec("r", "w").init_weights is None
    with pytest.raises(DigitsFileError, match="does not exist"):
        JobSpec("r", "w", DataConfig(extra_data=str(tmp_path / "gone.npz")))
    (tmp_path / "start.pt").write_bytes(b"weights")
    assert JobSpec("r", "w", init_from=str(tmp_path / "start.pt")).init_weights == b"weights"


def test_the_runs_table_and_the_compare_table_say_a_run_trained_on_your_digits(tmp_path):
    from nnplay.compare.frame import settings_row
    from nnplay.run_record import data_text
    from nnplay.runs import data_label

    assert data_text("mnist", "sample", digits=True) == "MNIST sample + your digits"
    assert data_text("mnist", "full") == "mnist"
    store = open_store()
    mine = Run("mine", DataConfig(train_limit=500, extra_data=str(tmp_path / "m.npz")), ModelConfig(), TrainConfig())
    mine.data_source = "full"
    mine.bind(store)
    assert data_label(mine) == "mnist + your digits (500/all)"
    assert settings_row(store.get(mine.id))["data"] == "mnist + your digits"
    plain = Run("plain", DataConfig(), ModelConfig(), TrainConfig())
    plain.data_source = "full"
    assert data_label(plain) == "mnist"
