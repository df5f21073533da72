"""Figures for the Experiments page: a study's runs overlaid on shared axes, and the range test. Headless.

What lives here: pure functions from runs (their ``History``) or a range test's numbers to
``go.Figure``s that tests read through ``fig.data``:
- ``study_loss_figure``: every run's training loss against epochs (images seen ÷ training images),
  averaged into at most ``max_points`` bins per run so a batch-10 run stays light to redraw;
- ``accuracy_figure``: test (solid) and train (dotted) accuracy after each epoch;
- ``time_figure``: each run's training and evaluation time, as bars;
- ``range_test_figure``: smoothed loss against a log-scaled learning rate, the suggestion marked.
Each run keeps one colour across the figures (``run_color``). Every figure sets ``uirevision`` so
zoom survives the live redraws. What does not live here: widgets, training, the studies.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative

from ..runs import Run
from .layout import clears_toolbar

PALETTE = qualitative.D3
SUGGESTION = "#d62728"


def run_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _layout(fig: go.Figure, title: str, x: str, y: str, revision: str, height: int = 380,
            hovermode: str = "x unified") -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, uirevision=revision, height=height,
                      # the legend below the x axis's title, not over it
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.3, yanchor="top"),
                      hovermode=hovermode)
    return fig


def binned(xs: Sequence[float], ys: Sequence[float], max_points: int) -> tuple[list[float], list[float]]:
    """Average consecutive points into at most ``max_points`` bins (x and y alike)."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    out_x, out_y = [], []
    for b in range(max_points):
        lo, hi = b * n // max_points, (b + 1) * n // max_points
        out_x.append(sum(xs[lo:hi]) / (hi - lo))
        out_y.append(sum(ys[lo:hi]) / (hi - lo))
    return out_x, out_y


def loss_curve(run: Run, max_points: int = 200) -> tuple[list[float], list[float]]:
    """(epochs, loss) of a run's reported steps; x = step ÷ steps per epoch, so 1.0 is one pass."""
    start = run.history.start
    steps = list(run.history.steps)  # a copy: the training thread may append meanwhile
    if start is None or not steps:
        return [], []
    per_epoch = max(start.steps_per_epoch, 1)
    return binned([s.step / per_epoch for s in steps], [s.loss for s in steps], max_points)


@clears_toolbar
def study_loss_figure(runs: Sequence[Run], log_y: bool = True, max_points: int = 200,
                      revision: str = "loss") -> go.Figure:
    """One line per run: training loss (batch means, binned) against epochs, on shared axes."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        x, y = loss_curve(run, max_points)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=run.name, line=dict(color=run_color(i), width=2),
                                 legendgroup=run.name))
    if log_y:
        fig.update_yaxes(type="log", dtick=1)  # one tick per decade: 1, 10, 100, 1000
    else:
        fig.update_yaxes(type="linear")
    return _layout(fig, "Training loss", "epochs", "cross-entropy loss" + (" (log scale)" if log_y else ""),
                   revision)


@clears_toolbar
def accuracy_figure(runs: Sequence[Run], revision: str = "accuracy") -> go.Figure:
    """Per run: test accuracy after each epoch (solid, markers) and train accuracy (dotted)."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        epochs = list(run.history.epochs)
        x = [e.epoch for e in epochs]
        color = run_color(i)
        fig.add_trace(go.Scatter(x=x, y=[e.test_accuracy for e in epochs], mode="lines+markers",
                                 name=f"{run.name} test", legendgroup=run.name, line=dict(color=color, width=2)))
        fig.add_trace(go.Scatter(x=x, y=[e.train_accuracy for e in epochs], mode="lines",
                                 name=f"{run.name} train", legendgroup=run.name,
                                 line=dict(color=color, width=1.5, dash="dot")))
    fig.update_xaxes(dtick=1 if max((len(r.history.epochs) for r in runs), default=0) <= 10 else None)
    return _layout(fig, "Accuracy after each epoch (solid: test, dotted: train)", "epoch", "accuracy", revision)


@clears_toolbar
def time_figure(runs: Sequence[Run], revision: str = "time") -> go.Figure:
    """Stacked bars per run: seconds of training steps and of evaluation, the total written on top."""
    names = [run.name for run in runs]
    train_s = [sum(e.seconds for e in run.history.epochs) for run in runs]
    eval_s = [sum(e.eval_seconds for e in run.history.epochs) for run in runs]
    fig = go.Figure([
        go.Bar(x=names, y=train_s, name="training", marker_color=[run_color(i) for i in range(len(runs))]),
        go.Bar(x=names, y=eval_s, name="evaluation", marker_color="#9aa5b1",
               text=[f"{t + e:.1f} s" for t, e in zip(train_s, eval_s)], textposition="outside"),
    ])
    fig.update_layout(barmode="stack", showlegend=True)
    return _layout(fig, "Time of the finished epochs", "", "seconds", revision)


@clears_toolbar
def range_test_figure(lrs: Sequence[float], losses: Sequence[float], suggested_lr: float | None,
                      revision: str = "range") -> go.Figure:
    """Smoothed loss against the learning rate (log x), the suggested rate as a dashed vertical line."""
    fig = go.Figure(go.Scatter(x=list(lrs), y=list(losses), mode="lines", name="smoothed loss",
                               line=dict(color=run_color(0), width=2)))
    if suggested_lr is not None and losses:
        lo, hi = min(losses), max(losses)
        fig.add_trace(go.Scatter(x=[suggested_lr, suggested_lr], y=[lo, hi], mode="lines",
                                 name=f"suggested {suggested_lr:.2g}",
                                 line=dict(color=SUGGESTION, dash="dash", width=2)))
        at = min(range(len(lrs)), key=lambda i: abs(lrs[i] - suggested_lr))
        fig.add_trace(go.Scatter(x=[lrs[at]], y=[losses[at]], mode="markers", showlegend=False,
                                 name="suggested point", marker=dict(color=SUGGESTION, size=10)))
    fig.update_xaxes(type="log")
    return _layout(fig, "Learning-rate range test", "learning rate (log scale)", "smoothed training loss",
                   revision, height=400, hovermode="closest")
