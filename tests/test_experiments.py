"""Seed 003's studies, the results table, the learning-rate range test and the experiment figures.

The study definitions are checked against the seed's own values (the four learning rates, the
batch sizes, the activation pairs, 50 epochs at batch 100); the CNN variants must be buildable
(``layer_table`` does not raise, a forward pass gives (B, 10)). Training is kept tiny: a few
hundred images of the built-in sample.
"""

import csv
import io
import math
from dataclasses import replace

import pytest
import torch

from nnplay.lessons import experiments as ex
from nnplay.figures import experiments as fx
from nnplay.config import TrainConfig
from nnplay.engine import EpochMetrics, RunStart, StepEvent
from nnplay.models import build_model, layer_table
from nnplay.runs import Run, Sweep

# -- the studies -------------------------------------------------------------------------------


def test_every_study_has_runs_in_both_modes_with_one_shared_data_config():
    assert list(ex.STUDIES) == ["lr", "epochs", "batch", "activations", "stride", "filter"]
    for study in ex.STUDIES.values():
        for mode in ex.MODES:
            runs = study.runs(mode)
            assert len(runs) >= 2
            ex.shared_data_config(runs)  # raises if the runs disagree
            assert len({r.label for r in runs}) == len(runs)
            label, data, model, train = runs[0]  # unpacks as a 4-tuple
            assert label == runs[0].label


def test_learning_rate_study_uses_the_seeds_four_rates_at_batch_100():
    full = ex.STUDIES["lr"].runs("full")
    assert [r.train.lr for r in full] == [0.1, 0.01, 0.001, 0.0001]
    assert {(r.train.batch_size, r.train.epochs, r.train.optimizer) for r in full} == {(100, 50, "adam")}
    quick = ex.lr_study("quick")
    assert [r.train.lr for r in quick] == [0.1, 0.01, 0.001, 0.0001]
    assert all(r.train.epochs == ex.QUICK_MLP_EPOCHS < 50 for r in quick)


def test_seed003_mlp_is_784_256_256_10_with_normal_std_1_init():
    cfg = ex.SEED003_MLP
    assert cfg.hidden == (256, 256) and cfg.init == "normal" and cfg.init_std == 1.0
    assert layer_table(cfg)[-1].output_shape == (10,)
    torch.manual_seed(0)
    w = build_model(cfg).lin_1.weight
    assert abs(w.std().item() - 1.0) < 0.01  # torch.nn.init.normal_'s defaults, as the seed quotes
    # the huge first losses of that init must not count as divergence
    assert ex.SEED003_TRAIN.max_loss >= 1e5


def test_epoch_study_full_is_the_seeds_5_30_50_100_at_lr_0_0001():
    full = ex.epoch_study("full")
    assert [r.train.epochs for r in full] == [5, 30, 50, 100]
    assert {(r.train.lr, r.train.batch_size) for r in full} == {(0.0001, 100)}
    quick = ex.epoch_study("quick")
    assert [r.train.epochs for r in quick] == list(ex.QUICK_EPOCHS)
    assert max(r.train.epochs for r in quick) < 100


def test_batch_study_uses_10_30_100_1000():
    for mode in ex.MODES:
        assert [r.train.batch_size for r in ex.batch_study(mode)] == [10, 30, 100, 1000]
    assert {r.train.epochs for r in ex.batch_study("full")} == {50}


def test_activation_study_pairs_two_hidden_layers():
    runs = ex.activation_study("full")
    assert [r.model.activations() for r in runs] == [
        ("sigmoid", "sigmoid"), ("sigmoid", "relu"), ("relu", "sigmoid"), ("relu", "relu")]
    assert [r.label for r in runs] == ["sigmoid/sigmoid", "sigmoid/ReLU", "ReLU/sigmoid", "ReLU/ReLU"]
    assert all(r.model.hidden == (256, 256) for r in runs)


@pytest.mark.parametrize("key, attr, values", [("stride", "strides", [(1, 1, 1), (5, 1, 1)]),
                                               ("filter", "kernel_sizes", [(3, 3, 3), (10, 3, 3)])])
def test_cnn_studies_change_the_first_conv_layer_and_stay_buildable(key, attr, values):
    for mode in ex.MODES:
        runs = ex.STUDIES[key].runs(mode)
        assert [getattr(r.model, attr)() for r in runs] == values
        for r in runs:
            rows = layer_table(r.model)  # must not raise: the map keeps at least one pixel
            assert rows[-1].output_shape == (10,)
            torch.manual_seed(0)
            assert build_model(r.model)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
            assert ex.shape_rows(r.model)[0]["output"] == "1×28×28"


