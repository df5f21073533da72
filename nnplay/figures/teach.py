"""Figures and tables for the teaching pages (/activations, /forward, /scratch): headless.

What lives here: pure functions from numbers to ``go.Figure``s (tests read them through
``fig.data``) and to pandas tables, plus the small parsers those pages need:
- ``activation_figure``: one activation and its derivative side by side;
- ``gradient_norms_figure``: per-layer gradient norm at initialisation, log y;
- ``loss_curves_figure``: several loss curves on one chart (the /scratch ladder);
- ``matrix_frame`` / ``highlight`` / ``frames_to_network``: a matrix as a labelled table (rows
  and columns numbered from 0, as numpy indexes them), the row × column + bias cells picked out,
  and edited tables back into arrays with a sentence saying what is wrong when they are not
  numbers; ``column_widths``, ``table_width_px`` and ``pack_rows`` lay tables side by side
  without cutting digits;
- ``parse_numbers`` and ``fmt_array`` (numpy's own printing, as the seeds show it).
What does not live here: widgets and layout (``pages/``), the maths (``nnplay.lessons.activations``,
``nnplay.lessons.forward``, ``nnplay.lessons.scratch``). No streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..lessons.activations import get_activation
from .layout import clears_toolbar

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
HIGHLIGHT = "background-color: #ffe8a3"
HIGHLIGHT_RESULT = "background-color: #ffc94d; font-weight: bold"


def fmt_array(a, precision: int = 8) -> str:
    """An array as numpy prints it at ``precision`` digits: "[0.62624937, 0.7710107 ]"."""
    return np.array2string(np.asarray(a, dtype=float), precision=precision, separator=", ")


def parse_numbers(text: str, name: str = "the input") -> np.ndarray:
    """ "0.3, 2.9, 4.0" (commas or spaces) → array; ValueError naming the bad entry."""
    parts = [p for p in text.replace(",", " ").replace(";", " ").split() if p]
    if not parts:
        raise ValueError(f"{name} is empty; type numbers separated by commas, e.g. 0.3, 2.9, 4.0.")
    values = []
    for p in parts:
        try:
            values.append(float(p))
        except ValueError:
            raise ValueError(f"{name}: {p!r} is not a number.") from None
    arr = np.array(values)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no nan or inf).")
    return arr


# ---------------------------------------------------------------------------------------------
# /activations


@clears_toolbar
def activation_figure(name: str, lo: float = -6.0, hi: float = 6.0, points: int = 401) -> go.Figure:
    """f(z) on the left and f'(z) (hand-written closed form) on the right."""
    act = get_activation(name)
    z = np.linspace(lo, hi, points)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{name}(z)", f"{name}'(z)"),
                        horizontal_spacing=0.12)
    fig.add_trace(go.Scatter(x=z, y=act.numpy(z), name=f"{name}(z)", line=dict(color=COLOURS[0])),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=z, y=act.numpy_grad(z), name=f"{name}'(z)", line=dict(color=COLOURS[1])),
                  row=1, col=2)
    for col in (1, 2):
        fig.add_hline(y=0, line=dict(color="#bbb", width=1), row=1, col=col)
        fig.update_xaxes(title_text="z", row=1, col=col)
    fig.update_layout(height=260, showlegend=False, margin=dict(l=10, r=10, t=30, b=10))
    return fig


@clears_toolbar
def gradient_norms_figure(series: Mapping[str, Sequence[float]]) -> go.Figure:
    """Per-layer ||dL/dW|| at initialisation, one line per model; layer 1 is nearest the input."""
    fig = go.Figure()
    for i, (label, norms) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=list(range(1, len(norms) + 1)), y=list(norms), mode="lines+markers",
                                 name=label, line=dict(color=COLOURS[i % len(COLOURS)])))
    fig.update_yaxes(type="log", exponentformat="e", title_text="gradient norm of the layer's weight (log)")
    fig.update_xaxes(title_text="layer (1 = next to the input)", dtick=1)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.08))
    return fig


# ---------------------------------------------------------------------------------------------
# /scratch


@clears_toolbar
def loss_curves_figure(curves: Mapping[str, Sequence[float]], log_y: bool = True,
                       dashed: Sequence[str] = ()) -> go.Figure:
    """Several loss curves against the step; ``dashed`` names get a dash so overlaps show."""
    fig = go.Figure()
    for i, (label, curve) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(
            x=np.arange(len(curve)), y=np.asarray(curve, dtype=float), name=label, mode="lines",
            line=dict(color=COLOURS[i % len(COLOURS)], dash="dash" if label in dashed else "solid"),
        ))
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="loss" + (" (log)" if log_y else ""), type="log" if log_y else "linear")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=20, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.18))  # below the axis title
    return fig


