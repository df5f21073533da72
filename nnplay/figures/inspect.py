"""Figures and small computations for the Inspect and Draw pages: plotly, headless.

What lives here: pure functions from a model (or its run history, or its test predictions) to
numbers and ``go.Figure``s that tests can read through ``fig.data``:
- first-layer weights of an MLP as 28×28 images, or what training changed in them (``unit_weights``,
  ``unit_weights_figure``); every picture of weights or maps scaled to its own max (``scaled_to_own_max``);
- CNN filters (``conv_filters_figure``) and feature maps of one image (``feature_maps``,
  ``feature_maps_figure``);
- per-layer histograms of weights or gradients at one epoch (``histogram_figure``);
- a few training images as the network saw them, distorted as the run's augmentation says (``augmented_figure``);
- seed 000's 5×5 "Pred / Label" grid (``prediction_grid_figure``), drawn from all test images or the
  mistakes only (``sample_pool``, ``random_indices``);
- the confusion matrix, per-class accuracy and the images of one cell (``confusion_matrix``,
  ``per_class_accuracy``, ``cell_indices``, ``confusion_figure``), each image titled with the
  probability of the predicted class and of the true one (``cell_titles``);
- the Draw page's ten probability bars (``probability_bars_html``).
What does not live here: widgets and layout (``pages/inspect.py``, ``pages/draw.py``), training,
the drawing's preprocessing (``nnplay.lessons.draw``). No streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from ..data import normalise
from ..engine import LayerStats
from ..models import evaluating, weight_layers
from .layout import clears_toolbar

WRONG = "#d62728"
RIGHT = "#2ca02c"
ACCENT = "#1f77b4"
MUTED = "#9aa5b1"


# ---------------------------------------------------------------------------------------------
# tiling: many small images in one heatmap (one trace is far lighter than a subplot per image)


def tile(images: np.ndarray, columns: int, gap: int = 1, fill: float = np.nan) -> np.ndarray:
    """(N, h, w) → one (rows·(h+gap)-gap, columns·(w+gap)-gap) array, row-major, ``fill`` between."""
    n, h, w = images.shape
    rows = max(1, math.ceil(n / columns))
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = img
    return out


def scaled_to_own_max(stack: np.ndarray) -> np.ndarray:
    """Each (…, h, w) picture of ``stack`` divided by its own largest |value| (an all-zero one stays 0): the
    scale of every picture of weights, filters and feature maps (red +, blue −, from −1 to 1)."""
    scale = np.abs(stack).max(axis=(-2, -1), keepdims=True)
    return stack / np.where(scale > 0, scale, 1)


def _tiled_heatmap(tiled: np.ndarray, title: str, colorscale: str, zmid: float | None = None,
                   zmin: float | None = None, zmax: float | None = None, px: int = 4) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=tiled, colorscale=colorscale, zmid=zmid, zmin=zmin, zmax=zmax,
                               showscale=zmid is not None, hoverongaps=False))
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False, constrain="domain")
    h, w = tiled.shape
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=55 if "<br>" in title else 40, b=10),
                      height=min(900, max(220, h * px + 60)), plot_bgcolor="white")
    return fig


# ---------------------------------------------------------------------------------------------
# MLP: first-layer weights


def first_linear(model: nn.Module) -> tuple[str, nn.Linear] | None:
    """The first Linear layer if it reads the 784 pixels directly (an MLP), else None."""
    layers = weight_layers(model)
    if not layers or not isinstance(layers[0][1], nn.Linear):
        return None
    name, module = layers[0]
    return (name, module) if module.in_features == 28 * 28 else None


def unit_weights(model: nn.Module) -> np.ndarray:
    """Every first-layer unit's incoming weights as a 28×28 image: float32 (units, 28, 28)."""
    found = first_linear(model)
    if found is None:
        raise ValueError("this model's first weight layer does not read the 784 pixels (is it a CNN?).")
    return found[1].weight.detach().float().cpu().reshape(-1, 28, 28).numpy()


