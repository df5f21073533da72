"""A sweep's time estimate: each planned run timed as the measured runs most like it, over the workers."""

import pytest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.sweeps import Axis, Measured, SweepPlan, estimate_seconds, parameters, run_seconds


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