# ---------------------------------------------------------------------------------------------
# /forward: matrices as tables


def matrix_frame(a, row_label: str = "row", col_label: str = "col") -> pd.DataFrame:
    """A vector as one row, a matrix as it is; rows and columns numbered from 0, as numpy indexes them."""
    arr = np.atleast_2d(np.asarray(a, dtype=float))
    return pd.DataFrame(arr, index=[f"{row_label} {i}" for i in range(arr.shape[0])],
                        columns=[f"{col_label} {j}" for j in range(arr.shape[1])])


def column_widths(frame: pd.DataFrame, precision: int = 8) -> dict[str, int]:
    """Pixels each column of ``highlight(frame, precision=...)`` needs to show every digit ("_index"
    for the row labels), at Streamlit's table font: ~7 px a character plus the cell padding. The
    grid sizes columns from the raw numbers, not the formatted text, so the page sets these widths."""
    def px(texts) -> int:
        return 7 * max((len(str(t)) for t in texts), default=1) + 18

    return {"_index": px(frame.index)} | {c: px([c, *(f"{v:.{precision}g}" for v in frame[c])]) for c in frame.columns}


def table_width_px(frame: pd.DataFrame, precision: int = 8) -> int:
    """About how many pixels the whole table needs (the sum of ``column_widths``)."""
    return sum(column_widths(frame, precision).values())


def pack_rows(widths: Sequence[int], available: int) -> list[list[int]]:
    """Indices of side-by-side items, grouped greedily into rows no wider than ``available``
    (an item wider than that gets a row of its own), so no table is squeezed until it cuts digits."""
    rows: list[list[int]] = []
    used = available + 1
    for i, w in enumerate(widths):
        if rows and used + w <= available:
            rows[-1].append(i)
            used += w
        else:
            rows.append([i])
            used = w
    return rows


def highlight(frame: pd.DataFrame, row: int | None = None, col: int | None = None,
              strong: bool = False, precision: int = 8):
    """A Styler showing ``precision`` digits with one row and/or one column picked out."""
    style = HIGHLIGHT_RESULT if strong else HIGHLIGHT

    def paint(data: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=data.index, columns=data.columns)
        if row is not None:
            css.iloc[row, :] = style
        if col is not None:
            css.iloc[:, col] = style
        return css

    return frame.style.apply(paint, axis=None).format(lambda v: f"{v:.{precision}g}")


def network_frames(network: Mapping[str, np.ndarray], x) -> dict[str, pd.DataFrame]:
    """X and every W/B as editable tables (vectors as one row), keyed "X", "W1", "B1", ...

    Columns are named "0", "1", ... (one per unit, numbered as numpy indexes them); rows are
    plain positions.
    """
    frames = {}
    for name, value in {"X": x, **network}.items():
        arr = np.atleast_2d(np.asarray(value, dtype=float))
        frames[name] = pd.DataFrame(arr, columns=[str(j) for j in range(arr.shape[1])])
    return frames


def editor_rows(names: Sequence[str]) -> list[list[str]]:
    """Tables grouped for display: [X], [W1, B1], [W2, B2], ..., then anything else."""
    rows, left = [["X"]] if "X" in names else [], [n for n in names if n != "X"]
    l = 1
    while f"W{l}" in left:
        row = [n for n in (f"W{l}", f"B{l}") if n in left]
        rows.append(row)
        left = [n for n in left if n not in row]
        l += 1
    return rows + ([left] if left else [])


def frame_values(name: str, frame) -> np.ndarray:
    """An edited table back to floats; ValueError naming the first cell that is not a number
    (row and column counted from 0, as numpy does)."""
    frame = pd.DataFrame(frame)
    values = np.full(frame.shape, np.nan)
    for i in range(frame.shape[0]):
        for j in range(frame.shape[1]):
            cell = frame.iat[i, j]
            if cell is None or (isinstance(cell, float) and np.isnan(cell)):
                raise ValueError(f"{name}: row {i}, column {j} is empty; every cell needs a number.")
            try:
                values[i, j] = float(cell)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: row {i}, column {j} is {cell!r}, not a number.") from None
    return values


def frames_to_network(frames: Mapping[str, object]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Tables (as ``network_frames`` makes them, after editing) → (network dict, X).

    X and the B's are one-row tables and come back as vectors; a table that gained rows keeps
    them, so a wrong shape reaches ``forward_trace``, which says what does not fit.
    """
    arrays = {name: frame_values(name, frame) for name, frame in frames.items()}
    for name, arr in arrays.items():
        if (name == "X" or name.startswith("B")) and arr.shape[0] == 1:
            arrays[name] = arr[0]
    x = arrays.pop("X")
    return arrays, x