@clears_toolbar
def unit_weights_figure(model: nn.Module, max_units: int = 64, columns: int = 8,
                        start: nn.Module | None = None) -> go.Figure:
    """The first ``max_units`` units' weights in a grid; each unit scaled to its own largest
    |weight| so that its pattern shows (red +, blue −, white 0). With ``start`` (the same model as it was
    before training: ``engine.seeded_model`` of the run's config and seed), what training changed: each
    weight minus its random start, which a short training leaves buried under the start's noise."""
    w = unit_weights(model)[:max_units]
    if start is not None:
        w = w - unit_weights(start)[:max_units]
    w = scaled_to_own_max(w)
    name = first_linear(model)[0]
    # two lines: on one, the title was wider than the Train page's half-width picture and cut at both ends
    title = (f"{name}: what training changed in the first {len(w)} units<br>"
             "<sup>weights − their random start, each scaled to its own max</sup>" if start is not None else
             f"{name}: weights of the first {len(w)} units<br><sup>each scaled to its own max |w|</sup>")
    return _tiled_heatmap(tile(w, columns, gap=2), title, "RdBu_r", zmid=0.0, zmin=-1, zmax=1)


def sample_pool(predictions: np.ndarray, labels: np.ndarray, mistakes_only: bool = False) -> np.ndarray:
    """The test images a random sample is drawn from: all of them, or only those the model got wrong."""
    return np.flatnonzero(np.asarray(predictions) != np.asarray(labels)) if mistakes_only else np.arange(len(labels))


# ---------------------------------------------------------------------------------------------
# CNN: filters and feature maps


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """The model's convolutional layers in forward order, by name."""
    return weight_layers(model, nn.Conv2d)


@clears_toolbar
def conv_filters_figure(model: nn.Module, layer: str | None = None, max_out: int = 32,
                        max_in: int = 8) -> go.Figure:
    """A conv layer's kernels: one row per output channel (up to ``max_out``), one column per
    input channel (up to ``max_in``), each kernel scaled to its own largest |weight|."""
    convs = dict(conv_layers(model))
    if not convs:
        raise ValueError("this model has no convolutional layers.")
    name = layer or next(iter(convs))
    w = convs[name].weight.detach().float().cpu().numpy()  # (out, in, k, k)
    out_c, in_c = min(max_out, w.shape[0]), min(max_in, w.shape[1])
    w = scaled_to_own_max(w[:out_c, :in_c])
    if in_c == 1:  # first layer: lay the single-channel filters out in a square-ish grid
        columns = min(8, out_c)
        flat = w[:, 0]
    else:
        columns = in_c
        flat = w.reshape(out_c * in_c, *w.shape[2:])
    title = (f"{name}: {w.shape[0]} of {convs[name].out_channels} filters"
             + (f" × {in_c} of {convs[name].in_channels} input channels" if in_c > 1 else ""))
    return _tiled_heatmap(tile(flat, columns, gap=1), title, "RdBu_r", zmid=0.0, zmin=-1, zmax=1, px=12)


