"""The network view: a trained model drawn as neurons and weights, and pictures of what it learns.

What lives here (pure plotly builders, headless, read through ``fig.data`` in the tests):
- ``network_figure(model, image_u8=None, ...)``: an MLP as its layers of neurons (the input as the
  28×28 picture, at most 64 neurons per hidden layer, page by page, the 10 outputs with their
  classes) joined by its strongest weights, coloured by sign (TensorFlow Playground's orange +,
  blue −) and as wide as their magnitude; with a digit, every neuron coloured by its activation
  (numpy forward pass) and the outputs by probability; without one, the input is an empty frame and no
  edges leave it (nothing flows in), the neurons show their bias. A CNN as its stages: input → each conv layer's
  feature maps (or filters) as small images → the last FC layer's neurons → outputs. Pictures keep square
  pixels at any width (the y axis is tied to the x axis) and use one colour scale per kind of quantity:
  pixels ``PIXELS``, weights, biases, activations and maps ``SIGNED``, probabilities Blues;
- ``neuron_figure``: one hidden neuron, its incoming weights (a 28×28 image for the first layer),
  the test images that excite it most and what it votes for among the 10 classes;
- ``small_network_figure``: seed 002's 2-3-2-2 network with its numbers, one step of
  ``nnplay.lessons.forward.forward_trace`` highlighted (the Forward page);
- ``probe_figure`` and ``first_layer_figure``: the probe digits with the model's answers, and the
  first layer's weights as pictures (for watching a run learn).
What does not live here: the numbers (``nnplay.lessons.neurons``, ``nnplay.lessons.forward``),
widgets and layout (``pages/``). No streamlit.

Trace names (``fig.data[i].name``): "input", "hidden 1", …, "output", "edges +" / "edges −"
(lines, one trace per sign and width), "edge weights" (one invisible marker per edge at its
middle, carrying the numbers: customdata = [target layer, source index, target index, weight]).
Node traces carry customdata = [index, activation (nan without a digit), bias].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from ..data import normalise
from ..models import evaluating
from ..lessons import neurons as nn_lessons
from ..lessons.forward import Step
from .inspect import conv_filters_figure, feature_maps, image_grid_figure, scaled_to_own_max, tile, \
    unit_weights_figure
from .layout import clears_toolbar

POSITIVE = "#e8590c"
"""Edge colour of a positive weight (orange, as TensorFlow Playground)."""
NEGATIVE = "#1c7ed6"
"""Edge colour of a negative weight (blue)."""
WIDTHS = (0.6, 1.4, 2.4, 3.6)
"""Edge widths by quarter of the largest |weight| shown between the two layers."""
COLUMN_GAP = 1.6
"""Horizontal distance between two columns of neurons; the input picture spans x ∈ [0, 1]."""
NODE_SIZE = 11
TOP_EDGES = 120
PIXELS = "gray"
"""The colour scale of pixels (black 0 to white 255), as the digit is seen everywhere."""
SIGNED = "RdBu_r"
"""The colour scale of weights, biases, activations and feature maps: red +, blue −, white 0 (each picture
of weights or maps scaled to its own largest |value|, as ``figures.inspect``'s pictures)."""
PLOT_WIDTH = 1000
"""The plot width (px) the columns are spaced for; the pictures keep their aspect ratio at any width
(the y axis is tied to the x axis), a narrower plot only adds room above and below."""
Y_RANGE = (-0.08, 1.05)
NO_DIGIT = "no digit:<br>pick one to see<br>what flows in"
NEURON_LEFT_PX = 55  # the neuron panel's left margin: its weight axis's labels, "−0.25" included


def _width_bucket(magnitude: np.ndarray, peak: float) -> np.ndarray:
    """0..3: which quarter of ``peak`` each |weight| falls in."""
    if peak <= 0:
        return np.zeros(len(magnitude), dtype=int)
    return np.minimum((magnitude / peak * len(WIDTHS)).astype(int), len(WIDTHS) - 1)


def _column_y(n: int) -> np.ndarray:
    """y of ``n`` nodes spread evenly over [0, 1], the first at the top."""
    return 1 - (np.arange(n) + 0.5) / max(n, 1)


_Box = tuple[float, float, float, float]  # where a picture sits in the figure's coordinates: x0, y0, width, height


def _aspect(x_max: float, height: int) -> float:
    """The y axis's ``scaleratio``: a y unit in pixels over an x unit in pixels, for a plot ``PLOT_WIDTH`` wide."""
    plot_height = height - 50  # the margins of ``_layout`` (the toolbar's band comes on top of the height)
    return (plot_height / (Y_RANGE[1] - Y_RANGE[0])) / (PLOT_WIDTH / (x_max + 0.55))


def _picture_box(rows: int, columns: int, x_centre: float, aspect: float, max_width: float = 1.0) -> _Box:
    """The box of a ``rows``×``columns`` picture with square pixels, at most ``max_width`` x units wide and
    1 y unit tall, centred on (``x_centre``, 0.5)."""
    cell = min(max_width / columns, aspect / rows)  # one pixel, in x units (a y unit spans ``aspect`` x units)
    width, height = columns * cell, rows * cell / aspect
    return x_centre - width / 2, 0.5 - height / 2, width, height


def _picture_trace(z: np.ndarray, box: _Box, **style) -> dict:
    """A heatmap of ``z`` (first row on top) filling ``box``; scalar x0/dx and y0/dy, no coordinate arrays."""
    rows, columns = z.shape
    x0, y0, width, height = box
    return dict(type="heatmap", z=z[::-1], x0=x0 + width / columns / 2, dx=width / columns,
                y0=y0 + height / rows / 2, dy=height / rows, **style)


def _input_trace(image_u8, box: _Box) -> dict:
    """The input picture: the digit, or without one an empty frame (``_frame``), not a black box."""
    customdata = np.stack(np.meshgrid(np.arange(27, -1, -1), np.arange(28), indexing="ij"), -1)
    z = np.full((28, 28), np.nan) if image_u8 is None else np.asarray(image_u8, dtype=np.float64)
    return _picture_trace(z, box, colorscale=PIXELS, zmin=0, zmax=255, showscale=False, name="input",
                          hoverongaps=False, customdata=customdata,
                          hovertemplate="pixel (%{customdata[0]}, %{customdata[1]}): %{z}<extra>input</extra>")


def _frame(fig: go.Figure, box: _Box) -> None:
    """Without a digit: the input's outline and a word on what it would show."""
    x0, y0, width, height = box
    fig.add_shape(type="rect", x0=x0, y0=y0, x1=x0 + width, y1=y0 + height, line=dict(color="#adb5bd", dash="dot"))
    fig.add_annotation(x=x0 + width / 2, y=y0 + height / 2, text=NO_DIGIT, showarrow=False,
                       font=dict(size=11, color="#868e96"))


def _pixel_xy(flat_index: np.ndarray, box: _Box) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, width, height = box
    r, c = np.divmod(flat_index, 28)
    return x0 + (c + 0.5) / 28 * width, y0 + height - (r + 0.5) / 28 * height


def _node_trace(name: str, x: float, ys: np.ndarray, indices: np.ndarray, values: np.ndarray | None,
                bias: np.ndarray, labels: Sequence[str] | None = None, probability: bool = False) -> dict:
    act = np.full(len(indices), np.nan) if values is None else np.asarray(values, dtype=np.float64)[indices]
    b = np.asarray(bias, dtype=np.float64)[indices]
    if values is None:
        colour, scale, cmid, cmin, cmax, what = b, "RdBu_r", 0.0, None, None, "bias"
    elif probability:
        colour, scale, cmid, cmin, cmax, what = act, "Blues", None, 0.0, 1.0, "probability"
    else:
        colour, scale, cmid, cmin, cmax, what = act, "RdBu_r", 0.0, None, None, "activation"
    value_line = "probability %{customdata[1]:.2%}" if probability else "activation %{customdata[1]:.4g}"
    return dict(type="scatter", 
        x=np.full(len(indices), x), y=ys, mode="markers+text" if labels is not None else "markers", name=name,
        text=None if labels is None else [labels[i] for i in indices], textposition="middle right",
        marker=dict(size=NODE_SIZE, color=colour, colorscale=scale, cmid=cmid, cmin=cmin, cmax=cmax,
                    line=dict(width=1, color="#555")),
        customdata=np.column_stack([indices, act, b]),
        hovertemplate=f"{name} · neuron %{{customdata[0]}}<br>{value_line}<br>bias %{{customdata[2]:.4g}}"
                      "<extra></extra>",
        meta={"colour_by": what},
    )


def _edge_traces(segments: list[tuple[np.ndarray, ...]]) -> list[dict]:
    """Line traces (one per sign and width) and the "edge weights" marker trace, from a list of
    (x0, y0, x1, y1, target layer, source index, target index, weight, bucket) arrays."""
    if not segments:
        return []
    x0, y0, x1, y1, layer, src, dst, w, bucket = (np.concatenate(parts) for parts in zip(*segments))
    traces = []
    for sign, colour, label in ((1, POSITIVE, "edges +"), (-1, NEGATIVE, "edges −")):
        for b, width in enumerate(WIDTHS):
            pick = np.flatnonzero(((w > 0) if sign > 0 else (w <= 0)) & (bucket == b))
            if not len(pick):
                continue
            xs = np.column_stack([x0[pick], x1[pick], np.full(len(pick), np.nan)]).ravel()
            ys = np.column_stack([y0[pick], y1[pick], np.full(len(pick), np.nan)]).ravel()
            traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=label, hoverinfo="skip", showlegend=False,
                                     line=dict(color=colour, width=width), opacity=0.55, meta={"count": len(pick)}))
    traces.append(dict(type="scatter", 
        x=(x0 + x1) / 2, y=(y0 + y1) / 2, mode="markers", name="edge weights", showlegend=False,
        marker=dict(size=6, opacity=0, color=np.where(w > 0, POSITIVE, NEGATIVE)),
        customdata=np.column_stack([layer, src, dst, w]),
        hovertemplate="weight %{customdata[3]:.4g}<br>from %{customdata[1]} to neuron %{customdata[2]} "
                      "of layer %{customdata[0]}<extra></extra>",
    ))
    return traces


