"""Figures for comparing many runs, from the comparison table (``nnplay.compare``) and runs' histories.

- ``parallel_figure``: parallel coordinates (``go.Parcoords``), one axis per chosen setting and the chosen
  metric as the last axis and the lines' colour; the learning rate on a log axis (log10 values, tick labels
  of the real values), categorical settings as categories with their names as tick labels. The trace's
  ``meta["ids"]`` are the drawn runs' ids in line order, and ``brushed_ids`` turns a brush's ranges
  (Plotly's ``constraintrange``, in axis units) into the ids it keeps;
- ``scatter_figure``: one setting against a metric (a log x axis where it fits), one point per seed group
  with its standard deviation as an error bar (the group's runs faint beneath it), or every run;
- ``curves_figure``: chosen runs' curves overlaid by step, epoch, images seen or time, smoothed with
  ``curves.smooth`` while the raw curve stays visible under it (faint); a seed group is one mean curve with
  a band of ± one standard deviation.
What does not live here: the table, seed groups and importance (``nnplay.compare``), the page (``pages/``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..compare import CATEGORICAL, METRICS, category_text, group_seeds
from ..curves import smooth
from ..engine import History
from .layout import clears_toolbar
from .train import COMPARE_X, MAX_RAW_POINTS, PALETTE, _compare_x, _thin

LOG_SETTINGS = ("lr",)  # always on a log axis; another positive setting goes log when it spans 100× or more
CURVE_METRICS = ("loss", *METRICS)  # "loss": every reported step's; the others once per epoch
RAW_OPACITY = 0.3
BAND_OPACITY = 0.18


def axis_title(column: str) -> str:
    """A column's name as an axis reads it: "learning rate", "batch size", "test accuracy"."""
    return {"lr": "learning rate", "train_limit": "train images"}.get(column, column.replace("_", " "))


def _categorical(column: pd.Series, name: str) -> bool:
    return name in CATEGORICAL or not pd.api.types.is_numeric_dtype(column) or bool(column.isna().any())


def _log(column: pd.Series, name: str) -> bool:
    values = column.astype(float)
    if not len(values) or not (values > 0).all():
        return False
    return name in LOG_SETTINGS or values.max() / values.min() >= 100


def _categories(column: pd.Series, name: str) -> list:
    """The column's distinct values as category names (``category_text``), numbers in numeric order, a missing
    value last."""
    present = list(column.dropna().unique())
    try:
        present.sort(key=float)
    except (TypeError, ValueError):
        present.sort(key=str)
    return [str(v) for v in present] + list(category_text(column[column.isna()], name).unique())


def _tick(value: float) -> str:
    return f"{value:g}"


def axis_values(column: pd.Series, name: str) -> tuple[np.ndarray, dict]:
    """A column as a parallel-coordinates axis: its values in axis units (log10 on a log axis, the category's
    index for a category) and the axis's tick settings."""
    if _categorical(column, name):
        names = _categories(column, name)
        text = category_text(column, name)
        codes = text.map({n: i for i, n in enumerate(names)}).to_numpy(dtype=float)
        return codes, {"tickvals": list(range(len(names))), "ticktext": names,
                       "range": [0, max(1, len(names) - 1)]}
    values = column.astype(float).to_numpy()
    distinct = np.unique(values)
    if _log(column, name):
        logs = np.log10(values)
        lo, hi = math.floor(logs.min()), math.ceil(logs.max())
        shown = distinct if len(distinct) <= 8 else 10.0 ** np.arange(lo, hi + 1)
        return logs, {"tickvals": [float(np.log10(v)) for v in shown], "ticktext": [_tick(v) for v in shown],
                      "range": [float(np.log10(shown.min()) if len(distinct) <= 8 else lo),
                                float(np.log10(shown.max()) if len(distinct) <= 8 else hi)]}
    extra: dict = {}
    if len(distinct) <= 8:
        extra = {"tickvals": [float(v) for v in distinct], "ticktext": [_tick(v) for v in distinct]}
    return values, extra


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the table has no column {', '.join(map(repr, missing))}.")


def _with_metric(frame: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, str]:
    """The rows with a finite ``metric``, and a sentence for the title about the ones left out."""
    values = frame[metric].astype(float)
    kept = frame[np.isfinite(values)]
    left = len(frame) - len(kept)
    note = f"; {left} without a {axis_title(metric)} left out" if left else ""
    return kept, f"{len(kept)} run{'s' if len(kept) != 1 else ''}{note}"