def feature_maps(model: nn.Module, image_u8: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
    """The output (C, H, W) of every conv, activation and pool child of a Sequential CNN for one
    uint8 (28, 28) image, in order, keyed by child name. Eval mode, no autograd."""
    device = next(model.parameters()).device
    x = normalise(torch.as_tensor(np.array(image_u8), dtype=torch.uint8).reshape(1, 28, 28)).to(device)
    maps: dict[str, np.ndarray] = {}
    with evaluating(model), torch.inference_mode():
        for name, module in model.named_children():
            x = module(x)
            if x.dim() == 4:
                maps[name] = x[0].float().cpu().numpy()
            else:
                break
    return maps


@clears_toolbar
def feature_maps_figure(maps: dict[str, np.ndarray], layer: str, max_maps: int = 32, columns: int = 8) -> go.Figure:
    """The first ``max_maps`` channels of one layer's feature maps, each scaled to its own largest |value|
    (red +, blue −: the scale of the network view's maps and of the filters)."""
    m = scaled_to_own_max(maps[layer][:max_maps])
    c, h, w = maps[layer].shape
    return _tiled_heatmap(tile(m, min(columns, len(m)), gap=1), f"{layer}: {len(m)} of {c} maps, {h}×{w}",
                          "RdBu_r", zmid=0.0, zmin=-1, zmax=1, px=max(3, 84 // h))


# ---------------------------------------------------------------------------------------------
# weight and gradient histograms over training


def stats_epochs(layer_stats: Sequence[LayerStats]) -> list[int]:
    return sorted({s.epoch for s in layer_stats})


@clears_toolbar
def histogram_figure(layer_stats: Sequence[LayerStats], epoch: int, kind: str = "weight") -> go.Figure:
    """One histogram per weight layer at ``epoch``: ``kind`` "weight" or "grad" (the gradient of
    the epoch's last step). Empty panels say when a layer had no finite gradient."""
    if kind not in ("weight", "grad"):
        raise ValueError(f'kind must be "weight" or "grad", got {kind!r}.')
    rows = [s for s in layer_stats if s.epoch == epoch]
    if not rows:
        raise ValueError(f"no layer statistics for epoch {epoch}; recorded epochs: {stats_epochs(layer_stats)}.")
    fig = make_subplots(rows=1, cols=len(rows), subplot_titles=[s.layer for s in rows])
    for i, s in enumerate(rows, start=1):
        hist = s.weight_hist if kind == "weight" else s.grad_hist
        if not hist or not hist[0]:
            fig.add_trace(go.Bar(x=[], y=[], name=s.layer, showlegend=False), row=1, col=i)
            continue
        counts, edges = np.asarray(hist[0]), np.asarray(hist[1])
        centres = (edges[:-1] + edges[1:]) / 2
        std = s.weight_std if kind == "weight" else s.grad_std
        fig.add_trace(go.Bar(x=centres, y=counts, width=np.diff(edges), marker_color=ACCENT if kind == "weight" else "#ff7f0e",
                             name=s.layer, showlegend=False,
                             hovertemplate=f"{s.layer}<br>%{{x:.3g}}: %{{y}}<extra>std {std:.3g}</extra>"),
                      row=1, col=i)
    what = "weights" if kind == "weight" else "gradients (last step of the epoch)"
    fig.update_layout(title=f"{what}, epoch {epoch}", height=280, margin=dict(l=10, r=10, t=60, b=10), bargap=0)
    return fig


def stats_table(layer_stats: Sequence[LayerStats], epoch: int) -> list[dict]:
    """Mean / std / norm of weights and gradients per layer at ``epoch``, as table rows."""
    def fmt(v):
        return None if v is None else float(f"{v:.4g}")
    return [{"layer": s.layer, "weight mean": fmt(s.weight_mean), "weight std": fmt(s.weight_std),
             "weight norm": fmt(s.weight_norm), "grad mean": fmt(s.grad_mean), "grad std": fmt(s.grad_std),
             "grad norm": fmt(s.grad_norm)} for s in layer_stats if s.epoch == epoch]


# ---------------------------------------------------------------------------------------------
# predictions on test images


@clears_toolbar
def image_grid_figure(images: np.ndarray, titles: Sequence[str], wrong: Sequence[bool] | None = None,
                      columns: int = 5) -> go.Figure:
    """Small grey images in a grid with a title each; titles of ``wrong`` ones in red."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    wrong = list(wrong) if wrong is not None else [False] * n
    fig = make_subplots(rows=rows, cols=columns, horizontal_spacing=0.02, vertical_spacing=0.12 / rows * 3,
                        subplot_titles=[f"<b>✗ {t}</b>" if bad else t for t, bad in zip(titles, wrong)])
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        fig.add_trace(go.Heatmap(z=np.asarray(img), colorscale="gray", zmin=0, zmax=255, showscale=False,
                                 hovertemplate="(%{y}, %{x}): %{z}<extra></extra>"), row=r + 1, col=c + 1)
    for i, annotation in enumerate(fig.layout.annotations):
        annotation.font = dict(size=12, color=WRONG if wrong[i] else "#333")
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed")
    for i in range(n):
        fig.layout[f"yaxis{'' if i == 0 else i + 1}"].scaleanchor = f"x{'' if i == 0 else i + 1}"
    two_lines = any("<br>" in t for t in titles)  # room above the first row for a second title line
    fig.update_layout(height=max(200, 150 * rows + (15 if two_lines else 0)),
                      margin=dict(l=5, r=5, t=45 if two_lines else 30, b=5))
    return fig


@clears_toolbar
def augmented_figure(stack: np.ndarray, what: str) -> go.Figure:
    """Training images as the network saw them: one row per image, the image as it is in the first column and
    its random distortions after it (``nnplay.augment.examples``: uint8 (N, 1 + copies, 28, 28)); ``what``
    names the distortion in the title."""
    stack = np.asarray(stack)
    n, columns = stack.shape[:2]
    tiled = tile(stack.reshape(-1, *stack.shape[2:]).astype(np.float32), columns, gap=2, fill=128)
    fig = _tiled_heatmap(tiled, f"{what}: each row one training image, as it is, then {columns - 1} of its "
                         f"distortions", "gray", zmin=0, zmax=255, px=3)
    fig.update_layout(meta={"images": n, "copies": columns - 1})
    return fig


@clears_toolbar
def prediction_grid_figure(images: np.ndarray, predictions: Sequence[int], labels: Sequence[int],
                           classes: Sequence[str]) -> go.Figure:
    """Seed 000's test grid: each image titled "Pred: p / Label: l", the wrong ones in red."""
    titles = [f"Pred: {classes[int(p)]} / Label: {classes[int(y)]}" for p, y in zip(predictions, labels)]
    wrong = [int(p) != int(y) for p, y in zip(predictions, labels)]
    return image_grid_figure(np.asarray(images), titles, wrong)


def cell_titles(indices: Sequence[int], probabilities: np.ndarray, true_class: int, predicted_class: int,
                classes: Sequence[str]) -> list[str]:
    """Titles for a confusion cell's thumbnails: the test image's number, the probability the model gave
    the class it predicted and, for a mistake, the probability it gave the true class, e.g.
    "#18: 9 62%<br>true 4: 31%". ``probabilities`` is (N, classes), rows indexed by ``indices``."""
    pred, true = classes[predicted_class], classes[true_class]
    titles = []
    for k in indices:
        p = probabilities[int(k)]
        title = f"#{int(k)}: {pred} {p[predicted_class]:.0%}"
        if true_class != predicted_class:
            title += f"<br>true {true}: {p[true_class]:.0%}"
        titles.append(title)
    return titles


def random_indices(n_total: int, k: int = 25, seed: int = 0) -> np.ndarray:
    """``k`` distinct random indices into ``n_total`` images, reproducible from ``seed``."""
    return np.random.default_rng(seed).choice(n_total, size=min(k, n_total), replace=False)


# ---------------------------------------------------------------------------------------------
# confusion matrix


def confusion_matrix(labels, predictions, n_classes: int = 10) -> np.ndarray:
    """cm[i, j] = how many test images of true class i were predicted as j (int64)."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predictions, dtype=np.int64)
    return np.bincount(y * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall per true class: the diagonal over each row's total (NaN for a class with no images)."""
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / totals, np.nan)


def most_confused(cm: np.ndarray) -> tuple[int, int]:
    """(true, predicted) of the largest off-diagonal cell: the model's most common mistake."""
    off = np.array(cm, dtype=np.int64, copy=True)
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(int(off.argmax()), off.shape)
    return int(i), int(j)


def cell_indices(labels, predictions, true_class: int, predicted_class: int) -> np.ndarray:
    """Indices of the images of true class ``true_class`` predicted as ``predicted_class``."""
    y = np.asarray(labels)
    p = np.asarray(predictions)
    return np.flatnonzero((y == true_class) & (p == predicted_class))


@clears_toolbar
def confusion_figure(cm: np.ndarray, classes: Sequence[str], selected: tuple[int, int] | None = None) -> go.Figure:
    """The confusion matrix as a heatmap (log colour, counts written in each cell), with an
    invisible marker on each cell so that a click selects it (Streamlit selection events come
    from points); ``selected`` (true, predicted) is outlined."""
    n = len(classes)
    labels = [str(c) for c in classes]
    acc = per_class_accuracy(cm)
    row_labels = [f"{c} ({a:.0%})" if np.isfinite(a) else c for c, a in zip(labels, acc)]
    fig = go.Figure(go.Heatmap(
        z=np.log10(cm + 1), x=labels, y=row_labels, customdata=cm, text=cm, texttemplate="%{text}",
        colorscale="Blues", showscale=False,
        hovertemplate="true %{y}, predicted %{x}: %{customdata}<extra></extra>",
    ))
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    fig.add_trace(go.Scatter(
        x=[labels[j] for j in jj.ravel()], y=[row_labels[i] for i in ii.ravel()], mode="markers",
        marker=dict(symbol="square", size=28, opacity=0.01, color="black"),
        customdata=np.stack([ii.ravel(), jj.ravel(), cm.ravel()], axis=1),
        hovertemplate="true %{y}, predicted %{x}: %{customdata[2]}<extra>click to see them</extra>",
        showlegend=False, name="cells",
    ))
    if selected is not None:
        i, j = selected
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5, line=dict(color=WRONG, width=3))
    fig.update_yaxes(autorange="reversed", title="true class (per-class accuracy)", type="category")
    fig.update_xaxes(title="predicted class", side="top", type="category")
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=60, b=10), clickmode="event+select", dragmode=False)
    return fig