def _strongest(score: np.ndarray, k: int) -> np.ndarray:
    """Flat indices of the ``k`` largest entries of ``score``, largest first (ties: lower index)."""
    flat = score.ravel()
    k = min(k, flat.size)
    return np.argsort(-flat, kind="stable")[:k]


def _figure(traces: list[dict]) -> go.Figure:
    """A figure from trace dicts, without plotly's per-property validation: for a few thousand
    edges that costs several times the rest, on every stroke of the Draw page (``scripts/bench_draw.py``).
    The dicts are built here, in this module, and the tests read them back through ``fig.data``."""
    return go.Figure(data=traces, _validate=False)


def _layout(fig: go.Figure, x_max: float, title: str, height: int) -> go.Figure:
    # the y axis tied to the x axis: the pictures keep their aspect ratio at any width (the ranges grow instead)
    fig.update_xaxes(visible=False, range=[-0.05, x_max + 0.5])
    fig.update_yaxes(visible=False, range=list(Y_RANGE), scaleanchor="x", scaleratio=_aspect(x_max, height))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white",
                      showlegend=False, hovermode="closest")
    return fig


@clears_toolbar
def network_figure(model: nn.Module, image_u8=None, top_edges: int = TOP_EDGES, page: int = 0,
                   classes: Sequence[str] | None = None, max_shown: int = nn_lessons.MAX_SHOWN,
                   height: int = 520) -> go.Figure:
    """The model as a picture of neurons and weights (an MLP) or of stages (a CNN).

    ``image_u8``: a uint8 (28, 28) digit to run through it (None: the weights alone, neurons
    coloured by their bias). ``top_edges``: how many of the strongest weights to draw between two
    layers; with a digit "strongest" means the largest |weight × incoming activation| (what this
    digit actually sends along), without one the largest |weight|. ``page``: which page of
    ``max_shown`` neurons a wider hidden layer shows (page 0: the most important, see
    ``nnplay.lessons.neurons.shown_neurons``).
    """
    if top_edges < 0:
        raise ValueError(f"top_edges must be 0 or more, got {top_edges}.")
    classes = [str(c) for c in (classes or range(10))]
    if not nn_lessons.is_mlp(model):
        return cnn_figure(model, image_u8, top_edges=top_edges, classes=classes, max_shown=max_shown,
                          height=height)
    layers = nn_lessons.weights_numpy(model)
    run = nn_lessons.mlp_forward(model, image_u8) if image_u8 is not None else None
    values = run.values if run is not None else [None] * (len(layers) + 1)
    box = _picture_box(28, 28, 0.5, _aspect(0.4 + COLUMN_GAP * len(layers), height))
    traces = [_input_trace(image_u8, box)]
    shown: list[np.ndarray] = [np.arange(784)]
    xs = [0.0]
    node_traces, segments, notes = [], [], []
    for l, (name, w, b) in enumerate(layers, start=1):
        last = l == len(layers)
        if last:
            idx = np.arange(w.shape[0])
        else:
            idx = nn_lessons.shown_neurons(nn_lessons.neuron_importance(model, l, values[l]), page, max_shown)
        x = 0.4 + COLUMN_GAP * l  # the picture spans [0, 1]; hidden 1 sits at 2.0
        ys = _column_y(len(idx))
        title = "output" if last else f"hidden {l}"
        node_traces.append(_node_trace(title, x, ys, idx, values[l], b, classes if last else None, probability=last))
        if len(idx) < w.shape[0]:
            pages = nn_lessons.page_count(w.shape[0], max_shown)
            notes.append(dict(x=x, y=-0.04, text=f"+{w.shape[0] - len(idx)} more (page {page % pages + 1} of {pages})",
                              showarrow=False, font=dict(size=11, color="#555")))
        notes.append(dict(x=x, y=1.04, text=f"{title} ({w.shape[0]})" if not last else "output",
                          showarrow=False, font=dict(size=12)))
        # edges from the previous column's shown nodes into these
        src = shown[-1]
        sub = w[np.ix_(idx, src)]  # (shown here, shown before)
        incoming = values[l - 1]
        score = np.abs(sub * incoming[src][None, :]) if incoming is not None else np.abs(sub)
        # without a digit nothing flows in: no edges from pixels (the largest input weights are mostly the init's)
        pick = _strongest(score, top_edges if l > 1 or incoming is not None else 0)
        pick = pick[score.ravel()[pick] > 0] if incoming is not None else pick
        ti, si = np.divmod(pick, len(src))
        if l == 1:
            sx, sy = _pixel_xy(src[si], box)
        else:
            sx, sy = np.full(len(si), xs[-1]), _column_y(len(src))[si]
        weight = sub[ti, si]
        mags = np.abs(weight)
        segments.append((sx, sy, np.full(len(ti), x), ys[ti], np.full(len(ti), l), src[si], idx[ti], weight,
                         _width_bucket(mags, mags.max() if len(mags) else 0.0)))
        shown.append(idx)
        xs.append(x)
    fig = _figure(traces + _edge_traces(segments) + node_traces)
    notes.append(dict(x=0.5, y=1.04, text="input (28×28)", showarrow=False, font=dict(size=12)))
    if run is None:
        _frame(fig, box)
    for note in notes:
        fig.add_annotation(**note)
    what = "activations for this digit" if run is not None else "weights only (colour: bias)"
    return _layout(fig, xs[-1], f"The network: {what}", height)


