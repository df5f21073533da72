"""The one layout rule every figure follows: nothing of it sits under Plotly's toolbar.

Plotly draws its toolbar (the "modebar": zoom, pan, download…) over the top right corner of a chart when
the pointer is on it, which is when a learner reads the legend or the title there. ``clear_of_toolbar``
(a function of a figure or of a spec, and a decorator for figure builders) adds an empty band of
``TOOLBAR_PX`` above whatever a figure shows above its plot (title, legend, a top axis, subplot titles) and
pins the title to the plot, so that everything keeps its place relative to the plot and the toolbar gets
the band. A figure with nothing above its plot is left as it is.

What does not live here: the figures themselves (``train``, ``inspect``, ``experiments``, ``teach``,
``network``, ``watch``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import plotly.graph_objects as go

TOOLBAR_PX = 34  # Plotly's toolbar is 26–30 px tall; the band keeps a few px between it and a legend
PLOTLY_TOP_MARGIN = 100  # plotly.js's default margin.t
TITLE_LINE_PX = 18  # one line of a 14–16 px title

F = TypeVar("F", bound=Callable[..., Any])


def _get(holder: Any, *keys: str) -> Any:
    """``holder[k1][k2]…`` for dicts and Plotly objects alike, None where a level is missing."""
    for key in keys:
        if holder is None:
            return None
        if isinstance(holder, dict):
            holder = holder.get(key)
        else:
            try:
                holder = holder[key]
            except (KeyError, ValueError):
                return None
    return holder


def _title_text(layout: Any) -> str:
    title = _get(layout, "title")
    text = title if isinstance(title, str) else _get(title, "text")
    return text or ""


def _legend_on_top(layout: Any, traces: Any) -> bool:
    """Whether a legend is drawn and reaches the top of the plot (Plotly's default place is its top right)."""
    if _get(layout, "showlegend") is False:
        return False
    shown = [t for t in traces if _get(t, "showlegend") is not False and _get(t, "name")]
    if not (_get(layout, "showlegend") is True or len(shown) >= 2):
        return False
    y = _get(layout, "legend", "y")
    return y is None or y >= 0.5


def _axis_names(layout: Any) -> list[str]:
    keys = layout.keys() if isinstance(layout, dict) else layout.to_plotly_json().keys()
    return [k for k in keys if k.startswith("xaxis")]


def above_plot(layout: Any, traces: Any = ()) -> bool:
    """Whether anything sits above the plot: a title, a legend at the top, an x axis on top, subplot titles."""
    if _title_text(layout) or _legend_on_top(layout, traces):
        return True
    if any(_get(layout, name, "side") == "top" for name in _axis_names(layout)):
        return True
    return any((_get(a, "yref") or "y").startswith("paper") and (_get(a, "y") or 0) >= 1
               for a in (_get(layout, "annotations") or ()))


def toolbar_changes(layout: Any, traces: Any = ()) -> dict:
    """The layout changes that make room for the toolbar (empty when nothing sits above the plot or when
    they were made already)."""
    meta = _get(layout, "meta")
    if (isinstance(meta, dict) and meta.get("toolbar_clear")) or not above_plot(layout, traces):
        return {}
    top = _get(layout, "margin", "t")
    top = PLOTLY_TOP_MARGIN if top is None else top
    changes: dict = {"margin": {"t": top + TOOLBAR_PX},
                     "meta": {**(meta if isinstance(meta, dict) else {}), "toolbar_clear": True}}
    height = _get(layout, "height")
    if height is not None:
        changes["height"] = height + TOOLBAR_PX  # the plot keeps its size
    text = _title_text(layout)
    if text:
        # pinned to the plot where Plotly's "auto" put it (the middle of the old top margin), not to the page,
        # and above any subplot titles
        lines = text.count("<br>") + 1
        pad = max(2, round(top / 2 - TITLE_LINE_PX * lines / 2), _subplot_titles_px(layout))
        changes["title"] = {"text": text, "yref": "paper", "y": 1, "yanchor": "bottom", "pad": {"b": pad}}
        grow = max(0, pad + TITLE_LINE_PX * lines + 4 - top)  # what the title needs beyond the old margin
        changes["margin"]["t"] += grow
        if height is not None:
            changes["height"] += grow
    return changes


def _subplot_titles_px(layout: Any) -> int:
    """How far above the plot the annotations at its top (subplot titles) reach, in px (estimated)."""
    reach = 0
    for note in _get(layout, "annotations") or ():
        if (_get(note, "yref") or "y").startswith("paper") and (_get(note, "y") or 0) >= 1:
            reach = max(reach, TITLE_LINE_PX * (str(_get(note, "text") or "").count("<br>") + 1) + 4)
    return reach


def _merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def clear_of_toolbar(figure: Any) -> Any:
    """``figure`` (a ``go.Figure`` or a ``{"data", "layout"}`` spec) with a band for Plotly's toolbar above
    its title and legend; returns the same object (changed in place). Anything else passes through."""
    if isinstance(figure, go.Figure):
        changes = toolbar_changes(figure.layout, figure.data)
        if changes:
            title = figure.layout.title.to_plotly_json() if changes.get("title") else None
            if title is not None:
                changes["title"] = {**title, **changes["title"]}
            figure.update_layout(changes)
    elif isinstance(figure, dict) and isinstance(figure.get("layout"), dict):
        layout = figure["layout"]
        if isinstance(layout.get("title"), str):
            layout["title"] = {"text": layout["title"]}
        _merge(layout, toolbar_changes(layout, figure.get("data") or ()))
    return figure


def clears_toolbar(builder: F) -> F:
    """Decorator for a figure builder: its figure goes through ``clear_of_toolbar``."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        return clear_of_toolbar(builder(*args, **kwargs))

    build.clears_toolbar = True  # type: ignore[attr-defined]
    return build  # type: ignore[return-value]
