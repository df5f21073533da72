"""Figures for the Train page: plotly, headless.

What lives here: pure functions from a run's ``History`` to numbers and ``go.Figure``s that tests
read through ``fig.data`` (the curves smoothed by ``curves.smooth``):
- ``loss_figure``: the loss of every step, raw (faint) and smoothed, with a mark where a run diverged;
- ``epoch_figure``: train/test loss and accuracy per epoch, side by side;
- ``compare_figure``: several runs overlaid (smoothed loss, test accuracy) against step, epoch,
  images seen or training time (``COMPARE_X``);
- ``loss_spec``, ``epoch_spec`` and ``figure_json``: the same two figures as plain dicts and as JSON;
- ``live_loss_spec`` / ``LiveLossCurve``: the loss chart the live view redraws twice a second while a
  run trains, read incrementally and thinned to a bounded number of points, so a refresh costs the
  same at step 100 and at step 1,000,000;
- ``live_view_content``: everything a run's live view shows (title, status, progress, both
  figures, caption); ``ui.LiveFeed`` calls it on its own thread, so it is library code.
Each takes a ``uirevision``: the page passes one constant per run, so Plotly keeps the user's
zoom while the live view redraws the figure. While a run trains, the loss chart's axes have set
ranges, so the live view can move only the curves.
What does not live here: widgets and layout (``pages/train.py``), training (``engine``). No streamlit.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from ..curves import smooth
from ..engine import History
from ..runs import Run, progress_text, status_text
from .layout import clears_toolbar

RAW = "#a5b4fc"
SMOOTHED = "#4c6ef5"
TRAIN = "#4c6ef5"
TEST = "#f08c00"
DIVERGED = "#d62728"
PALETTE = qualitative.Plotly
MAX_RAW_POINTS = 5000  # beyond this the raw trace is thinned (the smoothed one keeps every step's trend)
HEIGHT = 300
SPEED_HINT = "Too fast to watch? Pick a slower Speed under Start for the next run."
"""Where the speed is set: the live view's caption starts with it (the caption is one line, cut at the right)
while a run trains at full speed or after a quick one."""
QUICK_RUN_S = 30.0  # a run whose training took less than this was over before one could watch it


def _thin(xs: list, ys: list, max_points: int) -> tuple[list, list]:
    """Every k-th point (and the last) when there are more than ``max_points``."""
    if len(xs) <= max_points:
        return xs, ys
    k = math.ceil(len(xs) / max_points)
    idx = list(range(0, len(xs), k))
    if idx[-1] != len(xs) - 1:
        idx.append(len(xs) - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 × a power of ten that is ≥ value (> 0)."""
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= value * (1 - 1e-12))


def _spec(traces: list[dict], layout: dict, title: str, uirevision: str | int | None) -> dict:
    """A figure as plain Plotly dicts (``{"data": ..., "layout": ...}``): the house layout plus ``layout``."""
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        "height": HEIGHT, "margin": {"l": 60, "r": 10, "t": 40, "b": 45},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        "uirevision": uirevision, "hovermode": "x unified",
        **layout,
    }
    return {"data": traces, "layout": layout}


def _figure(spec: dict) -> go.Figure:
    """A ``go.Figure`` from a spec, without Plotly's per-property validation.

    The live view rebuilds its figures twice a second in the process that trains; validating
    every property costs ~10× more than the figure itself and takes the GIL from the training
    thread. The specs here are valid Plotly (the tests rebuild them with validation on).
    """
    return go.Figure(spec, _validate=False)


def figure_json(spec: dict) -> str:
    """A spec (``loss_spec``, ``epoch_spec``) as Plotly JSON, for the live view.

    Straight from the dicts: a ``go.Figure`` would first copy in its template and then deep-copy
    everything again, most of a live-view snapshot's time (``scripts/bench_live_view.py``).
    """
    from plotly.io.json import to_json_plotly

    return to_json_plotly(spec)


