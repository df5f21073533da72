"""Comparing runs: the table of every run (settings, metric summaries), seed groups, importance, figures, files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nnplay.compare import (SETTINGS, epochs_frame, group_seeds, importance, runs_frame, summarize,
                            varying_settings)
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics
from nnplay.store import Store


def add_run(store: Store, accuracies=(0.5, 0.7, 0.6), losses=None, model=None, train=None, data=None,
            kind="train", group="", status="finished", workspace="local", name="run") -> str:
    """A stored run whose epochs have these test accuracies (train accuracy = test + 0.01; losses 1 − accuracy
    unless given)."""
    run_id = store.create_run(name, data or DataConfig(train_limit=500), model or ModelConfig(hidden=(16,)),
                              train or TrainConfig(epochs=len(accuracies)), workspace=workspace, kind=kind,
                              group=group, status="running", data_source="sample")
    losses = losses or [1 - a for a in accuracies]
    epochs = [EpochMetrics(i, loss + 0.1, acc + 0.01, loss, acc, 1.5, 0.2, 1000.0, i * 4, 1e-3, "cpu")
              for i, (acc, loss) in enumerate(zip(accuracies, losses), start=1)]
    store.record(run_id, epochs=epochs, status=(status, ""))
    return run_id


@pytest.fixture
def store(private_store):
    s = Store(private_store)
    yield s
    s.close()


# -- the table -----------------------------------------------------------------------------------


def test_summaries_of_each_metric_by_hand():
    rows = [("a", 1, 2.0, 0.40, 1.0, 0.50, 1, 0, 0, 1, 1e-3),
            ("a", 2, 1.0, 0.60, 0.5, 0.80, 1, 0, 0, 2, 1e-3),
            ("a", 3, 1.5, 0.70, 0.7, 0.70, 1, 0, 0, 3, 1e-3),
            ("b", 1, 3.0, 0.20, 2.0, math.nan, 1, 0, 0, 1, 1e-3)]
    epochs = epochs_frame(rows)
    last = summarize(epochs, "last")
    assert last.loc["a", "test_accuracy"] == 0.70 and last.loc["a", "train_loss"] == 1.5
    assert math.isnan(last.loc["b", "test_accuracy"])  # its last (only) epoch has none
    best = summarize(epochs, "best")
    assert best.loc["a", "test_accuracy"] == 0.80 and best.loc["a", "test_loss"] == 0.5  # highest acc, lowest loss
    assert summarize(epochs, "min").loc["a", "test_accuracy"] == 0.50
    assert summarize(epochs, "max").loc["a", "test_loss"] == 1.0
    mean2 = summarize(epochs, "mean_last", k=2)
    assert mean2.loc["a", "test_accuracy"] == pytest.approx(0.75)
    assert mean2.loc["a", "train_loss"] == pytest.approx(1.25)
    assert summarize(epochs, "mean_last", k=10).loc["a", "test_loss"] == pytest.approx(2.2 / 3)  # fewer epochs: all
    mixed = summarize(epochs, {"test_accuracy": "best", "test_loss": "mean_last"}, k=2)
    assert mixed.loc["a", "test_accuracy"] == 0.80 and mixed.loc["a", "test_loss"] == pytest.approx(0.6)
    assert mixed.loc["a", "train_accuracy"] == 0.70  # not named: last
    assert list(summarize(epochs_frame([])).columns) == ["test_accuracy", "test_loss", "train_accuracy", "train_loss"]


@pytest.mark.parametrize("summaries, k, words", [("median", 3, "one of last, best"), ({"accuracy": "last"}, 3,
                         "test_accuracy"), ("mean_last", 0, "at least 1")])
def test_bad_summary_choices_are_sentences(summaries, k, words):
    with pytest.raises(ValueError, match=words):
        summarize(epochs_frame([]), summaries, k)


def test_runs_frame_holds_every_kind_with_its_settings(store):
    a = add_run(store, (0.5, 0.9), model=ModelConfig(hidden=(64, 32), activation=("tanh", "relu")),
                train=TrainConfig(lr=3e-3, batch_size=64, epochs=2, seed=7, optimizer="sgd"))
    b = add_run(store, (0.8,), kind="loaded", status="loaded")
    c = add_run(store, (0.6, 0.7), kind="sweep", group="lr-sweep",
                model=ModelConfig(family="cnn", channels=(8, 16), fc_width=32))
    add_run(store, (0.6,), workspace="elsewhere")
    frame = runs_frame(store, "local")
    assert list(frame["id"]) == [a, b, c]
    assert set(SETTINGS) <= set(frame.columns)
    row = frame.set_index("id").loc[a]
    assert (row["model"], row["hidden"], row["depth"], row["width"], row["activation"]) == ("mlp", "64,32", 2, 64,
                                                                                           "tanh,relu")
    assert (row["optimizer"], row["lr"], row["batch_size"], row["epochs"], row["seed"]) == ("sgd", 3e-3, 64, 2, 7)
    assert row["data"] == "MNIST sample" and row["train_limit"] == 500 and row["sweep"] == ""
    assert row["test_accuracy"] == 0.9 and row["epochs_done"] == 2 and row["train_seconds"] == 3.0
    cnn = frame.set_index("id").loc[c]
    assert (cnn["model"], cnn["hidden"], cnn["depth"], cnn["width"], cnn["sweep"]) == ("cnn", "8,16", 2, 32,
                                                                                       "lr-sweep")
    only = runs_frame(store, "local", sweep="lr-sweep")
    assert list(only["id"]) == [c]
    best = runs_frame(store, "local", summaries={"test_accuracy": "best"})
    assert best.set_index("id").loc[a, "test_accuracy"] == 0.9


def test_a_run_without_epochs_and_an_unreadable_one(store):
    empty = store.create_run("queued", DataConfig(), ModelConfig(), TrainConfig(), status="queued")
    broken = add_run(store, (0.4,))
    store.write(lambda db: db.execute("UPDATE runs SET model_cfg=? WHERE id=?", ('{"hidden": [-3]}', broken)))
    frame = runs_frame(store, "local").set_index("id")
    assert frame.loc[empty, "epochs_done"] == 0 and math.isnan(frame.loc[empty, "test_accuracy"])
    # unreadable settings are missing, never the defaults
    assert pd.isna(frame.loc[broken, "hidden"]) and pd.isna(frame.loc[broken, "depth"])
    assert frame.loc[broken, "lr"] == 1e-3 and frame.loc[broken, "test_accuracy"] == 0.4


def _statements(store: Store, fn) -> int:
    count = 0

    def trace(sql):
        nonlocal count
        count += sql.lstrip().upper().startswith("SELECT")

    store._db.set_trace_callback(trace)
    try:
        fn()
    finally:
        store._db.set_trace_callback(None)
    return count


def test_the_table_costs_the_same_queries_for_3_runs_and_for_30(store):
    for _ in range(3):
        add_run(store)
    few = _statements(store, lambda: runs_frame(store, "local"))
    for _ in range(27):
        add_run(store)
    assert _statements(store, lambda: runs_frame(store, "local")) == few <= 3


def test_varying_settings(store):
    for lr in (1e-3, 1e-2):
        add_run(store, train=TrainConfig(lr=lr, epochs=3))
    assert varying_settings(runs_frame(store, "local")) == ["lr"]


def test_the_table_shows_issue_25s_knobs_and_varies_by_them(store):
    from nnplay.figures.compare import parallel_figure

    plain = add_run(store, train=TrainConfig(epochs=3))
    knobs = add_run(store, model=ModelConfig(family="cnn", channels=(4, 8), fc_width=16, batch_norm=True, pool="avg"),
                    train=TrainConfig(epochs=3, loss="mse", max_norm=3.0, augment="affine+elastic"))
    frame = runs_frame(store, "local")
    rows = frame.set_index("id")
    assert tuple(rows.loc[plain, ["batch_norm", "pool", "loss", "max_norm", "augment"]]) == (
        "off", "", "cross_entropy", 0.0, "none")  # an MLP has no pooling
    assert tuple(rows.loc[knobs, ["batch_norm", "pool", "loss", "max_norm", "augment"]]) == (
        "on", "avg", "mse", 3.0, "affine+elastic")
    assert {"batch_norm", "pool", "loss", "max_norm", "augment"} <= set(varying_settings(frame))
    assert varying_settings(frame.iloc[:1]) == []  # one run: nothing varies, the knobs' defaults included
    dims = {d.label: d for d in parallel_figure(frame, ["batch_norm", "loss", "max_norm"], "test_accuracy").data[0]
            .dimensions}
    assert list(dims["batch norm"].ticktext) == ["off", "on"] and list(dims["loss"].ticktext) == ["cross_entropy", "mse"]
    assert list(dims["max norm"].values) == [0.0, 3.0]


@pytest.mark.slow
def test_importance_rates_the_knobs_as_settings(store):
    for i in range(8):
        augment, bn = ("none", "elastic")[i % 2], i // 2 % 2 == 1
        add_run(store, (0.7 + 0.2 * (augment == "elastic") + i / 1000,), model=ModelConfig(hidden=(16,), batch_norm=bn),
                train=TrainConfig(epochs=1, augment=augment, seed=i))
    result = importance(runs_frame(store, "local"), "test_accuracy")
    assert {"augment = elastic", "augment = none", "batch_norm = on", "batch_norm = off"} <= set(result.table["feature"])
    assert result.by_setting().iloc[0]["setting"] == "augment"


# -- seed groups and importance ------------------------------------------------------------------


def test_runs_that_differ_only_in_their_seed_are_one_group(store):
    ids = [add_run(store, (0.5, acc), train=TrainConfig(epochs=2, seed=seed)) for seed, acc in
           ((0, 0.90), (1, 0.92), (2, 0.94))]
    other = add_run(store, (0.5, 0.80), train=TrainConfig(epochs=2, lr=1e-2, seed=0))
    frame = runs_frame(store, "local")
    groups = group_seeds(frame, "test_accuracy").set_index("lr")
    assert len(groups) == 2 and "seed" not in groups.columns
    g = groups.loc[1e-3]
    assert g["n"] == 3 and g["run_ids"] == ids and g["seeds"] == "0,1,2"
    assert (g["test_accuracy_mean"], g["test_accuracy_std"]) == (pytest.approx(0.92), pytest.approx(0.02))
    assert (g["test_accuracy_min"], g["test_accuracy_max"]) == (0.90, 0.94)
    single = groups.loc[1e-2]
    assert single["n"] == 1 and single["run_ids"] == [other] and math.isnan(single["test_accuracy_std"])
    with pytest.raises(ValueError, match="no column 'accuracy'"):
        group_seeds(frame, "accuracy")


def test_importance_needs_runs_and_a_setting_that_varies(store):
    for seed in range(3):
        add_run(store, (0.9 + seed / 100,), train=TrainConfig(epochs=1, seed=seed))
    few = importance(runs_frame(store, "local"), "test_accuracy")
    assert few.table.empty and few.runs == 3 and "Only 3 runs" in few.sentence and "at least 5" in few.sentence
    for seed in range(3, 6):
        add_run(store, (0.9,), train=TrainConfig(epochs=1, seed=seed))
    only_seed = importance(runs_frame(store, "local"), "test_accuracy", settings=["lr", "optimizer"])
    assert only_seed.table.empty and "same settings" in only_seed.sentence and only_seed.constant == ["lr", "optimizer"]
    flat = importance(runs_frame(store, "local").assign(test_accuracy=0.9), "test_accuracy")
    assert flat.table.empty and "is 0.9 in all 6 runs" in flat.sentence


@pytest.mark.slow
def test_importance_finds_the_setting_that_decides_the_metric(store):
    rng = np.random.default_rng(0)
    for i in range(24):
        lr = (1e-4, 1e-3, 1e-2)[i % 3]
        act = ("relu", "tanh")[i // 3 % 2]
        acc = 0.6 + 10 * lr + rng.normal(0, 0.001)  # the learning rate decides, the activation is noise
        add_run(store, (acc,), model=ModelConfig(hidden=(16,), activation=act), train=TrainConfig(lr=lr, epochs=1,
                seed=i // 6), data=DataConfig(train_limit=None if i >= 12 else 500))  # None: all images
    add_run(store, (math.nan,), train=TrainConfig(lr=1e-3, epochs=1, seed=9))  # no accuracy: left out
    result = importance(runs_frame(store, "local"), "test_accuracy")
    assert result.runs == 24 and "Rests on 24 runs" in result.sentence and "1 of the 25 runs" in result.sentence
    top = result.table.iloc[0]
    assert top["setting"] == "lr" and top["importance"] > 0.8 and top["correlation"] > 0.9
    assert set(result.table["feature"]) == {"lr", "activation = relu", "activation = tanh", "seed",
                                            "train_limit = 500", "train_limit = all"}
    assert result.table["importance"].sum() == pytest.approx(1.0)
    assert "model" in result.constant and "one-hot" in result.sentence
    again = importance(runs_frame(store, "local"), "test_accuracy")
    assert again.table.equals(result.table)  # a fixed random state
    assert list(result.by_setting()["setting"])[0] == "lr"



# -- figures -------------------------------------------------------------------------------------


@pytest.fixture
def sweep_frame(store):
    """12 runs: learning rates 1e-4, 1e-3, 1e-2 × activations relu, tanh × seeds 0, 1; one without an accuracy."""
    for seed in (0, 1):
        for act in ("relu", "tanh"):
            for lr in (1e-4, 1e-3, 1e-2):
                add_run(store, (0.5, 0.8 + 5 * lr + seed / 100), model=ModelConfig(hidden=(16,), activation=act),
                        train=TrainConfig(lr=lr, epochs=2, seed=seed), kind="sweep", group="s")
    add_run(store, (math.nan,), train=TrainConfig(lr=1e-3, epochs=1))
    return runs_frame(store, "local")


def test_parallel_coordinates_axes(sweep_frame):
    from nnplay.figures.compare import parallel_figure

    fig = parallel_figure(sweep_frame, ["lr", "activation", "seed"], "test_accuracy")
    (trace,) = fig.data
    lr, act, seed, metric = trace.dimensions
    assert lr.label == "learning rate" and list(lr.values) == pytest.approx([-4, -3, -2] * 4)  # log10 values
    assert list(lr.ticktext) == ["0.0001", "0.001", "0.01"] and list(lr.tickvals) == pytest.approx([-4, -3, -2])
    assert list(act.ticktext) == ["relu", "tanh"] and list(act.values) == [0] * 3 + [1] * 3 + [0] * 3 + [1] * 3
    assert list(seed.tickvals) == [0, 1]
    assert metric.label == "test accuracy" and list(trace.line.color) == list(metric.values)
    limit = parallel_figure(sweep_frame.assign(train_limit=pd.array([500, None] * 6 + [500], dtype="Int64")),
                            ["train_limit"], "test_accuracy").data[0].dimensions[0]
    assert list(limit.ticktext) == ["500", "all"] and list(limit.values) == [0, 1] * 6  # no limit: every image
    assert len(trace.meta["ids"]) == 12 and "1 without a test accuracy left out" in fig.layout.title.text
    loss = parallel_figure(sweep_frame, ["lr"], "test_loss").data[0]
    assert loss.line.reversescale and not trace.line.reversescale  # the better end is bright for both
    with pytest.raises(ValueError, match="no column 'width_'"):
        parallel_figure(sweep_frame, ["width_"], "test_accuracy")


def test_a_brush_keeps_the_runs_in_its_ranges(sweep_frame):
    from nnplay.figures.compare import brushed_ids

    frame = sweep_frame.set_index("id", drop=False)
    kept = brushed_ids(sweep_frame, {"lr": [-3.2, -2.8]}, metric="test_accuracy")  # around log10(1e-3)
    assert len(kept) == 4 and set(frame.loc[kept, "lr"]) == {1e-3}
    both = brushed_ids(sweep_frame, {"lr": [[-4.1, -3.9], [-2.1, -1.9]], "activation": [0.9, 1.1]},
                       metric="test_accuracy")
    assert len(both) == 4 and set(frame.loc[both, "activation"]) == {"tanh"}
    assert len(brushed_ids(sweep_frame, {"test_accuracy": [0.0, 0.81]}, metric="test_accuracy")) == 4


def test_scatter_groups_seeds_into_one_point_with_an_error_bar(sweep_frame):
    from nnplay.figures.compare import scatter_figure

    fig = scatter_figure(sweep_frame, "lr", "test_accuracy")
    runs, groups = fig.data
    assert fig.layout.xaxis.type == "log" and len(runs.x) == 12 and runs.marker.opacity < 1
    assert len(groups.x) == 6 and list(groups.error_y.array) == pytest.approx([np.std([0, 0.01], ddof=1)] * 6)
    assert list(groups.y[:3]) == pytest.approx([0.8 + 5 * lr + 0.005 for lr in (1e-4, 1e-3, 1e-2)])
    every = scatter_figure(sweep_frame, "activation", "test_accuracy", seeds="every")
    assert len(every.data) == 1 and every.layout.xaxis.type == "category"
    with pytest.raises(ValueError, match="'group'"):
        scatter_figure(sweep_frame, "lr", "test_accuracy", seeds="all")


def test_a_scatter_against_the_seed_draws_every_run(sweep_frame):
    from nnplay.figures.compare import scatter_figure

    fig = scatter_figure(sweep_frame, "seed", "test_accuracy")  # a sweep of seeds alone: no group to draw
    assert len(fig.data) == 1 and len(fig.data[0].x) == 12 and fig.data[0].marker.opacity == 1


def test_the_parallel_coordinates_name_their_category_axes_in_order(sweep_frame):
    from nnplay.figures.compare import parallel_figure

    meta = parallel_figure(sweep_frame, ["lr", "activation"], "test_accuracy").data[0].meta
    assert meta["categories"] == {"activation": ["relu", "tanh"]}  # lr is a number axis


def _history(n_steps=20, n_epochs=2, scale=1.0):
    from nnplay.engine import History, RunStart, StepEvent

    h = History()
    h(RunStart(n_epochs, n_steps // n_epochs, 1000, 100, 7850, "cpu"))
    for i in range(1, n_steps + 1):
        h(StepEvent(i, 1 + (i - 1) * n_epochs // n_steps, scale * 2.3 / i, 0.1))
    for e in range(1, n_epochs + 1):
        h(EpochMetrics(e, 1.0 / e, 0.8, 1.1 / e, 0.7 + e / 10 * scale, 2.0, 0.1, 1000.0, e * n_steps // n_epochs,
                       0.1, "cpu"))
    return h


def test_curves_keep_the_raw_curve_faint_under_the_smoothed_one():
    from nnplay.curves import smooth
    from nnplay.figures.compare import curves_figure

    h = _history()
    raw, smoothed = curves_figure([("a", h)], smoothing=0.6).data
    assert list(raw.y) == pytest.approx([s.loss for s in h.steps]) and raw.opacity < 0.5 and not raw.showlegend
    assert list(smoothed.y) == pytest.approx(smooth([s.loss for s in h.steps], 0.6)) and smoothed.name == "a"
    by_images = curves_figure([("a", h)], metric="test_accuracy", x="images").data[1]
    assert list(by_images.x) == [1000, 2000] and fig_axis(curves_figure([("a", h)], x="time")) == "training time (s)"
    by_epoch = curves_figure([("a", h)], metric="test_accuracy", x="epoch", smoothing=0).data[1]
    assert list(by_epoch.x) == [1, 2] and list(by_epoch.y) == pytest.approx([0.8, 0.9])
    with pytest.raises(ValueError, match="metric is one of"):
        curves_figure([("a", h)], metric="accuracy")
    with pytest.raises(ValueError, match="x must be one of"):
        curves_figure([("a", h)], x="wall")


def fig_axis(fig) -> str:
    return fig.layout.xaxis.title.text


def test_a_seed_group_is_one_mean_curve_with_a_band():
    from nnplay.figures.compare import curves_figure

    group = [_history(scale=1.0), _history(scale=0.5)]
    fig = curves_figure([("lr 1e-3", group), ("single", _history())], metric="test_accuracy", smoothing=0)
    raw_a, raw_b, upper, lower, mean, raw_single, single = fig.data
    assert raw_a.opacity < 0.5 and raw_b.opacity < 0.5 and lower.fill == "tonexty"
    assert list(mean.y) == pytest.approx([0.775, 0.85]) and mean.name == "lr 1e-3 (mean of 2)"
    assert list(upper.y - mean.y) == pytest.approx([0.025, 0.05])
    assert list(mean.y - lower.y) == pytest.approx([0.025, 0.05])
    assert single.name == "single" and mean.line.color != single.line.color


# -- files ---------------------------------------------------------------------------------------


def test_csv_and_parquet_hold_every_row_and_column(sweep_frame, tmp_path):
    from nnplay.compare.files import to_csv, to_parquet, write_table

    back = pd.read_parquet(__import__("io").BytesIO(to_parquet(sweep_frame)))
    pd.testing.assert_frame_equal(back, sweep_frame, check_dtype=False)
    assert str(back["batch_size"].dtype) == "Int64" and back["created"].dtype.kind == "M"
    text = to_csv(sweep_frame)
    csv = pd.read_csv(__import__("io").StringIO(text))
    assert list(csv.columns) == list(sweep_frame.columns) and len(csv) == 13
    assert list(csv["lr"][:3]) == [1e-4, 1e-3, 1e-2] and csv["test_accuracy"].isna().sum() == 1
    groups = group_seeds(sweep_frame, "test_accuracy")
    cells = pd.read_csv(__import__("io").StringIO(to_csv(groups)))["run_ids"]
    assert cells[0] == " ".join(groups["run_ids"][0]) and len(groups["run_ids"][0]) == 2  # a group's ids, one cell
    with pytest.raises(ValueError, match="csv or parquet"):
        write_table(None, "local", tmp_path / "x.xlsx", "xlsx")


def test_write_table_refuses_an_empty_workspace(store, tmp_path):
    from nnplay.compare.files import write_table

    with pytest.raises(ValueError, match="workspace 'local' has no runs"):
        write_table(store, "local", tmp_path / "t.csv", "csv")
    assert not (tmp_path / "t.csv").exists()
    add_run(store, (0.5, 0.6, 0.9))
    assert write_table(store, "local", tmp_path / "t.csv", "csv", k=2) == 1
    row = pd.read_csv(tmp_path / "t.csv").iloc[0]
    assert row["test_accuracy_last"] == 0.9 and row["test_accuracy_mean_last_2"] == pytest.approx(0.75)
    assert row["test_loss_best"] == pytest.approx(0.1) and row["test_accuracy_min"] == 0.5


def test_curve_histories_read_the_chosen_runs_curves_with_steps_thinned(store):
    from nnplay.compare import curve_histories
    from nnplay.engine import RunStart, StepEvent
    from nnplay.figures.compare import curves_figure

    a, b = add_run(store, (0.5, 0.7)), add_run(store, (0.6,))
    store.record(a, start=RunStart(2, 50, 1000, 100, 7850, "cpu"),
                 steps=[StepEvent(i, 1 + (i - 1) // 50, 2.3 / i, 1e-3) for i in range(1, 101)])
    got = curve_histories(store, [b, a, "nosuchrun", a], points=10)
    assert list(got) == [b, a]
    full = store.history(a)
    assert got[a].epochs == full.epochs and got[a].start == full.start and got[b].start is None
    assert len(got[a].steps) <= 11 and got[a].steps[-1] == full.steps[-1]
    assert curve_histories(store, [a])[a].steps == full.steps  # fewer steps than points: all of them
    fig = curves_figure([("a", got[a])], x="images")
    assert fig.data[1].x[-1] == 2000  # 100 steps of 20 images (1,000 per epoch of 50 steps)


def test_a_sweep_reads_by_its_name_in_the_picker(store):
    """A sweep of the Sweeps page or the CLI (its runs' group is the sweep's id) reads by its name and date; an
    Experiments study's group reads as it is."""
    import time

    from nnplay.compare import sweep_labels, sweep_names

    made = time.mktime((2026, 12, 3, 12, 45, 0, 0, 0, -1))
    sweep_id = store.create_sweep("lr × width", "{}", "local", planned=2, created=made)
    add_run(store, kind="sweep", group=sweep_id)
    add_run(store, kind="sweep", group="experiments/lr/")
    assert set(sweep_names(store, "local")) == {sweep_id, "experiments/lr/"}
    assert sweep_labels(store, "local") == {sweep_id: "lr × width · 03 Dec 12:45", "experiments/lr/": "experiments/lr/"}