@clears_toolbar
def parallel_figure(frame: pd.DataFrame, settings: Sequence[str], metric: str, metric_label: str | None = None,
                    title: str | None = None) -> go.Figure:
    """Parallel coordinates of ``frame``'s runs: one axis per setting, in order, then ``metric`` (also the
    lines' colour, the better end bright). Runs without a finite metric are left out (the title says how
    many). ``meta`` of the trace: "ids" (the runs' ids, in the order of the lines), "columns" (each axis's
    column) and "categories" (each category axis's names, in its order)."""
    _check_columns(frame, [*settings, metric, "id"])
    kept, count = _with_metric(frame, metric)
    label = metric_label or axis_title(metric)
    dimensions, categories = [], {}
    for name in settings:
        values, ticks = axis_values(kept[name], name)
        dimensions.append({"label": axis_title(name), "values": values, **ticks})
        if _categorical(kept[name], name):
            categories[name] = list(ticks["ticktext"])
    colour = kept[metric].astype(float).to_numpy()
    dimensions.append({"label": label, "values": colour})
    trace = go.Parcoords(dimensions=dimensions, meta={"ids": list(kept["id"]), "columns": [*settings, metric],
                                                   "categories": categories},
                         line={"color": colour, "colorscale": "Viridis", "showscale": True,
                               "reversescale": METRICS.get(metric) == "min", "colorbar": {"title": {"text": label}}})
    figure = go.Figure(trace)
    figure.update_layout(title={"text": title or f"{label} by setting: {count}", "x": 0, "xanchor": "left",
                                "y": 0.98, "yanchor": "top", "font": {"size": 14}},  # above the axes' labels
                         height=440, margin={"l": 60, "r": 40, "t": 110, "b": 40})
    return figure


def brushed_ids(frame: pd.DataFrame, ranges: Mapping[str, Sequence], metric: str | None = None) -> list[str]:
    """The ids of the runs inside every brushed range: ``ranges`` maps a column to Plotly's ``constraintrange``
    on its axis ([lo, hi], or a list of such), in axis units (log10 on a log axis, the index on a category's).
    Runs without a finite ``metric`` (those ``parallel_figure`` leaves out) are not kept."""
    _check_columns(frame, list(ranges) + ([metric] if metric else []))
    kept = _with_metric(frame, metric)[0] if metric else frame
    inside = np.ones(len(kept), dtype=bool)
    for name, span in ranges.items():
        if span is None or len(span) == 0:
            continue
        spans = span if isinstance(span[0], (list, tuple)) else [span]
        values = axis_values(kept[name], name)[0] if name != metric else kept[name].astype(float).to_numpy()
        hit = np.zeros(len(kept), dtype=bool)
        for lo, hi in spans:
            hit |= (values >= min(lo, hi)) & (values <= max(lo, hi))
        inside &= hit
    return list(kept["id"][inside])


@clears_toolbar
def scatter_figure(frame: pd.DataFrame, setting: str, metric: str, seeds: str = "group",
                   metric_label: str | None = None, title: str | None = None) -> go.Figure:
    """``metric`` against ``setting`` (a log x axis for the learning rate, or a positive setting spanning 100×
    or more; categories on a category axis). ``seeds``: "group" draws one point per seed group (runs that
    differ only in their seed) at the mean with ± one standard deviation as an error bar, its runs faint
    beneath; "every" draws every run (always, against the seed)."""
    if seeds not in ("group", "every"):
        raise ValueError(f"seeds is 'group' (a point per seed group) or 'every' (a point per run); got {seeds!r}.")
    if setting == "seed":  # a seed group spans the seeds: against the seed, every run is its own point
        seeds = "every"
    _check_columns(frame, [setting, metric, "id", "name"])
    kept, count = _with_metric(frame, metric)
    label = metric_label or axis_title(metric)
    categorical = _categorical(kept[setting], setting)

    def xs(column: pd.Series) -> list:
        if categorical:
            return list(category_text(column, setting))
        return list(column.astype(float))

    percent = metric.endswith("accuracy")
    fmt = "%{y:.2%}" if percent else "%{y:.4g}"
    traces = [go.Scatter(x=xs(kept[setting]), y=kept[metric].astype(float), mode="markers", name="each run",
                         customdata=np.array(list(zip(kept["id"], kept["name"])), dtype=object).reshape(-1, 2),
                         hovertemplate=f"%{{customdata[1]}}<br>{axis_title(setting)} %{{x}}<br>{label} {fmt}"
                                       "<extra></extra>",
                         marker={"color": PALETTE[0], "size": 7 if seeds == "every" else 5,
                                 "opacity": 1.0 if seeds == "every" else RAW_OPACITY})]
    if seeds == "group":
        groups = group_seeds(kept, metric)
        groups = groups[groups["n"] > 0]
        std = groups[f"{metric}_std"].fillna(0.0)
        traces.append(go.Scatter(
            x=xs(groups[setting]), y=groups[f"{metric}_mean"], mode="markers", name="seed group (mean ± std)",
            error_y={"type": "data", "array": std.to_numpy(), "visible": True, "thickness": 1.5},
            customdata=np.column_stack([groups["n"], groups["seeds"]]) if len(groups) else None,
            hovertemplate=f"{axis_title(setting)} %{{x}}<br>{label} {fmt} (mean of %{{customdata[0]}} runs, "
                          "seeds %{customdata[1]})<extra></extra>",
            marker={"color": PALETTE[1], "size": 10, "symbol": "diamond"}))
    figure = go.Figure(traces)
    xaxis: dict = {"title": {"text": axis_title(setting)}}
    if categorical:
        xaxis |= {"type": "category", "categoryorder": "array", "categoryarray": _categories(kept[setting], setting)}
    elif _log(kept[setting], setting):
        xaxis["type"] = "log"
    figure.update_layout(title={"text": title or f"{label} against {axis_title(setting)}: {count}", "x": 0,
                                "xanchor": "left", "font": {"size": 14}},
                         xaxis=xaxis, yaxis={"title": {"text": label}, **({"tickformat": ".1%"} if percent else {})},
                         height=360, margin={"l": 60, "r": 10, "t": 60, "b": 45},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0})
    return figure