def _line(x: list, y: list, name: str, color: str, **extra) -> dict:
    # numpy arrays: Plotly copies them in one piece (a list is deep-copied float by float)
    return {"type": "scatter", "x": np.asarray(x, dtype=np.float64), "y": np.asarray(y, dtype=np.float64),
            "mode": "lines", "name": name, "line": {"color": color}, **extra}


# two panels side by side: x/y on the left, x2/y2 on the right
PANELS = {
    "xaxis": {"domain": [0.0, 0.44], "anchor": "y"},
    "xaxis2": {"domain": [0.56, 1.0], "anchor": "y2"},
    "yaxis": {"anchor": "x"},
    "yaxis2": {"anchor": "x2"},
}


def _panels(**axes: dict) -> dict:
    """PANELS with extra settings merged into the named axes."""
    return {name: {**PANELS[name], **axes.get(name, {})} for name in PANELS}


@clears_toolbar
def loss_figure(history: History, smoothing: float = 0.6, uirevision: str | int | None = None,
                title: str = "Loss per step") -> go.Figure:
    """The loss of every reported step: raw (faint) and smoothed; a red mark where it diverged."""
    return _figure(loss_spec(history, smoothing, uirevision, title))


@clears_toolbar
def loss_spec(history: History, smoothing: float = 0.6, uirevision: str | int | None = None,
              title: str = "Loss per step") -> dict:
    """``loss_figure`` as plain Plotly dicts: every step smoothed, the raw trace thinned past ``MAX_RAW_POINTS``."""
    steps = list(history.steps)  # a snapshot: the training thread may append meanwhile
    xs = [s.step for s in steps]
    ys = [s.loss for s in steps]
    raw_x, raw_y = _thin(xs, ys, MAX_RAW_POINTS)
    finite = [y for y in ys if math.isfinite(y)]
    return _loss_spec(history, raw_x, raw_y, xs, smooth(ys, smoothing), smoothing, max(finite, default=None),
                      uirevision, title)


def _loss_spec(history: History, raw_x, raw_y, smooth_x, smooth_y, smoothing: float, highest: float | None,
               uirevision, title: str) -> dict:
    """The loss chart from its two traces' points and the highest finite loss so far."""
    traces = [
        _line(raw_x, raw_y, "raw", RAW, hovertemplate="%{y:.4f}"),
        _line(smooth_x, smooth_y, f"smoothed ({smoothing:g})", SMOOTHED, hovertemplate="%{y:.4f}"),
    ]
    traces[0]["line"]["width"] = 1
    traces[1]["line"]["width"] = 2
    layout = {"xaxis": {"title": {"text": "step"}, "rangemode": "tozero"},
              "yaxis": {"title": {"text": "cross-entropy"}}}
    start = history.start
    if start is not None and history.end is None and highest is not None:
        # while it trains, a still frame the curve grows into: x to a round number past the steps trained
        # (at most the whole run, so a few stepped points are no sliver), y 0 to the highest loss so far;
        # both move in rare jumps, so the live view mostly redraws only the curves (nnplay/ui/live_run.js),
        # and a finished run's chart fits its data
        trained = max(raw_x[-1] if len(raw_x) else 0, 1)
        layout["xaxis"]["range"] = [0, min(start.epochs * start.steps_per_epoch, _nice_ceiling(trained * 1.1))]
        layout["yaxis"]["range"] = [0, _nice_ceiling(highest * 1.05)]
    if not len(raw_x):  # before the first burst of steps: sensible empty axes and a word on what comes
        layout["xaxis"]["range"] = [0, 10]
        layout["yaxis"]["range"] = [0, 2.5]
        layout["annotations"] = [{"text": "the loss of every step appears here", "showarrow": False, "x": 0.5,
                                  "y": 0.5, "xref": "paper", "yref": "paper", "font": {"color": "#868e96"}}]
    end = history.end
    if end is not None and end.status == "diverged":
        layout["shapes"] = [{"type": "line", "x0": end.step, "x1": end.step, "y0": 0, "y1": 1, "yref": "paper",
                             "line": {"color": DIVERGED, "dash": "dash"}}]
        layout["annotations"] = [{"x": end.step, "y": 1, "yref": "paper", "text": f"diverged at step {end.step}",
                                  "showarrow": False, "xanchor": "right", "yanchor": "top",
                                  "font": {"color": DIVERGED}}]
    return _spec(traces, layout, title, uirevision)


