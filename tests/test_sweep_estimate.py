"""A sweep's time estimate: each planned run timed as the measured runs most like it, plus each run's overhead
(start, data load, final evaluation) measured from the stored runs, over the workers."""

from types import SimpleNamespace

import pytest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.sweeps import (DEFAULT_OVERHEAD_S, Axis, Measured, SweepPlan, estimate_seconds, measured_runs,
                           overhead_seconds, parameters, run_overhead, run_seconds)


def test_parameters_come_from_the_layer_table():
    assert parameters(ModelConfig(hidden=(256,))) == 784 * 256 + 256 + 256 * 10 + 10
    assert parameters(ModelConfig(family="cnn", channels=(4,) * 8)) == 0  # a CNN out of pixels: refused, 0


def test_each_run_takes_the_time_of_the_measured_runs_most_like_it():
    mlp_small = parameters(ModelConfig(hidden=(16,)))
    mlp_big = parameters(ModelConfig(hidden=(1024,)))
    cnn = parameters(ModelConfig(family="cnn"))
    measured = [Measured("mlp", mlp_small, 100, 1e-5), Measured("mlp", mlp_small, 100, 3e-5),  # alike: their mean
                Measured("mlp", mlp_big, 100, 1e-4), Measured("cnn", cnn, 100, 1e-3)]
    plan = SweepPlan((Axis.of_list("width", "16, 1024"),), DataConfig(train_limit=1000), train=TrainConfig(epochs=2),
                     seeds=(0, 1))
    small, _, big, _ = plan.expand()
    assert run_seconds(small, measured, 60_000) == pytest.approx(2e-5 * 1000 * 2)
    assert run_seconds(big, measured, 60_000) == pytest.approx(1e-4 * 1000 * 2)
    assert estimate_seconds(plan, measured, 60_000, workers=2) == pytest.approx(2 * (0.04 + 0.2) / 2)
    # a CNN is timed as the CNN, though an MLP is nearer in parameters; no limit: the whole training set
    (cnn_run,) = SweepPlan((), model=ModelConfig(family="cnn"), train=TrainConfig(epochs=1), seeds=(0, 1)).expand()[:1]
    assert run_seconds(cnn_run, measured, 60_000) == pytest.approx(1e-3 * 60_000)
    assert estimate_seconds(plan, [], 60_000) is None


def _record(created, started, ended):
    return SimpleNamespace(created=created, started=started, ended=ended, parameters=1000,
                           model_cfg=ModelConfig(hidden=(16,)), train_cfg=TrainConfig(batch_size=100))


def test_a_runs_overhead_is_its_wait_for_nothing_and_its_time_outside_its_epochs():
    # idle workers: from its creation to its first step, plus its end beyond its epochs (the final evaluation)
    assert run_overhead(_record(0.0, 1.5, 10.0), 8.0, [10.0]) == pytest.approx(1.5 + 0.5)
    # queued behind a run that ended at 20: its wait for a worker is no overhead, the 0.4 s after it is
    assert run_overhead(_record(0.0, 20.4, 30.0), 9.0, [20.0, 30.0]) == pytest.approx(0.4 + 0.6)
    assert run_overhead(_record(0.0, None, None), 9.0, []) is None  # never started: nothing to measure


def test_the_overhead_comes_from_the_stored_runs_with_a_default_when_none_measured_it():
    rows = [(_record(0.0, 1.0, 5.0), 3.0, 2, 1000), (_record(0.0, 1.0, 6.0), 4.0, 2, 1000),  # 2 s and 2 s
            (_record(6.0, 16.0, 20.0), 3.0, 2, 1000)]  # 10 s and 1 s: a slow start, outvoted
    measured = measured_runs(SimpleNamespace(measured_epochs=lambda workspace, limit: rows), "local")
    assert [m.overhead for m in measured] == pytest.approx([2.0, 2.0, 11.0])
    assert [m.seconds_per_image for m in measured] == pytest.approx([3.0 / 2000, 4.0 / 2000, 3.0 / 2000])
    assert overhead_seconds(measured) == pytest.approx(2.0)  # the middle value: the slow start does not move it
    assert overhead_seconds([Measured("mlp", 1000, 100, 1e-5)]) == DEFAULT_OVERHEAD_S > 0


def test_the_estimate_adds_each_runs_overhead_over_the_workers():
    measured = [Measured("mlp", parameters(ModelConfig(hidden=(16,))), 100, 1e-5, overhead=3.0)]
    plan = SweepPlan((Axis.of_list("lr", "1e-3, 1e-2"),), DataConfig(train_limit=1000), ModelConfig(hidden=(16,)),
                     TrainConfig(epochs=2, batch_size=100), seeds=(0, 1))
    epochs_only = estimate_seconds(plan, measured, 60_000, workers=2)
    assert epochs_only == pytest.approx(4 * 1e-5 * 1000 * 2 / 2)
    assert estimate_seconds(plan, measured, 60_000, workers=2, overhead_s=overhead_seconds(measured)) == \
        pytest.approx(epochs_only + 4 * 3.0 / 2)