@clears_toolbar
def per_class_figure(cm: np.ndarray, classes: Sequence[str]) -> go.Figure:
    acc = per_class_accuracy(cm)
    fig = go.Figure(go.Bar(x=[str(c) for c in classes], y=acc, marker_color=ACCENT, cliponaxis=False,
                           text=[f"{a:.1%}" for a in acc], textposition="outside"))
    low = float(np.nanmin(acc)) if np.isfinite(acc).any() else 0.0
    fig.update_yaxes(range=[max(0.0, low - 0.05), 1.0], tickformat=".0%", title="accuracy")
    fig.update_xaxes(type="category", title="true class")
    fig.update_layout(title="per-class accuracy", height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


# ---------------------------------------------------------------------------------------------
# the Draw page


def probability_bars_html(probabilities: np.ndarray, classes: Sequence[str] | None = None) -> str:
    """Ten probability bars as plain HTML (for ``st.html``): a title with the top class, then one row per
    class (its name, a bar as wide as its probability, the percentage), the top class highlighted.

    Plain HTML, not a Plotly chart: the Draw page redraws them after every stroke, and a Plotly chart costs the
    browser's main thread far more each time, behind the page's other charts (``scripts/bench_draw.py --latency-url``)."""
    from html import escape

    p = np.clip(np.nan_to_num(np.asarray(probabilities, dtype=np.float64)), 0.0, 1.0)
    names = [str(c) for c in (classes or range(len(p)))]
    top = int(p.argmax())
    rows = []
    for i, (name, value) in enumerate(zip(names, p)):
        colour, weight = (ACCENT, "600") if i == top else (MUTED, "400")
        rows.append(
            f'<div class="nnplay-bar" data-class="{i}" style="display:flex;align-items:center;gap:8px;'
            f'margin:3px 0;font-weight:{weight}">'
            f'<span style="width:5.5em;text-align:right;overflow:hidden;white-space:nowrap;'
            f'text-overflow:ellipsis">{escape(name)}</span>'
            f'<span style="flex:1;background:rgba(128,128,128,0.12);height:16px;border-radius:3px">'
            f'<span style="display:block;height:100%;width:{value * 100:.2f}%;background:{colour};'
            f'border-radius:3px"></span></span>'
            f'<span style="width:4.2em;text-align:right;font-variant-numeric:tabular-nums">{value:.1%}</span></div>')
    title = f"prediction: {escape(names[top])} ({p[top]:.1%})"
    return (f'<div class="nnplay-bars" role="img" aria-label="{title}">'
            f'<div style="font-weight:600;margin-bottom:6px">{title}</div>{"".join(rows)}</div>')