LIVE_POINTS = 1000  # the live view's loss traces keep between 1,000 and 2,000 points each, however long the run


class LiveLossCurve:
    """A run's loss curve for the live view, kept up to date step by step at a bounded size.

    Each refresh reads only the steps reported since the last one (the smoothing carries on from
    where it stopped), and keeps one step in every ``stride``: when more than ``2 × max_points`` are
    kept, every other one is dropped and the stride doubles (TensorBoard likewise thins long
    series to a fixed number of points). So a refresh costs the same at step 100 and at step
    1,000,000; the newest step is always drawn. The live view draws a run that has ended from the
    same curve; ``loss_spec`` (every smoothed step) is the full chart for other uses.
    """

    def __init__(self, smoothing: float, max_points: int = LIVE_POINTS):
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing weight must be in [0, 1); got {smoothing}.")
        self.smoothing = smoothing
        self.max_points = max_points
        self.seen = 0       # steps read so far
        self.stride = 1     # one kept point every ``stride`` steps
        self.x: list[int] = []
        self.raw: list[float] = []
        self.smoothed: list[float] = []
        self.highest: float | None = None  # the highest finite loss so far
        self.tail: tuple[int, float, float] | None = None  # the newest step (x, raw, smoothed)
        self._ema, self._n = 0.0, 0

    def update(self, steps: Sequence) -> LiveLossCurve:
        """Read the steps after the ones already read (``steps`` only grows: a History's list)."""
        w = self.smoothing
        for s in steps[self.seen:]:
            v = s.loss
            if math.isfinite(v):  # as ``smooth``: non-finite values pass through outside the average
                self._ema = self._ema * w + (1.0 - w) * v
                self._n += 1
                sm = self._ema / (1.0 - w ** self._n)
                self.highest = v if self.highest is None else max(self.highest, v)
            else:
                sm = v
            if self.seen % self.stride == 0:
                self.x.append(s.step)
                self.raw.append(v)
                self.smoothed.append(sm)
                if len(self.x) > 2 * self.max_points:  # kept points sit at multiples of the stride: halve them
                    self.x, self.raw, self.smoothed = self.x[::2], self.raw[::2], self.smoothed[::2]
                    self.stride *= 2
            self.tail = (s.step, v, sm)
            self.seen += 1
        return self

    def points(self) -> tuple[list, list, list]:
        """(x, raw, smoothed): the kept points plus the newest step."""
        if self.tail is None or (self.x and self.x[-1] == self.tail[0]):
            return self.x, self.raw, self.smoothed
        return self.x + [self.tail[0]], self.raw + [self.tail[1]], self.smoothed + [self.tail[2]]


_live_curves: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@clears_toolbar
def live_loss_spec(history: History, smoothing: float = 0.6, uirevision: str | int | None = None,
                   title: str = "Loss per step") -> dict:
    """The loss chart for the live view: both traces thinned to a bounded size (``LiveLossCurve``).

    The curve is kept per history between calls, so each call reads only the new steps; a changed
    smoothing starts it again.
    """
    curve = _live_curves.get(history)
    if curve is None or curve.smoothing != smoothing:
        curve = _live_curves[history] = LiveLossCurve(smoothing)
    xs, raw, smoothed = curve.update(history.steps).points()
    if curve.stride > 1:  # say so where the curve is: one step in every ``stride`` is drawn
        title = f"{title} (1 in {curve.stride:,} steps drawn)"
    return _loss_spec(history, xs, raw, xs, smoothed, smoothing, curve.highest, uirevision, title)


@clears_toolbar
def epoch_figure(history: History, uirevision: str | int | None = None) -> go.Figure:
    """Train and test loss (left) and accuracy (right) after each epoch."""
    return _figure(epoch_spec(history, uirevision))