def test_all_three_layers_at_stride_5_or_filter_10_leave_no_pixels_and_the_page_says_so():
    for change in (dict(stride=5), dict(kernel_size=10)):
        with pytest.raises(ValueError, match="leaves no pixels"):
            layer_table(replace(ex.SEED003_CNN, **change))
    assert "first conv layer only" in ex.STUDIES["stride"].note
    assert "leaves no pixels" in ex.STUDIES["stride"].note
    assert "leaves no pixels" in ex.STUDIES["filter"].note


def test_quick_cnn_studies_use_a_subset_and_full_ones_the_whole_set():
    for key in ("stride", "filter"):
        quick = ex.shared_data_config(ex.STUDIES[key].runs("quick"))
        assert quick.train_limit == ex.QUICK_CNN["train_limit"] < 60_000
        full = ex.STUDIES[key].runs("full")
        assert full[0].data.train_limit is None and full[0].train.epochs == 15


def test_quick_mode_overrides_the_subset_but_full_mode_ignores_it():
    quick = ex.STUDIES["lr"].runs("quick", train_limit=300, test_limit=200)
    assert {(r.data.train_limit, r.data.test_limit) for r in quick} == {(300, 200)}
    full = ex.STUDIES["lr"].runs("full", train_limit=300)
    assert {r.data.train_limit for r in full} == {None}
    with pytest.raises(ValueError, match="quick or full"):
        ex.STUDIES["lr"].runs("slow")


def test_the_seeds_numbers_are_in_the_study_texts():
    text = " ".join(s.seed_setup + s.seed_saw + s.note for s in ex.STUDIES.values())
    for number in ["0.1", "0.01", "0.001", "0.0001", "0.10", "2.30", "+0.0918", "+0.009", "+0.0054",
                   "15 min 53 s", "8 min 22 s", "5 min 26 s", "6,000", "2,000", "600", "60 steps",
                   "60,000", "625", "2048", "0.5", "batch 100", "50 epochs"]:
        assert number in text, number
    assert ex.SEED_BATCH_TIMES[1000] == ex.SEED_BATCH_TIMES[100] == "5 min 26 s"


def test_mixed_data_configs_are_refused():
    a, b = ex.lr_study("quick")[:2]
    with pytest.raises(ValueError, match="same data"):
        ex.shared_data_config([a, b._replace(data=replace(b.data, train_limit=10))])


# -- results table -----------------------------------------------------------------------------


def _fake_run(name: str, accs: list[float], seconds: float = 1.0, batch: int = 100) -> Run:
    """A run with a hand-written history: one epoch event per accuracy, 10 steps per epoch."""
    run = Run(name, ex.lr_study()[0].data, ex.SEED003_MLP, TrainConfig(batch_size=batch, epochs=len(accs)))
    run.history(RunStart(len(accs), 10, 1000, 100, 123, "CPU"))
    for e, acc in enumerate(accs, start=1):
        for s in range(10):
            run.history(StepEvent((e - 1) * 10 + s + 1, e, 2.0 / (e + s / 10), 0.001))
        run.history(EpochMetrics(e, 1.0 / e, acc - 0.01, 1.1 / e, acc, seconds, 0.25, 1000 / seconds, e * 10,
                                 0.001, "CPU"))
    run.status = "finished"
    return run


def test_results_rows_hold_settings_final_accuracies_and_times():
    rows = ex.results_rows([_fake_run("a", [0.5, 0.8], seconds=2.0), _fake_run("b", [0.6], batch=10)])
    assert [r["run"] for r in rows] == ["a", "b"]
    a = rows[0]
    assert a["test accuracy"] == 0.8 and a["train accuracy"] == 0.79 and a["epochs done"] == 2
    assert a["train seconds"] == 4.0 and a["wall seconds"] == 4.5  # + 2 evaluations of 0.25 s
    assert a["lr"] == 0.001 and a["batch size"] == 100 and a["train images"] == 1000
    assert a["steps per epoch"] == 10
    assert rows[1]["batch size"] == 10
    assert tuple(a) == ex.RESULT_COLUMNS


