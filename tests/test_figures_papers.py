"""nnplay.figures.papers: each paper's figure on the paper's axes, drawn from a study's probes."""

import pytest

from nnplay.figures import papers as fp
from nnplay.papers.studies import run_study


@pytest.fixture(scope="module")
def ioffe_result(tiny_data):
    return run_study("ioffe", tiny_data, "tiny")


def _records(steps, accuracy, layers=2):
    stat = {k: [0.1 * s for s in range(len(steps))] for k in
            ("mean", "std", "input_mean", "input_std", "input_p15", "input_p50", "input_p85")}
    return {"steps": steps, "accuracy": accuracy, "layers": {f"act_{i + 1}": dict(stat) for i in range(layers)}}


def test_glorot_draws_each_layers_mean_with_its_spread_against_steps():
    result = {"variants": {"sigmoid": _records([0, 10, 20], [0.1, 0.5, 0.8], layers=4)}}
    fig = fp.glorot_figure(result, "sigmoid")
    assert [t.name for t in fig.data] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    assert list(fig.data[3].x) == [0, 10, 20] and list(fig.data[3].error_y.array) == [0.0, 0.1, 0.2]
    assert fig.layout.xaxis.title.text == "training steps" and "activation value" in fig.layout.yaxis.title.text


def test_ioffe_draws_test_accuracy_per_variant_and_three_percentiles_of_one_sigmoids_input(ioffe_result):
    fig = fp.ioffe_accuracy_figure(ioffe_result)
    assert [t.name for t in fig.data] == ["without batch norm", "with batch norm"]
    assert list(fig.data[0].y) == ioffe_result["variants"]["without batch norm"]["accuracy"]
    fig = fp.ioffe_percentile_figure(ioffe_result, "with batch norm")
    assert [t.name for t in fig.data] == ["85th percentile", "50th percentile", "15th percentile"]
    stats = ioffe_result["variants"]["with batch norm"]["layers"]["act_3"]
    assert list(fig.data[2].y) == stats["input_p15"] and fig.layout.yaxis.title.text == "input to the sigmoid"


def test_he_draws_the_error_of_each_init_against_steps():
    result = {"variants": {"Xavier init": _records([0, 5], [0.1, 0.1]), "He init": _records([0, 5], [0.1, 0.9])}}
    fig = fp.he_figure(result)
    assert [t.name for t in fig.data] == ["Xavier init", "He init"]
    assert list(fig.data[1].y) == pytest.approx([0.9, 0.1]) and fig.layout.yaxis.title.text == "test error"


def test_smith_draws_the_sweeps_accuracy_against_a_log_rate_with_the_suggestion_and_the_best():
    result = {"range": {"lrs": [1e-3, 1e-2], "losses": [2.3, 1.0], "suggested": 0.05},
              "sweep": [{"lr": 0.01, "accuracy": 0.8}, {"lr": 0.1, "accuracy": 0.9}, {"lr": 1.0, "accuracy": None}],
              "best": 0.1}
    fig = fp.smith_figure(result)
    assert list(fig.data[0].x) == [0.01, 0.1] and fig.layout.xaxis.type == "log"
    assert [t.name for t in fig.data[1:]] == ["range test's suggestion 0.05", "sweep's best 0.1"]