def _series(history: History, metric: str, x: str) -> tuple[list[float], list[float]]:
    """(x, y) of one run's ``metric`` against ``x`` (a key of ``COMPARE_X``)."""
    steps, epochs = list(history.steps), list(history.epochs)
    step_x, epoch_x = _compare_x(history, steps, epochs, x)
    if metric == "loss":
        return list(step_x), [s.loss for s in steps][:len(step_x)]
    if x == "step":  # an epoch's metric sits at its last step, so it lines up with the loss's steps
        epoch_x = [e.step for e in epochs]
    return list(epoch_x), [getattr(e, metric) for e in epochs]


def _rgba(color: str, alpha: float) -> str:
    """A "#rrggbb" colour with this opacity, as "rgba(r,g,b,a)"."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _line(x, y, name: str, color: str, width: float = 1.5, **extra) -> go.Scatter:
    return go.Scatter(x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float), mode="lines", name=name,
                      line={"color": color, "width": width}, legendgroup=name, **extra)


@clears_toolbar
def curves_figure(runs: Sequence[tuple[str, History | Sequence[History]]], metric: str = "loss", x: str = "step",
                  smoothing: float = 0.6, title: str | None = None) -> go.Figure:
    """The chosen runs' ``metric`` ("loss" per step, or an epoch metric of ``METRICS``) against ``x`` ("step",
    "epoch", "images" seen or "time"), smoothed by ``smoothing`` (TensorBoard's, 0 for none) with the raw
    curve faint beneath. ``runs``: (label, history) for one run, or (label, [histories]) for a seed group:
    its runs' raw curves faint, the mean of their smoothed curves, and a band of ± one standard deviation."""
    if metric not in CURVE_METRICS:
        raise ValueError(f"a curve's metric is one of {', '.join(CURVE_METRICS)}; got {metric!r}.")
    if x not in COMPARE_X:
        raise ValueError(f"x must be one of {', '.join(COMPARE_X)}; got {x!r}.")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1); got {smoothing}.")
    traces = []
    for i, (label, runs_of) in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        members = [runs_of] if isinstance(runs_of, History) else list(runs_of)
        curves = []
        for history in members:
            xs, ys = _series(history, metric, x)
            raw_x, raw_y = _thin(xs, ys, MAX_RAW_POINTS)
            traces.append(_line(raw_x, raw_y, label, color, width=1, opacity=RAW_OPACITY, showlegend=False,
                                hoverinfo="skip"))
            curves.append((np.asarray(xs, dtype=float), np.asarray(smooth(ys, smoothing), dtype=float)))
        curves = [c for c in curves if len(c[0])]
        if not curves:
            continue
        grid = curves[0][0]
        if len(curves) == 1:
            mean = curves[0][1]
            name = label
        else:  # each member's smoothed curve on the first one's x, where it reaches
            stack = np.vstack([np.interp(grid, cx, cy, left=np.nan, right=np.nan) for cx, cy in curves])
            with np.errstate(invalid="ignore"):
                mean, std = np.nanmean(stack, axis=0), np.nanstd(stack, axis=0)
            name = f"{label} (mean of {len(curves)})"
            traces.append(_line(grid, mean + std, name, color, width=0, showlegend=False, hoverinfo="skip"))
            traces.append(_line(grid, mean - std, name, color, width=0, showlegend=False, hoverinfo="skip",
                                fill="tonexty", fillcolor=_rgba(color, BAND_OPACITY)))
        mean_x, mean_y = _thin(list(grid), list(mean), MAX_RAW_POINTS)
        traces.append(_line(mean_x, mean_y, name, color, width=2))
    percent = metric.endswith("accuracy")
    label_y = axis_title(metric) + (f" (smoothed {smoothing:g})" if smoothing else "")
    figure = go.Figure(traces)
    figure.update_layout(title={"text": title or f"{axis_title(metric)} by {COMPARE_X[x][0]}", "x": 0,
                                "xanchor": "left", "font": {"size": 14}},
                         xaxis={"title": {"text": COMPARE_X[x][0]}},
                         yaxis={"title": {"text": label_y}, **({"tickformat": ".1%"} if percent else {})},
                         height=360, margin={"l": 60, "r": 10, "t": 60, "b": 45}, hovermode="x unified",
                         legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0})
    if not traces:
        figure.update_layout(xaxis_range=[0, 10], yaxis_range=[0, 1])
    return figure
