"""Tests for ``nnplay.figures.layout``: nothing a figure shows above its plot sits under Plotly's toolbar.

What lives here: every public figure builder of ``nnplay.figures`` goes through ``clear_of_toolbar``; the
figures a new user found covered (Train's loss and per-epoch legends and first-layer title, Inspect's
confusion-matrix axis title and mistake captions, Experiments' accuracy title) keep the top
``TOOLBAR_PX`` of their figure empty, read through ``fig.layout``; the band is added once and not at all
to a figure with nothing above its plot. What does not live here: the pictures (``test_network_view``).
"""

from __future__ import annotations

import importlib
import inspect as pyinspect
import pkgutil

import numpy as np
import plotly.graph_objects as go
import pytest

import nnplay.figures
from nnplay.config import ModelConfig
from nnplay.engine import seeded_model
from nnplay.figures import experiments as fx
from nnplay.figures import inspect as fi
from nnplay.figures.layout import TITLE_LINE_PX, TOOLBAR_PX, clear_of_toolbar
from nnplay.figures.network import first_layer_figure
from nnplay.figures.train import epoch_spec, loss_spec
from tests.test_figures_train import history

LEGEND_ROW_PX = 22  # one row of a horizontal legend
TOP_AXIS_PX = 45  # tick labels and a title of an x axis on top


def _builders():
    for info in pkgutil.iter_modules(nnplay.figures.__path__):
        module = importlib.import_module(f"nnplay.figures.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("_") or not pyinspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            returns = str(fn.__annotations__.get("return", ""))
            if "Figure" in returns or (name.endswith("_spec") and name != "plain_spec"):
                yield f"{info.name}.{name}", fn


def test_every_figure_builder_clears_the_toolbar():
    builders = dict(_builders())
    assert len(builders) > 20  # the search found the builders
    assert [name for name, fn in builders.items() if not getattr(fn, "clears_toolbar", False)] == []


def _layout(figure) -> dict:
    return figure.layout.to_plotly_json() if isinstance(figure, go.Figure) else figure["layout"]


def _content_above_plot(layout: dict) -> int:
    """How far above the plot its title, top legend, top axis and subplot titles reach (px, estimated)."""
    reach = 0
    title = layout.get("title") or {}
    if title.get("text"):
        assert title.get("yref") == "paper" and title.get("yanchor") == "bottom"  # pinned to the plot
        reach = max(reach, title["pad"]["b"] + TITLE_LINE_PX * (title["text"].count("<br>") + 1))
    legend = layout.get("legend") or {}
    if legend and legend.get("y", 1) >= 1 and layout.get("showlegend") is not False:
        reach = max(reach, LEGEND_ROW_PX)
    if any(v.get("side") == "top" for k, v in layout.items() if k.startswith("xaxis")):
        reach = max(reach, TOP_AXIS_PX)
    for note in layout.get("annotations") or ():
        if note.get("yref", "y").startswith("paper") and note.get("y", 0) >= 1:
            reach = max(reach, TITLE_LINE_PX * (note.get("text", "").count("<br>") + 1))
    return reach


def _assert_clear(figure) -> None:
    layout = _layout(figure)
    top = layout["margin"]["t"]
    assert top - _content_above_plot(layout) >= TOOLBAR_PX, layout.get("title")


def _runs():
    from nnplay.config import DataConfig, TrainConfig
    from nnplay.runs import Run

    runs = []
    for i in range(2):
        run = Run(f"lr {i}", DataConfig(), ModelConfig(), TrainConfig())
        run.history = history(20, 2)
        runs.append(run)
    return runs


@pytest.fixture(scope="module")
def mlp():
    return seeded_model(ModelConfig(hidden=(32,)), 0)


def test_train_figures_keep_their_legends_and_titles_clear(mlp):
    h = history(20, 2)
    _assert_clear(loss_spec(h))  # the legend at the top right, beside the title
    _assert_clear(epoch_spec(h))
    _assert_clear(first_layer_figure(mlp))  # the first-layer picture's title (two lines)


def test_inspect_figures_keep_their_axis_title_and_captions_clear():
    cm = np.arange(100).reshape(10, 10)
    confusion = fi.confusion_figure(cm, [str(c) for c in range(10)])
    assert confusion.layout.xaxis.side == "top"
    _assert_clear(confusion)
    images = np.zeros((6, 28, 28), dtype=np.uint8)
    grid = fi.image_grid_figure(images, [f"#{i}: 3 90%<br>true 5: 4%" for i in range(6)], [True] * 6)
    _assert_clear(grid)  # the right-most captions of the first row


def test_experiments_figures_keep_their_titles_clear():
    runs = _runs()
    _assert_clear(fx.accuracy_figure(runs))
    _assert_clear(fx.study_loss_figure(runs))


def test_a_title_sits_above_subplot_titles(mlp):
    from nnplay.figures.network import neuron_figure

    images = np.zeros((20, 28, 28), dtype=np.uint8)
    layout = neuron_figure(mlp, 1, 0, images).layout.to_plotly_json()
    highest = max(TITLE_LINE_PX * (a["text"].count("<br>") + 1) for a in layout["annotations"]
                  if a.get("yref", "").startswith("paper") and a.get("y", 0) >= 1)
    assert layout["title"]["pad"]["b"] >= highest  # "hidden 1 · neuron 0" over "the 9 test images…"
    _assert_clear(neuron_figure(mlp, 1, 0, images))


def test_the_band_is_added_once_and_only_above_something():
    spec = loss_spec(history(20, 2))
    before = (spec["layout"]["margin"]["t"], spec["layout"]["height"])
    assert clear_of_toolbar(spec)["layout"]["margin"]["t"] == before[0]  # twice: once
    plain = {"data": [{"type": "heatmap", "z": [[1]]}], "layout": {"margin": {"t": 5}, "height": 100}}
    assert clear_of_toolbar(plain)["layout"] == {"margin": {"t": 5}, "height": 100}
    titled = clear_of_toolbar({"data": [], "layout": {"title": "hi", "margin": {"t": 40}, "height": 200}})
    assert titled["layout"]["margin"]["t"] == 40 + TOOLBAR_PX and titled["layout"]["height"] == 200 + TOOLBAR_PX


def test_a_legend_below_the_plot_leaves_the_axis_title_alone():
    layout = fx.accuracy_figure(_runs()).layout
    assert layout.legend.yanchor == "top" and layout.legend.y <= -0.25  # under "epoch", not on it