def test_results_of_a_run_that_never_started_have_empty_accuracies():
    run = Run("queued", ex.lr_study()[0].data, ex.SEED003_MLP, TrainConfig())
    row = ex.results_rows([run])[0]
    assert row["test accuracy"] is None and row["epochs done"] == 0 and row["status"] == "queued"
    parsed = list(csv.DictReader(io.StringIO(ex.results_csv([row]))))
    assert parsed[0]["test accuracy"] == ""


def test_rows_csv_writes_the_columns_in_order_with_empty_cells():
    from nnplay.runs import rows_csv

    text = rows_csv([{"b": 2, "a": None}, {"a": 1.5, "extra": "left out"}], ["a", "b"])
    assert text == "a,b\n,2\n1.5,\n"
    assert list(csv.DictReader(io.StringIO(text))) == [{"a": "", "b": "2"}, {"a": "1.5", "b": ""}]


def test_results_csv_round_trips():
    rows = ex.results_rows([_fake_run("lr 0.1", [0.1]), _fake_run("lr 0.01", [0.97])])
    text = ex.results_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",")[:3] == ["run", "model", "optimizer"]
    assert [p["run"] for p in parsed] == ["lr 0.1", "lr 0.01"]
    assert float(parsed[1]["test accuracy"]) == 0.97
    assert ex.results_csv([]).startswith("run,model")


@pytest.mark.slow
def test_a_quick_study_sweep_trains_on_tiny_data_and_fills_the_table(tiny_data):
    planned = ex.STUDIES["activations"].runs("quick", train_limit=200, test_limit=100)
    planned = [r._replace(train=replace(r.train, epochs=1)) for r in planned]
    d = ex.shared_data_config(planned)
    runs = [Run(*r) for r in planned]
    sweep = Sweep("test", runs, tiny_data.limited(d.train_limit, d.test_limit)).start()
    assert sweep.wait(120)
    rows = ex.results_rows(runs)
    assert [r["status"] for r in rows] == ["finished"] * 4
    assert all(0.0 <= r["test accuracy"] <= 1.0 for r in rows)
    assert {r["train images"] for r in rows} == {200}


# -- the range test ----------------------------------------------------------------------------


def test_range_test_rises_exponentially_and_cuts_the_exploding_tail(tiny_data):
    lrs, losses, suggested = ex.lr_range_test(ex.SEED003_MLP, tiny_data, start=1e-6, end=10, steps=60,
                                               batch_size=50)
    assert all(b > a for a, b in zip(lrs, lrs[1:]))
    assert lrs[0] == pytest.approx(1e-6)
    ratios = [b / a for a, b in zip(lrs, lrs[1:])]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-6)  # exponential: a constant factor per step
    assert ratios[0] == pytest.approx((10 / 1e-6) ** (1 / 59), rel=1e-6)
    assert len(lrs) < 60  # Adam at lr ~10 blows up: the tail is cut
    assert max(losses) <= 4 * min(losses)
    assert lrs[0] <= suggested <= lrs[-1]
    assert all(math.isfinite(v) for v in losses)


def test_range_test_runs_the_cnn_and_a_gentle_range_to_the_end(tiny_data):
    small = tiny_data.limited(300, 50)
    lrs, losses, suggested = ex.lr_range_test(ex.SEED003_CNN, small, start=1e-5, end=1e-3, steps=8, batch_size=20)
    assert len(lrs) == 8 and lrs[-1] == pytest.approx(1e-3)  # nothing explodes at these rates
    assert 1e-6 <= suggested <= 1e-3


def test_range_test_refuses_bad_ranges(tiny_data):
    with pytest.raises(ValueError, match="start < end"):
        ex.lr_range_test(ex.SEED003_MLP, tiny_data, start=1.0, end=0.1)
    with pytest.raises(ValueError, match="steps"):
        ex.lr_range_test(ex.SEED003_MLP, tiny_data, steps=2)


def test_suggestion_is_the_steepest_descent_before_the_minimum_else_min_over_10():
    lrs = [10 ** (-6 + i) for i in range(7)]  # 1e-6 … 1
    losses = [2.3, 2.29, 2.0, 0.9, 0.5, 0.45, 3.0]  # steepest fall around 1e-3, minimum at 1e-1
    assert ex.suggest_lr(lrs, losses) == pytest.approx(1e-3)
    assert ex.suggest_lr(lrs, [1.0, 0.9, 1.5, 2, 3, 4, 5]) == pytest.approx(1e-5 / 10)  # minimum too early