# ---------------------------------------------------------------------------------------------
# CNN: stages


def cnn_stages(model: nn.Module, image_u8) -> dict[str, np.ndarray]:
    """One digit through an nnplay CNN in torch (eval mode): every conv layer's activated maps
    (keyed ``act_1`` …), the last FC layer's activations before the output (``act_fc``, however many FC
    layers there are) and the probabilities (``output``)."""
    maps = feature_maps(model, image_u8)
    out = {k: v for k, v in maps.items() if k.startswith("act_") and "fc" not in k}
    device = next(model.parameters()).device
    x = normalise(torch.as_tensor(np.array(image_u8), dtype=torch.uint8).reshape(1, 28, 28)).to(device)
    with evaluating(model):
        with torch.inference_mode():
            for name, module in model.named_children():
                x = module(x)
                if name.startswith("act_fc"):  # the last one stays: the layer before the output
                    out["act_fc"] = x[0].double().cpu().numpy()
            out["output"] = torch.softmax(x.double(), dim=1)[0].cpu().numpy()
    return out


@clears_toolbar
def cnn_figure(model: nn.Module, image_u8=None, top_edges: int = TOP_EDGES, classes: Sequence[str] | None = None,
               max_maps: int = 8, max_shown: int = nn_lessons.MAX_SHOWN, page: int = 0,
               height: int = 520) -> go.Figure:
    """A CNN as its stages: the input, each conv layer's first ``max_maps`` feature maps for the
    digit (without a digit: its filters, averaged over input channels) stacked as small images,
    the last FC layer's neurons and the outputs, the FC → output weights as edges."""
    classes = [str(c) for c in (classes or range(10))]
    convs = [(name, m) for name, m in model.named_children() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("This model has neither a first layer reading the 784 pixels nor conv layers.")
    stages = cnn_stages(model, image_u8) if image_u8 is not None else None
    aspect = _aspect(0.4 + COLUMN_GAP * (len(convs) + 2), height)
    box = _picture_box(28, 28, 0.5, aspect)
    traces = [_input_trace(image_u8, box)]
    notes = [dict(x=0.5, y=1.04, text="input (28×28)", showarrow=False, font=dict(size=12))]
    x = 0.0
    for i, (name, conv) in enumerate(convs, start=1):
        x = 0.4 + COLUMN_GAP * i
        if stages is not None:
            maps = stages[f"act_{i}"][:max_maps]
            what = f"conv {i}: {len(maps)} of {conv.out_channels} maps"
        else:
            maps = conv.weight.detach().cpu().double().numpy().mean(axis=1)[:max_maps]
            what = f"conv {i}: {len(maps)} of {conv.out_channels} filters"
        tiled = tile(scaled_to_own_max(maps), 2 if len(maps) > 4 else 1, gap=1)
        maps_box = _picture_box(*tiled.shape, x, aspect)
        traces.append(_picture_trace(tiled, maps_box, colorscale=SIGNED, zmid=0, zmin=-1, zmax=1, showscale=False,
                                     name=f"conv {i}", hoverongaps=False, meta={"maps": maps.shape[0]},
                                     hovertemplate=f"{what}<br>%{{z:.2f}} of its largest |value|<extra></extra>"))
        notes.append(dict(x=x, y=1.04, text=what, showarrow=False, font=dict(size=12)))
    what = "stages for this digit" if stages is not None else "filters and weights only"
    if len(nn_lessons.linear_layers(model)) == 1:  # no hidden FC layer (LeNet-1): the maps feed the output
        x_out = x + COLUMN_GAP
        fig = _figure(traces + [_node_trace("output", x_out, _column_y(10), np.arange(10),
                                            stages["output"] if stages is not None else None,
                                            nn_lessons.weights_numpy(model)[-1][2], classes, probability=True)])
        notes.append(dict(x=x_out, y=1.04, text="output (from every pooled map)", showarrow=False, font=dict(size=12)))
        for note in notes:
            fig.add_annotation(**note)
        if stages is None:
            _frame(fig, box)
        return _layout(fig, x_out, f"The network: {what}", height)
    (fc_name, fc), _ = nn_lessons.linear_layers(model)[-2:]  # the last FC layer before the output, the output
    folded = nn_lessons.weights_numpy(model)  # batch norm folded in: the biases eval mode adds
    w1b = folded[-2][2]
    w2, b2 = folded[-1][1], folded[-1][2]
    fc_values = stages["act_fc"] if stages is not None else None
    importance = np.abs(fc_values) if fc_values is not None else np.linalg.norm(w2, axis=0)
    idx = nn_lessons.shown_neurons(importance, page, max_shown)
    x_fc, x_out = x + COLUMN_GAP, x + 2 * COLUMN_GAP
    ys_fc, ys_out = _column_y(len(idx)), _column_y(10)
    sub = w2[:, idx]
    score = np.abs(sub * fc_values[idx][None, :]) if fc_values is not None else np.abs(sub)
    pick = _strongest(score, top_edges)
    ti, si = np.divmod(pick, len(idx))
    weight = sub[ti, si]
    segments = [(np.full(len(si), x_fc), ys_fc[si], np.full(len(ti), x_out), ys_out[ti], np.full(len(ti), 2),
                 idx[si], ti, weight, _width_bucket(np.abs(weight), np.abs(weight).max() if len(weight) else 0))]
    fig = _figure(traces + _edge_traces(segments) + [
        _node_trace("fc", x_fc, ys_fc, idx, fc_values, w1b),
        _node_trace("output", x_out, ys_out, np.arange(10), stages["output"] if stages is not None else None, b2,
                    classes, probability=True)])
    if len(idx) < fc.out_features:
        notes.append(dict(x=x_fc, y=-0.04, text=f"+{fc.out_features - len(idx)} more", showarrow=False,
                          font=dict(size=11, color="#555")))
    notes += [dict(x=x_fc, y=1.04, text=f"{fc_name.replace('_', ' ')} ({fc.out_features})" if fc_name != "fc_1"
                   else f"fc ({fc.out_features})", showarrow=False, font=dict(size=12)),
              dict(x=x_out, y=1.04, text="output", showarrow=False, font=dict(size=12))]
    for note in notes:
        fig.add_annotation(**note)
    if stages is None:
        _frame(fig, box)
    return _layout(fig, x_out, f"The network: {what}", height)


# ---------------------------------------------------------------------------------------------
# one hidden neuron


@clears_toolbar
def neuron_figure(model: nn.Module, layer: int, index: int, test_images_u8, classes: Sequence[str] | None = None,
                  k: int = 9, top: tuple[np.ndarray, np.ndarray] | None = None) -> go.Figure:
    """One hidden neuron of an MLP in three panels: its incoming weights (a 28×28 image for the
    first hidden layer, else bars over the previous layer), the ``k`` test images that excite it
    most (titled with their activation), and its votes for the 10 classes. ``top``: the layer's
    ``top_exciting_all`` already computed (else one pass over the images)."""
    from plotly.subplots import make_subplots

    classes = [str(c) for c in (classes or range(10))]
    w_in = nn_lessons.incoming_weights(model, layer, index)
    if top is not None:
        order, acts = top[0][:k, index], top[1][:k, index]
    else:
        order, acts = nn_lessons.top_exciting(model, layer, index, test_images_u8, k=k)
    vote = nn_lessons.votes(model, layer, index)
    images = np.asarray(test_images_u8)[order]
    side = int(np.ceil(np.sqrt(len(images)))) or 1
    fig = make_subplots(rows=1, cols=3, column_widths=[0.33, 0.37, 0.30], horizontal_spacing=0.06,
                        subplot_titles=["incoming weights", f"the {len(images)} test images it likes most",
                                        "its votes" + (" (exact)" if layer == len(nn_lessons.linear_layers(model)) - 1
                                                       else " (rough: via later layers)")])
    if w_in.ndim == 2:
        peak = np.abs(w_in).max() or 1.0
        fig.add_trace(go.Heatmap(z=w_in, colorscale="RdBu_r", zmid=0, zmin=-peak, zmax=peak, showscale=False,
                                 name="incoming", hovertemplate="pixel (%{y}, %{x}): %{z:.4g}<extra></extra>"), 1, 1)
        fig.update_yaxes(autorange="reversed", scaleanchor="x", row=1, col=1)
    else:
        fig.add_trace(go.Bar(x=np.arange(len(w_in)), y=w_in, name="incoming",
                             marker_color=np.where(w_in > 0, POSITIVE, NEGATIVE)), 1, 1)
    if len(images):
        grid = tile(images.astype(np.float32), side, gap=2, fill=80)
        fig.add_trace(go.Heatmap(z=grid, colorscale="gray", zmin=0, zmax=255, showscale=False, name="top images",
                                 meta={"indices": order.tolist(), "activations": acts.tolist()},
                                 hoverinfo="skip"), 1, 2)
        fig.update_yaxes(autorange="reversed", scaleanchor="x2", row=1, col=2)
        for n, a in enumerate(acts):
            r, c = divmod(n, side)
            fig.add_annotation(x=c * 30 + 13.5, y=r * 30 + 2, text=f"{a:.2f}", showarrow=False, xref="x2",
                               yref="y2", font=dict(size=10, color="#ffd43b"))
    fig.add_trace(go.Bar(x=classes, y=vote, name="votes", marker_color=np.where(vote > 0, POSITIVE, NEGATIVE),
                         hovertemplate="class %{x}: %{y:.4g}<extra></extra>"), 1, 3)
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_xaxes(visible=False, row=1, col=2)
    fig.update_yaxes(visible=False, row=1, col=2)
    fig.update_xaxes(type="category", row=1, col=3)
    # room on the left for the weights' tick labels and their minus signs
    fig.update_layout(height=300, margin=dict(l=NEURON_LEFT_PX, r=10, t=50, b=10), showlegend=False,
                      title=f"hidden {layer} · neuron {index}")
    return fig


# ---------------------------------------------------------------------------------------------
# seed 002's small network, one step highlighted


@clears_toolbar
def small_network_figure(steps: Sequence[Step], current: int, cell: int | None = None, row: int = 0,
                         height: int = 360) -> go.Figure:
    """A small fully connected network drawn from a ``forward_trace`` (seed 002: 2-3-2-2) with its
    numbers: each edge labelled with its weight, each neuron with its bias and its values A / Z
    once the trace has computed them up to step ``current``. The current step is highlighted: an
    affine step's edges into its layer (and, with ``cell``, the one neuron it computes), an
    activation step's neurons. ``row`` picks the batch row shown."""
    if not steps:
        raise ValueError("There is no step to draw.")
    current = int(np.clip(current, 0, len(steps) - 1))
    affine = [s for s in steps if s.kind == "affine"]
    x_in = np.atleast_2d(affine[0].operands[0].value)[row]
    sizes = [len(x_in)] + [s.operands[1].value.shape[1] for s in affine]
    ys = [_column_y(n) for n in sizes]
    done = {s.output: np.atleast_2d(s.result)[row] for s in steps[: current + 1]}
    now = steps[current]
    now_layer = int(now.output[1:]) if now.output[1:].isdigit() else len(affine)  # "A2"/"Z2" → 2, "Y" → last
    fig = go.Figure()
    texts_x, texts_y, texts = [], [], []
    for l, step in enumerate(affine, start=1):
        W, B = step.operands[1].value, step.operands[2].value
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                lit = now.kind == "affine" and now_layer == l and (cell is None or cell == j)
                fig.add_trace(go.Scatter(
                    x=[l - 1, l], y=[ys[l - 1][i], ys[l][j]], mode="lines", name=f"W{l}[{i},{j}]",
                    line=dict(color=POSITIVE if W[i, j] > 0 else NEGATIVE, width=4 if lit else 1.5),
                    opacity=1.0 if lit else 0.25, hoverinfo="skip", showlegend=False,
                    meta={"weight": float(W[i, j]), "highlighted": lit}))
                t = 0.3 + 0.4 * (j + 1) / (W.shape[1] + 1)  # spread the labels along the edges
                texts_x.append(l - 1 + t)
                texts_y.append(ys[l - 1][i] + t * (ys[l][j] - ys[l - 1][i]))
                texts.append(f"{W[i, j]:.4g}")
    fig.add_trace(go.Scatter(x=texts_x, y=texts_y, mode="text", text=texts, name="weights", hoverinfo="skip",
                             textfont=dict(size=10, color="#333"), showlegend=False))
    for l, n in enumerate(sizes):
        if l == 0:
            labels = [f"x{i}<br>{v:.4g}" for i, v in enumerate(x_in)]
            lit = np.zeros(n, dtype=bool)
            name = "X"
        else:
            B = affine[l - 1].operands[2].value
            a = done.get(f"A{l}")
            z = done.get(f"Z{l}") if l < len(affine) else done.get("Y")
            zname = f"Z{l}" if l < len(affine) else "Y"
            labels = [f"b {B[j]:.4g}<br>A{l}={'?' if a is None else f'{a[j]:.4g}'}"
                      f"<br>{zname}={'?' if z is None else f'{z[j]:.4g}'}" for j in range(n)]
            lit = np.full(n, now_layer == l and (now.kind == "activation" or cell is None))
            if now.kind == "affine" and now_layer == l and cell is not None:
                lit = np.arange(n) == cell
            name = f"layer {l}"
        fig.add_trace(go.Scatter(
            x=np.full(n, l), y=ys[l], mode="markers+text", name=name, text=labels,
            textposition="bottom center", textfont=dict(size=10), showlegend=False, hoverinfo="skip",
            marker=dict(size=np.where(lit, 30, 22), color=np.where(lit, "#ffd43b", "#e9ecef"),
                        line=dict(width=np.where(lit, 3, 1), color="#333")),
            meta={"highlighted": lit.tolist()}))
    fig.update_xaxes(visible=False, range=[-0.4, len(sizes) - 0.6])
    fig.update_yaxes(visible=False, range=[-0.25, 1.1])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="white",
                      title=f"Step {current + 1}: {now.name}")
    return fig