@clears_toolbar
def epoch_spec(history: History, uirevision: str | int | None = None) -> dict:
    """``epoch_figure`` as plain Plotly dicts."""
    epochs = list(history.epochs)
    xs = [e.epoch for e in epochs]
    traces = []
    for axes, metric, fmt in (("x/y", "loss", ".4f"), ("x2/y2", "accuracy", ".2%")):
        xaxis, yaxis = axes.split("/")
        for split, color in (("train", TRAIN), ("test", TEST)):
            traces.append(_line(xs, [getattr(e, f"{split}_{metric}") for e in epochs], f"{split} {metric}", color,
                                mode="lines+markers", legendgroup=split, xaxis=xaxis, yaxis=yaxis,
                                hovertemplate=f"%{{y:{fmt}}}"))
            traces[-1]["line"]["dash"] = "solid" if split == "test" else "dot"
    x = {"title": {"text": "epoch"}, **epoch_ticks(len(xs))}
    layout = _panels(xaxis=x, xaxis2=x, yaxis={"title": {"text": "loss"}},
                     yaxis2={"title": {"text": "accuracy"}, "tickformat": ".1%"})
    if not epochs:  # before the first epoch ends: sensible empty axes rather than Plotly's 0…4
        for name, span in (("xaxis", [0.5, 1.5]), ("xaxis2", [0.5, 1.5]), ("yaxis", [0, 2.5]), ("yaxis2", [0, 1])):
            layout[name]["range"] = span
        note = "no epoch was completed" if history.end is not None else "after epoch 1"
        layout["annotations"] = [{"text": note, "showarrow": False, "x": sum(PANELS[axis]["domain"]) / 2,
                                  "y": 0.5, "xref": "paper", "yref": "paper", "font": {"color": "#868e96"}}
                                 for axis in ("xaxis", "xaxis2")]
    return _spec(traces, layout, "Per epoch", uirevision)


def epoch_ticks(epochs: int) -> dict:
    """Axis settings for an epoch axis: whole epochs, at most about 10 labels, never rotated."""
    step = next(m for m in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if epochs / m <= 10)
    return {"tick0": step if step > 1 else 1, "dtick": step, "tickangle": 0}


# compare_figure's x axes: key → (label of the loss panel's axis, label of the accuracy panel's axis)
COMPARE_X = {
    "step": ("step", "epoch"),
    "epoch": ("epoch", "epoch"),
    "images": ("images seen", "images seen"),
    "time": ("training time (s)", "training time (s)"),
}


def _compare_x(history: History, steps: list, epochs: list, x: str) -> tuple[list[float], list[float]]:
    """x of each step and of each epoch's end for ``compare_figure``.

    Images seen and epochs within an epoch are counted at the mean batch size (exact at each
    epoch's end); training time is interpolated within each epoch from its measured seconds
    (pauses and evaluations left out), and steps past the last finished epoch are left out.
    """
    start = history.start
    per_epoch = start.steps_per_epoch if start else 1
    images_per_step = start.train_size / per_epoch if start else 0
    if x == "step":
        return [s.step for s in steps], [e.epoch for e in epochs]
    if x == "epoch":
        return [s.step / per_epoch for s in steps], [e.epoch for e in epochs]
    if x == "images":
        return [s.step * images_per_step for s in steps], [e.epoch * per_epoch * images_per_step for e in epochs]
    ends = np.cumsum([0.0] + [e.seconds for e in epochs])
    step_x = [ends[s.epoch - 1] + (s.step - (s.epoch - 1) * per_epoch) / per_epoch * epochs[s.epoch - 1].seconds
              for s in steps if s.epoch <= len(epochs)]
    return step_x, list(ends[1:])