# -- figures -----------------------------------------------------------------------------------


def test_loss_figure_overlays_one_binned_line_per_run_on_an_epoch_axis():
    runs = [_fake_run("a", [0.5, 0.8]), _fake_run("b", [0.6])]
    fig = fx.study_loss_figure(runs, max_points=5, revision="lr")
    assert [t.name for t in fig.data] == ["a", "b"]
    assert len(fig.data[0].x) == 5 and len(fig.data[1].x) == 5  # 20 and 10 steps binned into 5
    assert fig.data[0].x[-1] == pytest.approx(1.85)  # mean of steps 17..20 ÷ 10 steps per epoch
    assert fig.layout.yaxis.type == "log" and fig.layout.uirevision == "lr"
    assert fx.study_loss_figure(runs, log_y=False).layout.yaxis.type == "linear"
    assert fig.data[0].line.color != fig.data[1].line.color


def test_binned_keeps_short_series_and_averages_long_ones():
    assert fx.binned([1, 2], [3, 4], 5) == ([1, 2], [3, 4])
    assert fx.binned([0, 1, 2, 3], [4, 6, 8, 10], 2) == ([0.5, 2.5], [5.0, 9.0])


def test_accuracy_figure_has_test_and_train_per_run_in_the_runs_colour():
    fig = fx.accuracy_figure([_fake_run("a", [0.5, 0.8]), _fake_run("b", [0.6])])
    assert [t.name for t in fig.data] == ["a test", "a train", "b test", "b train"]
    assert list(fig.data[0].y) == [0.5, 0.8] and list(fig.data[0].x) == [1, 2]
    assert fig.data[1].line.dash == "dot" and fig.data[0].line.color == fig.data[1].line.color


def test_time_figure_stacks_training_and_evaluation_seconds():
    fig = fx.time_figure([_fake_run("batch 10", [0.5, 0.8], seconds=3.0), _fake_run("batch 1000", [0.6])])
    train, evaluation = fig.data
    assert list(train.y) == [6.0, 1.0] and list(evaluation.y) == [0.5, 0.25]
    assert list(evaluation.text) == ["6.5 s", "1.2 s"]


def test_range_figure_is_log_x_with_the_suggestion_marked():
    fig = fx.range_test_figure([1e-5, 1e-4, 1e-3, 1e-2], [2.3, 2.0, 1.0, 1.5], 1e-3)
    assert fig.layout.xaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names[0] == "smoothed loss" and names[1] == "suggested 0.001"
    assert list(fig.data[1].x) == [1e-3, 1e-3] and list(fig.data[1].y) == [1.0, 2.3]
    assert list(fig.data[2].x) == [1e-3] and list(fig.data[2].y) == [1.0]
    assert len(fx.range_test_figure([1e-5], [2.3], None).data) == 1


def test_empty_runs_draw_empty_traces():
    run = Run("queued", ex.lr_study()[0].data, ex.SEED003_MLP, TrainConfig())
    assert list(fx.study_loss_figure([run]).data[0].x) == []
    assert list(fx.accuracy_figure([run]).data[0].x) == []


def test_the_time_estimate_comes_from_the_study_measured_here():
    planned = ex.lr_study("quick")
    assert ex.estimate_seconds(planned, [], 60_000) is None  # nothing measured: no number
    measured = []
    for i, r in enumerate(planned):  # each run took 2 s an epoch of 1,000 images, plus 0.5 s to evaluate
        run = Run(r.label, r.data, r.model, replace(r.train, epochs=2))
        run.history(RunStart(2, 10, 1000, 100, 123, "CPU"))
        for e in (1, 2):
            run.history(EpochMetrics(e, 1.0, 0.5, 1.0, 0.5, 2.0, 0.5, 500.0, e * 10, 0.1, "CPU"))
        run.status = "finished" if i else "stopped"  # a stopped run measures nothing
        measured.append(run)
    rate = 2.5 / 1000  # wall seconds per training image and epoch
    images = [min(r.data.train_limit or 60_000, 60_000) for r in planned]
    expected = sum(rate * n * r.train.epochs for n, r in zip(images, planned))
    assert ex.estimate_seconds(planned, measured, 60_000) == pytest.approx(expected)
    full = ex.lr_study("full")  # the seed's 50 epochs on every image, from the quick runs' rate
    assert ex.estimate_seconds(full, measured, 60_000) == pytest.approx(rate * 60_000 * 50 * len(full))
