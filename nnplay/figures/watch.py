"""Watch it learn: the Train page's live view with the network's pictures, redrawn as the run trains.

What lives here (headless, no streamlit):
- ``probe_spec``: the 16 probe digits (``nnplay.lessons.neurons.probe_set``) in one picture, each
  labelled with the model's answer and its probability (wrong ones red, ✗); one heatmap and 16
  annotations, so a refresh is cheap to build (no subplots, no validation) and to draw;
- ``first_layer_spec`` and ``network_spec``: ``figures.network.first_layer_figure`` and
  ``network_figure`` (or ``cnn_figure``) as plain specs for the live view (no template, numbers rounded);
- ``watch_figures(model, probes)``: those three as JSON, in that order;
- ``watch_is_cheap(model_cfg)``: whether watching is on by default for a model.
Every watch figure says ``layout.meta.heavy``. While a run trains at full speed (the snapshot's ``busy``),
the live view redraws such figures at most every 25× the time their last drawing took (``live_run.js``'s
HEAVY_REST), so that drawing them in a browser on the training machine takes ~4% of a core
(``scripts/bench_train_page.py``); a fast machine still redraws them every second. Paused, stepped or
slowed, they are redrawn after every change.
What does not live here: the numbers (``lessons.neurons``), the pictures' builders (``figures.network``),
the loss charts (``figures.train``), the renderer that rebuilds these figures as a run learns
(``runs.live_view.WatchView``), the widgets (``ui.watch``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from plotly.colors import get_colorscale
from torch import nn

from ..config import ModelConfig
from ..lessons.neurons import Probes, probe_predictions
from ..models import layer_table
from .inspect import RIGHT, WRONG, tile
from .layout import TOOLBAR_PX, clears_toolbar
from .network import first_layer_figure, network_figure
from .train import figure_json

WATCH_MAX_PARAMETERS = 5_000_000
"""Watching is on by default up to this many parameters: a copy of the weights a second stays a few ms."""
PROBE_COLUMNS = 8
PROBE_GAP = 12  # pixels between two probe digits; the label sits in the gap above each
WATCH_FIGURES = ("probe digits", "first layer", "network")
GREYS = get_colorscale("gray")  # black to white, as plotly.js reads it (it knows no "gray")


def watch_is_cheap(model_cfg: ModelConfig) -> bool:
    """Whether watching a run of this model learn is on by default (its weights are cheap to copy and draw)."""
    return sum(r.params for r in layer_table(model_cfg)) <= WATCH_MAX_PARAMETERS


def plain_spec(fig, uirevision: str | int | None = None, wide: bool = False, heavy: bool = True) -> dict:
    """A plotly figure as a live-view spec: no template (the view applies the app's theme), heatmaps'
    numbers as float32 (plotly's base64 typed arrays: half the text), the user's zoom kept across
    refreshes (``uirevision``), and ``layout.meta.heavy`` (see the module's docstring). Also what
    ``ui.plotly_figure`` draws (``heavy=False``): plotly.js reads the same specs."""
    spec = fig.to_plotly_json()
    layout = spec.get("layout", {})
    layout.pop("template", None)
    if isinstance(layout.get("title"), str):  # plotly.js 3 reads a title's text from {"text": ...} only
        layout["title"] = {"text": layout["title"]}
    for trace, source in zip(spec.get("data", []), fig.data):
        for holder in (trace, trace.get("marker") or {}):  # Python's names ("gray", "RdBu_r") mean nothing to plotly.js
            if isinstance(holder.get("colorscale"), str):
                holder["colorscale"] = get_colorscale(holder["colorscale"])
        if trace.get("type") == "heatmap" and source.z is not None:
            trace["z"] = _typed_array(np.asarray(source.z, dtype=np.float32))
    if uirevision is not None:
        layout["uirevision"] = uirevision
    meta = layout.get("meta") if isinstance(layout.get("meta"), dict) else {}
    layout["meta"] = {**meta, "wide": wide, "heavy": heavy}
    spec["layout"] = layout
    return spec


def _typed_array(values: np.ndarray) -> dict:
    """A float32 array as plotly.js's typed-array spec (base64 of its bytes)."""
    import base64

    values = np.ascontiguousarray(values, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(values.tobytes()).decode("ascii"),
            "shape": ", ".join(map(str, values.shape))}


def typed_array_values(spec) -> np.ndarray:
    """The numbers of a typed-array spec (or of a plain list), as numpy (for tests and readers of the JSON)."""
    import base64

    if isinstance(spec, dict) and "bdata" in spec:
        values = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
        shape = tuple(int(n) for n in str(spec.get("shape", len(values))).split(","))
        return values.reshape(shape)
    return np.asarray(spec, dtype=np.float64)


_GRIDS: dict[int, tuple[np.ndarray, list, tuple[int, int]]] = {}  # id(images) → (images, cells, shape)


def _probe_grid(images: np.ndarray) -> tuple[list, tuple[int, int]]:
    """The probe digits side by side as heatmap cells (ints, None in the gaps) and their shape; made once per
    probe set (the images never change, the live view redraws their labels only)."""
    hit = _GRIDS.get(id(images))
    if hit is not None and hit[0] is images:
        return hit[1], hit[2]
    grid = tile(np.asarray(images, dtype=np.float32), PROBE_COLUMNS, gap=PROBE_GAP)
    band = np.full((PROBE_GAP, grid.shape[1]), np.nan, dtype=np.float32)  # room for the first row's labels
    z = np.vstack([band, grid])
    cells = np.where(np.isnan(z), None, np.nan_to_num(z).round().astype(np.int16).astype(object)).tolist()
    if len(_GRIDS) >= 4:
        _GRIDS.pop(next(iter(_GRIDS)))
    _GRIDS[id(images)] = (images, cells, z.shape)  # the reference kept: the id is not reused meanwhile
    return cells, z.shape


@clears_toolbar
def probe_spec(model: nn.Module, probes: Probes, classes: Sequence[str] | None = None,
               uirevision: str | int | None = None) -> dict:
    """The probe digits with the model's answers: one grey heatmap of the digits side by side (8 a row)
    and above each "answer probability" (red with ✗ when wrong, "(hard)" digits marked ·).

    ``layout.meta`` holds ``predicted``, ``probability`` and ``labels`` (what the tests compare with
    ``probe_predictions``)."""
    classes = [str(c) for c in (classes or range(10))]
    predicted, probability = probe_predictions(model, probes)
    n = len(probes.images)
    step = 28 + PROBE_GAP
    rows = (n + PROBE_COLUMNS - 1) // PROBE_COLUMNS
    z_cells, (height, width) = _probe_grid(probes.images)
    notes, right = [], 0
    for i in range(n):
        r, c = divmod(i, PROBE_COLUMNS)
        ok = int(predicted[i]) == int(probes.labels[i])
        right += ok
        hard = "·" if probes.kinds[i] == "hard" else ""
        notes.append(dict(x=c * step + 13.5, y=r * step + PROBE_GAP - 1, xref="x", yref="y", showarrow=False,
                          yanchor="bottom", text=f"{'' if ok else '✗ '}{classes[int(predicted[i])]} "
                                                 f"{probability[i]:.0%}{hard}",
                          font=dict(size=12, color=RIGHT if ok else WRONG)))
    trace = dict(type="heatmap", z=z_cells, colorscale=GREYS, zmin=0, zmax=255, showscale=False,
                 name="probe digits",
                 hoverongaps=False, hoverinfo="skip")
    layout = dict(
        title=dict(text=f"Probe digits: {right} of {n} right (· hard ones)"),
        xaxis=dict(visible=False, range=[-0.5, width - 0.5], fixedrange=True),
        yaxis=dict(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", fixedrange=True),
        annotations=notes, height=70 + 60 * rows, margin=dict(l=5, r=5, t=40, b=5), showlegend=False,
        meta=dict(predicted=predicted.tolist(), probability=[float(p) for p in probability],
                  labels=[int(y) for y in probes.labels], wide=False, heavy=True))
    if uirevision is not None:
        layout["uirevision"] = uirevision
    return dict(data=[trace], layout=layout)


@clears_toolbar
def first_layer_spec(model: nn.Module, n: int = 16, uirevision: str | int | None = None,
                     start: nn.Module | None = None) -> dict:
    """``first_layer_figure`` (16 MLP neurons' weights as 28×28 images, minus their random ``start`` when known:
    raw weights look like noise after a short training; or a CNN's first filters) as a spec."""
    spec = plain_spec(first_layer_figure(model, n, start=start), uirevision)
    band = TOOLBAR_PX if spec["layout"]["meta"].get("toolbar_clear") else 0  # the toolbar's band comes on top
    spec["layout"]["height"] = min(spec["layout"].get("height") or 300, 300 + band)
    return spec


@clears_toolbar
def network_spec(model: nn.Module, uirevision: str | int | None = None, height: int = 440, image_u8=None,
                 page: int = 0, classes: Sequence[str] | None = None) -> dict:
    """``network_figure`` of the model (an MLP's neurons and strongest weights, a CNN's stages), as a spec that
    spans the view's width: the weights alone (neurons coloured by their bias), or ``image_u8`` flowing
    through it (neurons coloured by their activation); ``page``: which page of a wide layer's neurons."""
    return plain_spec(network_figure(model, image_u8, page=page, classes=classes, height=height), uirevision,
                       wide=True)


def watch_figures(model: nn.Module, probes: Probes, classes: Sequence[str] | None = None,
                  uirevision: str | int | None = None, probe: int | None = None, page: int = 0,
                  start: nn.Module | None = None) -> list[str]:
    """The probe panel, the first layer and the network view of ``model`` as JSON (``WATCH_FIGURES``' order).

    ``probe``: the probe digit (0–15) the network view runs through the model, None for the weights alone;
    ``page``: the page of a wide layer's neurons it shows; ``start``: the model before training (the first layer
    then shows what training changed)."""
    image = probes.images[probe] if probe is not None else None
    return [figure_json(probe_spec(model, probes, classes, uirevision)),
            figure_json(first_layer_spec(model, uirevision=uirevision, start=start)),
            figure_json(network_spec(model, uirevision, image_u8=image, page=page, classes=classes))]