# ---------------------------------------------------------------------------------------------
# watching a run learn


@clears_toolbar
def probe_figure(model: nn.Module, probes: nn_lessons.Probes, classes: Sequence[str] | None = None,
                 columns: int = 8) -> go.Figure:
    """The probe digits, each titled with the model's answer and its probability; wrong answers in
    red and marked ✗ (see ``nnplay.lessons.neurons.probe_set``)."""
    classes = [str(c) for c in (classes or range(10))]
    predicted, probability = nn_lessons.probe_predictions(model, probes)
    titles = [f"{classes[p]} {q:.0%}" + (" (hard)" if kind == "hard" else "")
              for p, q, kind in zip(predicted, probability, probes.kinds)]
    wrong = [int(p) != int(y) for p, y in zip(predicted, probes.labels)]
    fig = image_grid_figure(probes.images, titles, wrong, columns=columns)
    fig.update_layout(meta={"predicted": predicted.tolist(), "probability": probability.tolist()},
                      title=f"probe digits: {len(wrong) - sum(wrong)} of {len(wrong)} right")
    fig.update_layout(margin=dict(l=5, r=5, t=60, b=5))
    return fig


@clears_toolbar
def first_layer_figure(model: nn.Module, n: int = 16, start: nn.Module | None = None) -> go.Figure:
    """The first layer as pictures: ``n`` MLP neurons' incoming weights as 28×28 images (with ``start``, the model
    before training: what training changed in them, as Inspect shows it), or a CNN's first ``n`` filters (each
    scaled to its own largest |weight|; red +, blue −)."""
    if nn_lessons.is_mlp(model):
        return unit_weights_figure(model, max_units=n, columns=8, start=start)
    return conv_filters_figure(model, max_out=n)