@clears_toolbar
def compare_figure(runs: Sequence[tuple[str, History]], smoothing: float = 0.6,
                   uirevision: str | int | None = None, title: str = "Compare runs", x: str = "step") -> go.Figure:
    """Chosen runs overlaid: smoothed loss (left) and test accuracy after each epoch (right).

    ``runs`` is a list of (label, history); each run keeps one colour in both panels. ``x`` is a key
    of ``COMPARE_X``: "step" (the loss by step, the accuracy by epoch), "epoch", "images" (images
    seen) or "time" (training time), so runs with different batch sizes line up.
    """
    if x not in COMPARE_X:
        raise ValueError(f"x must be one of {', '.join(COMPARE_X)}; got {x!r}.")
    traces = []
    for i, (label, history) in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        steps = list(history.steps)
        epochs = list(history.epochs)
        step_x, epoch_x = _compare_x(history, steps, epochs, x)
        ys = smooth([s.loss for s in steps], smoothing)[:len(step_x)]
        xs, ys = _thin(step_x, ys, MAX_RAW_POINTS)
        traces.append(_line(xs, ys, label, color, legendgroup=label, hovertemplate="%{y:.4f}"))
        traces.append(_line(epoch_x, [e.test_accuracy for e in epochs], label, color,
                            mode="lines+markers", legendgroup=label, showlegend=False, xaxis="x2", yaxis="y2",
                            hovertemplate="%{y:.2%}"))
    most = max((len(h.epochs) for _, h in runs), default=0)
    left, right = COMPARE_X[x]
    layout = _panels(xaxis={"title": {"text": left}, **(epoch_ticks(most) if x == "epoch" else {})},
                     xaxis2={"title": {"text": right}, **(epoch_ticks(most) if right == "epoch" else {})},
                     yaxis={"title": {"text": f"loss (smoothed {smoothing:g})" if smoothing else "loss"}},
                     yaxis2={"title": {"text": "test accuracy"}, "tickformat": ".1%"})
    # no points yet: Plotly's default ranges read "−100% to 400%" accuracy; sensible empty axes instead
    if not any(len(h.steps) for _, h in runs):
        layout["xaxis"]["range"], layout["yaxis"]["range"] = [0, 10], [0, 2.5]
    if not any(len(h.epochs) for _, h in runs):
        layout["xaxis2"]["range"], layout["yaxis2"]["range"] = [0, 1], [0, 1]
    # the legend goes under the panels: at the top right, Plotly's toolbar covers it
    layout["legend"] = {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0}
    layout["height"] = HEIGHT + 40 + 22 * math.ceil(len(runs) / 3)
    layout["margin"] = {"l": 60, "r": 10, "t": 40, "b": 60 + 22 * math.ceil(len(runs) / 3)}
    return _figure(_spec(traces, layout, title, uirevision))


def live_view_content(run: Run, options: dict) -> dict:
    """What a run's live view shows: title, status, progress (fraction and text), both figures as JSON,
    and a caption with the epochs' times.

    ``ui.live_run_view`` draws it once for a finished run; ``ui.LiveFeed`` calls it on its own thread
    twice a second while the run trains. ``options``: ``smoothing`` (0.6 when absent). ``busy``: the run
    trains at full speed (not paused, stepped or slowed): the view then redraws its heavy pictures less often.
    ``calm``: ``Run.calm`` (busy or queued while training takes every core of this machine): the view then
    fetches once a second, not twice, and its feed renders half as often (see ``ui.live.CALM_POLL_MS``).
    """
    p = run.progress()
    epochs = list(run.history.epochs)
    caption = ""
    if epochs:
        caption = ("Epoch training times (s): " + ", ".join(f"{e.seconds:.2f}" for e in epochs)
                   + f" · last evaluation {epochs[-1].eval_seconds:.2f} s")
    if run.busy or (run.status == "finished" and sum(e.seconds for e in epochs) < QUICK_RUN_S):
        caption = f"{SPEED_HINT} · {caption}" if caption else SPEED_HINT
    uirevision = f"run-{run.id}"
    return {
        "title": run.name,
        "status": status_text(run),
        "busy": run.busy,
        "calm": run.calm,
        "fraction": min(p["fraction"], 1.0),
        "progress": progress_text(run),
        "figures": [figure_json(live_loss_spec(run.history, options.get("smoothing", 0.6), uirevision=uirevision)),
                    figure_json(epoch_spec(run.history, uirevision=uirevision))],
        "caption": caption,
    }

