"""Tests for ``nnplay.figures.train``: TensorBoard smoothing and the Train page's figures.

What lives here: ``smooth`` against values worked by hand from TensorBoard's formula (EMA with
start-up debiasing) and its edge cases; the loss, epoch and compare figures read through
``fig.data`` (every step present, smoothed = smooth(raw), the diverged mark, thinning of long
runs, one colour per compared run, the uirevision that keeps the user's zoom), including a
figure of a real one-epoch run on the built-in sample. What does not live here: the page.
"""

from __future__ import annotations

import json
import math

import pytest

from nnplay.config import ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, History, RunEnd, RunStart, StepEvent, seeded_model, train
from nnplay.figures.train import (MAX_RAW_POINTS, _nice_ceiling, compare_figure, epoch_figure, epoch_spec, epoch_ticks,
                                  figure_json, loss_figure, loss_spec, smooth)


def history(n_steps: int = 20, n_epochs: int = 2, diverged_at: int | None = None) -> History:
    h = History()
    h(RunStart(n_epochs, n_steps // max(n_epochs, 1), 1000, 100, 7850, "CPU"))
    for i in range(1, n_steps + 1):
        h(StepEvent(i, 1 + (i - 1) * n_epochs // n_steps, 2.3 / i, 0.1))
    for e in range(1, n_epochs + 1):
        h(EpochMetrics(e, 1.0 / e, 0.8 + e / 100, 1.1 / e, 0.79 + e / 100, 1.0, 0.1, 1000.0, e * 10, 0.1, "CPU"))
    if diverged_at:
        h(RunEnd("diverged", f"diverged at step {diverged_at}", diverged_at))
    return h


# -- smooth ---------------------------------------------------------------------------------------


def test_smooth_by_hand():
    # weight 0.5: EMA 0.5, 0.25, 0.625 divided by 1 - 0.5^n = 0.5, 0.75, 0.875
    assert smooth([1.0, 0.0, 1.0], 0.5) == pytest.approx([1.0, 1 / 3, 5 / 7])


def test_smooth_zero_weight_is_the_identity_and_a_constant_stays_constant():
    values = [3.0, 1.0, 4.0, 1.0, 5.0]
    assert smooth(values, 0.0) == values
    assert smooth([2.0] * 50, 0.99) == pytest.approx([2.0] * 50)  # debiasing: no pull towards 0


def test_smooth_passes_non_finite_values_through_without_averaging_them():
    out = smooth([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1])
    assert out[2] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / 0.75)  # as if the NaN were not there


def test_smooth_refuses_a_weight_outside_0_1():
    with pytest.raises(ValueError):
        smooth([1.0], 1.0)
    assert smooth([], 0.6) == []


# -- figures --------------------------------------------------------------------------------------


def test_loss_figure_raw_and_smoothed():
    h = history(20)
    fig = loss_figure(h, smoothing=0.8, uirevision="run-1")
    raw, smoothed = fig.data
    assert list(raw.x) == list(range(1, 21))
    assert list(raw.y) == [s.loss for s in h.steps]
    assert list(smoothed.y) == pytest.approx(smooth([s.loss for s in h.steps], 0.8))
    assert "0.8" in smoothed.name
    assert fig.layout.uirevision == "run-1"
    assert not fig.layout.shapes  # no diverged mark


def test_loss_figure_marks_where_a_run_diverged():
    fig = loss_figure(history(5, 1, diverged_at=6))
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 6
    assert "diverged at step 6" in fig.layout.annotations[0].text


def test_loss_figure_thins_only_the_raw_trace_of_a_long_run():
    h = history(12_001, 10)
    raw, smoothed = loss_figure(h).data
    assert len(raw.x) <= MAX_RAW_POINTS + 1
    assert raw.x[0] == 1 and raw.x[-1] == 12_001
    assert len(smoothed.x) == 12_001


def test_loss_figure_of_an_empty_history():
    raw, smoothed = loss_figure(History()).data
    assert len(raw.x) == 0 and len(smoothed.x) == 0


def test_epoch_figure_has_train_and_test_loss_and_accuracy():
    h = history(20, 3)
    fig = epoch_figure(h, uirevision=5)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"train loss", "test loss", "train accuracy", "test accuracy"}
    assert list(by_name["test accuracy"].x) == [1, 2, 3]
    assert list(by_name["test accuracy"].y) == [e.test_accuracy for e in h.epochs]
    assert list(by_name["train loss"].y) == [e.train_loss for e in h.epochs]
    assert by_name["train accuracy"].xaxis == "x2"  # accuracy in the right panel
    assert fig.layout.uirevision == 5


def test_compare_figure_overlays_runs_with_one_colour_each():
    a, b = history(20, 2), history(30, 3)
    fig = compare_figure([("run A", a), ("run B", b)], smoothing=0.0)
    assert len(fig.data) == 4
    loss_a, acc_a, loss_b, acc_b = fig.data
    assert loss_a.name == acc_a.name == "run A" and loss_a.line.color == acc_a.line.color
    assert loss_b.line.color != loss_a.line.color
    assert list(loss_b.y) == [s.loss for s in b.steps]
    assert list(acc_b.y) == [e.test_accuracy for e in b.epochs]
    assert [t.showlegend for t in fig.data] == [None, False, None, False]  # one legend entry per run


def test_figures_of_a_real_run(tiny_data):
    cfg = TrainConfig(epochs=1, batch_size=100, lr=0.01, log_every=1)
    result = train(seeded_model(ModelConfig(hidden=(32,)), 0), tiny_data, cfg)
    h = result.history
    raw, smoothed = loss_figure(h, 0.6).data
    assert len(raw.x) == 20  # 2,000 images / 100 per step, every step reported
    assert smoothed.y[-1] < smoothed.y[0]  # it learns
    accuracy = next(t for t in epoch_figure(h).data if t.name == "test accuracy")
    assert accuracy.y[0] == h.epochs[0].test_accuracy > 0.5


def test_the_unvalidated_specs_are_valid_plotly():
    # the builders skip Plotly's validation for speed; rebuilding with validation on must accept them
    import plotly.graph_objects as go

    h, d = history(20, 3), history(5, 1, diverged_at=6)
    for fig in (loss_figure(h), loss_figure(d), epoch_figure(h), epoch_figure(History()),
                compare_figure([("a", h), ("b", d)])):
        go.Figure(fig.to_dict())


# -- the live view's specs ------------------------------------------------------------------------


def test_while_a_run_trains_the_loss_chart_is_a_still_frame():
    # the live view moves only the curves while every axis keeps a set range (nnplay/ui/live_run.js)
    h = history(20, 2)  # no RunEnd: still training; 2 epochs of 10 steps, losses 2.3/i
    spec = loss_spec(h, 0.6)
    assert spec["layout"]["xaxis"]["range"] == [0, 20]
    assert spec["layout"]["yaxis"]["range"] == [0, 2.5]  # the highest loss 2.3 × 1.05, rounded up
    h(StepEvent(21, 2, 0.1, 0.1))
    assert loss_spec(h, 0.6)["layout"] == spec["layout"]  # a lower loss moves nothing
    h(StepEvent(22, 2, 3.0, 0.1))
    assert loss_spec(h, 0.6)["layout"]["yaxis"]["range"] == [0, 4.0]
    h(RunEnd("finished", "", 22))
    ended = loss_spec(h, 0.6)["layout"]
    assert "range" not in ended["xaxis"] and "range" not in ended["yaxis"]  # a finished run's chart fits


@pytest.mark.parametrize("value, ceiling", [(2.415, 2.5), (2.3, 2.5), (1.0, 1.0), (0.7, 0.8), (11, 12),
                                            (0.0123, 0.015), (7e5, 8e5), (0.0, 1.0)])
def test_nice_ceiling(value, ceiling):
    assert _nice_ceiling(value) == pytest.approx(ceiling)


def test_figure_json_is_the_figure_without_a_template():
    h = history(20, 2)
    spec = json.loads(figure_json(loss_spec(h, 0.6, uirevision="r")))
    fig = loss_figure(h, 0.6, uirevision="r")
    assert "template" not in spec["layout"] and spec["layout"]["uirevision"] == "r"
    assert [t["name"] for t in spec["data"]] == [t.name for t in fig.data]
    assert spec["data"][1]["y"] == pytest.approx(list(fig.data[1].y))
    assert json.loads(figure_json(epoch_spec(h)))["data"][3]["y"] == pytest.approx([0.8, 0.81])


@pytest.mark.parametrize("x, step_x_at_end, epoch_x", [
    ("step", 20, [1, 2]),
    ("epoch", 2.0, [1, 2]),
    ("images", 1000 * 2, [1000, 2000]),   # 1,000 training images per epoch
    ("time", 2.0, [1.0, 2.0]),            # each epoch took 1.0 s of training
])
def test_compare_figure_x_axes_line_runs_up(x, step_x_at_end, epoch_x):
    h = history(20, 2)
    loss, acc = compare_figure([("a", h)], smoothing=0.0, x=x).data
    assert loss.x[-1] == pytest.approx(step_x_at_end) and list(acc.x) == pytest.approx(epoch_x)
    assert list(loss.y) == [s.loss for s in h.steps]


def test_compare_figure_by_images_puts_two_batch_sizes_on_one_scale():
    small, large = history(40, 2), history(20, 2)  # twice the steps for the same images
    fig = compare_figure([("small", small), ("large", large)], x="images")
    assert fig.data[0].x[-1] == fig.data[2].x[-1] == pytest.approx(2000)
    with pytest.raises(ValueError, match="x must be one of"):
        compare_figure([("small", small)], x="wall")


def test_compare_legend_sits_below_the_toolbar_and_epoch_ticks_stay_readable():
    fig = compare_figure([("a", history(40, 2)), ("b", history(40, 2))])
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"  # under the panels, not under the toolbar
    for epochs, dtick in ((3, 1), (10, 1), (15, 2), (20, 2), (40, 5), (150, 20)):
        ticks = epoch_ticks(epochs)
        assert ticks["dtick"] == dtick and ticks["tickangle"] == 0 and epochs / dtick <= 10
    spec = epoch_spec(history(40, 16))
    assert spec["layout"]["xaxis"]["dtick"] == 2 and spec["layout"]["xaxis"]["tickangle"] == 0


# -- the live view's loss curve: read incrementally, bounded in size -------------------------------


def test_live_loss_curve_agrees_with_smooth_at_every_kept_point_and_stays_bounded():
    from nnplay.figures.train import LiveLossCurve

    h = history(n_steps=50_000, n_epochs=5)
    h.steps[100] = StepEvent(101, 1, float("nan"), 0.1)  # a NaN passes through as in ``smooth``
    curve = LiveLossCurve(0.9, max_points=300)
    for end in (1, 7, 999, 20_000, 50_000):  # as bursts arrive: the curve reads only what is new
        curve.update(h.steps[:end])
        assert curve.seen == end
    xs, raw, sm = curve.points()
    assert 300 <= len(xs) <= 601 and xs[-1] == 50_000 and xs[0] == 1  # bounded; first and newest step drawn
    assert all(b - a == curve.stride for a, b in zip(xs[:-2], xs[1:-1]))  # one step every stride
    full = smooth([s.loss for s in h.steps], 0.9)
    by_step = {s.step: (s.loss, v) for s, v in zip(h.steps, full)}
    for x, r, s in zip(xs, raw, sm):
        if math.isfinite(r):
            assert r == by_step[x][0] and s == pytest.approx(by_step[x][1], rel=1e-12)
    assert curve.highest == 2.3


def test_live_loss_spec_reads_each_step_once_and_restarts_on_a_new_smoothing():
    from nnplay.figures import train as ft

    h = history(n_steps=12_000)
    spec = ft.live_loss_spec(h, 0.6)
    raw, smoothed = spec["data"]
    assert len(raw["x"]) <= 2 * ft.LIVE_POINTS + 1 and raw["x"][-1] == 12_000
    curve = ft._live_curves[h]
    assert curve.seen == 12_000
    h(StepEvent(12_001, 2, 0.01, 0.1))
    spec = ft.live_loss_spec(h, 0.6)
    assert ft._live_curves[h] is curve and curve.seen == 12_001 and spec["data"][0]["x"][-1] == 12_001
    assert f"1 in {curve.stride:,} steps drawn" in spec["layout"]["title"]["text"] and curve.stride > 1
    assert "drawn" not in ft.live_loss_spec(history(n_steps=50), 0.6)["layout"]["title"]["text"]
    spec = ft.live_loss_spec(h, 0.0)  # another smoothing: read again from the start
    assert ft._live_curves[h] is not curve and list(spec["data"][1]["y"]) == list(spec["data"][0]["y"])
    assert "0.6" not in spec["data"][1]["name"]


def test_the_loss_axis_spans_what_has_been_trained_not_the_whole_run():
    h = history(0, 10)  # 10 epochs planned
    h.start = RunStart(10, 40, 4000, 1000, 7850, "CPU")  # 400 steps in all
    for i in range(1, 7):  # six steps taken one at a time
        h(StepEvent(i, 1, 2.3 - i / 10, 0.1))
    x_range = loss_spec(h, 0.6)["layout"]["xaxis"]["range"]
    assert 6 <= x_range[1] <= 10  # six points fill the chart, not 6/400 of it
    grown = [x_range[1]]
    for i in range(7, 401):
        h(StepEvent(i, 1 + (i - 1) // 40, 1.0, 0.1))
        grown.append(loss_spec(h, 0.6)["layout"]["xaxis"]["range"][1])
    assert grown == sorted(grown) and grown[-1] == 400  # it grows with the run, up to the whole run
    assert len(set(grown)) <= 25  # in rare jumps: the live view mostly redraws the curves only


def test_the_live_view_says_where_the_speed_is_set_after_a_quick_run(tiny_data):
    from nnplay.config import DataConfig
    from nnplay.figures.train import SPEED_HINT, live_view_content
    from nnplay.runs import Run

    cfg = TrainConfig(epochs=1, batch_size=100, lr=0.01, log_every=1)
    run = Run("quick", DataConfig(), ModelConfig(hidden=(32,)), cfg)
    run.history = train(seeded_model(ModelConfig(hidden=(32,)), 0), tiny_data, cfg).history
    run.status = "finished"  # over in a second or two: before one could watch it
    assert "Speed under Start" in SPEED_HINT
    caption = live_view_content(run, {})["caption"]
    assert caption.startswith(SPEED_HINT) and len(SPEED_HINT) <= 80  # first: the caption is one line, cut at the right
    assert "Epoch training times" in caption
    run.history.epochs[0].seconds = 600.0  # a long run: nothing to point to
    assert SPEED_HINT not in live_view_content(run, {})["caption"]


def test_an_empty_compare_chart_has_sensible_axes():
    # the Activations page's race right after Start: the runs exist, no step has been reported yet
    layout = compare_figure([("A", History()), ("B", History())]).layout
    assert list(layout.yaxis2.range) == [0, 1]  # accuracy from 0% to 100%, not "−100% to 400%"
    assert list(layout.xaxis2.range) == [0, 1] and list(layout.xaxis.range) == [0, 10]
    assert list(layout.yaxis.range) == [0, 2.5]
    half = history(20, 0)  # steps, no epoch yet: the loss panel fits its data, the accuracy one stays 0–100%
    layout = compare_figure([("A", half)]).layout
    assert layout.xaxis.range is None and list(layout.yaxis2.range) == [0, 1]
    assert compare_figure([("A", history(20, 2))]).layout.yaxis2.range is None  # data: it fits
