"""Figures for the Published results page: the papers' figures redrawn on the papers' axes from nnplay's own
probes (``nnplay.papers.studies`` results, plain dicts). Headless.

- ``glorot_figure``: one variant's activation value (mean, with the std as bars) of each hidden layer against
  training steps (Glorot & Bengio 2010, Fig. 2);
- ``ioffe_accuracy_figure``: test accuracy against training steps, with and without batch norm (Ioffe & Szegedy
  2015, Fig. 1a); ``ioffe_percentile_figure``: the 15th, 50th and 85th percentiles of one sigmoid's input
  against steps, for one variant (Fig. 1b, c);
- ``he_figure``: error against training steps, Xavier and He init (He et al. 2015, Fig. 3);
- ``smith_figure``: the sweep's test accuracy against the learning rate (log x), the range test's suggestion and
  the sweep's best marked (Smith 2017's accuracy against rate); the range test's own curve is
  ``nnplay.figures.experiments.range_test_figure``.
What does not live here: training, widgets, the words about the papers' pictures (``nnplay.papers.rows``).
"""

from __future__ import annotations

import plotly.graph_objects as go

from .experiments import SUGGESTION, _layout, run_color
from .layout import clears_toolbar


def _layers(records: dict) -> list[str]:
    return list(records.get("layers", {}))


@clears_toolbar
def glorot_figure(result: dict, variant: str, revision: str = "glorot") -> go.Figure:
    """Each hidden layer's mean activation over the probe images, the std as error bars, against steps."""
    records = result["variants"][variant]
    fig = go.Figure()
    for i, name in enumerate(_layers(records)):
        stats = records["layers"][name]
        fig.add_trace(go.Scatter(x=records["steps"], y=stats["mean"], mode="lines+markers", name=f"layer {i + 1}",
                                 error_y=dict(type="data", array=stats["std"], visible=True, thickness=1),
                                 line=dict(color=run_color(i), width=2), marker=dict(size=4)))
    return _layout(fig, f"Activation values per hidden layer: {variant}", "training steps",
                   "activation value (mean ± std)", revision, hovermode="closest")


@clears_toolbar
def ioffe_accuracy_figure(result: dict, revision: str = "ioffe-accuracy") -> go.Figure:
    """Test accuracy on the probe images against training steps, one line per variant."""
    fig = go.Figure()
    for i, (name, records) in enumerate(result["variants"].items()):
        fig.add_trace(go.Scatter(x=records["steps"], y=records["accuracy"], mode="lines", name=name,
                                 line=dict(color=run_color(i), width=2)))
    return _layout(fig, "Test accuracy", "training steps", "test accuracy", revision)


@clears_toolbar
def ioffe_percentile_figure(result: dict, variant: str, revision: str = "ioffe-percentiles") -> go.Figure:
    """The 15th, 50th and 85th percentiles of one last-layer sigmoid's input over the probe images, against steps."""
    records = result["variants"][variant]
    stats = records["layers"][result.get("layer") or _layers(records)[-1]]
    fig = go.Figure()
    for p, dash in ((85, "dot"), (50, "solid"), (15, "dot")):
        fig.add_trace(go.Scatter(x=records["steps"], y=stats[f"input_p{p}"], mode="lines", name=f"{p}th percentile",
                                 line=dict(color=run_color(0 if p == 50 else 1), width=2, dash=dash)))
    return _layout(fig, f"One sigmoid's input: {variant}", "training steps", "input to the sigmoid", revision)


@clears_toolbar
def he_figure(result: dict, revision: str = "he") -> go.Figure:
    """Error on the probe images against training steps, one line per init."""
    fig = go.Figure()
    for i, (name, records) in enumerate(result["variants"].items()):
        fig.add_trace(go.Scatter(x=records["steps"], y=[1.0 - a for a in records["accuracy"]], mode="lines",
                                 name=name, line=dict(color=run_color(i), width=2)))
    fig.update_yaxes(range=[0, 1])
    return _layout(fig, "Error of a 20-layer ReLU network", "training steps", "test error", revision)


@clears_toolbar
def smith_figure(result: dict, revision: str = "smith") -> go.Figure:
    """The sweep's test accuracy against the learning rate (log x); the range test's suggestion and the sweep's
    best as dashed vertical lines."""
    sweep = [s for s in result["sweep"] if s["accuracy"] is not None]
    fig = go.Figure(go.Scatter(x=[s["lr"] for s in sweep], y=[s["accuracy"] for s in sweep], mode="lines+markers",
                               name="test accuracy after one pass", line=dict(color=run_color(0), width=2)))
    for value, name, color in ((result["range"]["suggested"], "range test's suggestion", SUGGESTION),
                               (result.get("best"), "sweep's best", run_color(2))):
        if value is not None:
            fig.add_trace(go.Scatter(x=[value, value], y=[0, 1], mode="lines", name=f"{name} {value:.2g}",
                                     line=dict(color=color, dash="dash", width=2)))
    fig.update_xaxes(type="log")
    fig.update_yaxes(range=[0, 1])
    return _layout(fig, "Accuracy against learning rate", "learning rate (log scale)", "test accuracy", revision,
                   hovermode="closest")
