"""The Compare page's glue: its choices kept in the URL, and the parallel coordinates that can be brushed.

What lives here: ``open_view`` (the link's choices become the widgets' values, once per new link; a bad value
gets a sentence), ``current_view`` (the widgets' values as a ``CompareView``), ``write_view`` (the view back
into the address bar), the brushed ranges kept across reruns (``kept_brush``, ``clear_brush``) and
``parcoords_brush`` (a v2 component, nnplay/ui/parcoords_brush.js, that draws a Parcoords figure and sends
back the ranges brushed on its axes: Streamlit's own chart does not report them, plotly/plotly.py #5026).
What does not: the choices' text form and the brush as a filter (``compare_query``), the table, summaries
and figures (``nnplay.compare``, ``nnplay.figures.compare``), the page's layout (pages/compare.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from .compare_query import CompareView, Ranges, ranges_of, view_from_query, view_to_query
from .live import _live_component, _served, component_js

WRITTEN_KEY = "_compare_url_written"  # the query string the page last wrote, or applied
NOTES_KEY = "_compare_url_notes"
BRUSH_KEY = "compare_brush"  # {column: [(lo, hi), ...]}: the brush, kept across reruns
NAMED_KEY = "_compare_brush_names"  # {column: [category, ...]}: a link's category brush, until the axes are drawn
COMPONENT_KEY = "compare_parcoords"
AXES_DEFAULT_KEY = "_compare_axes_default"  # the axes the page chose last, while the learner has not
SUMMARY_PREFIX = "compare_summary_"  # + metric: that metric's summary's select box
_JS = Path(__file__).with_name("parcoords_brush.js")
_CSS = """
.nnplay-parcoords-plot { width: 100%; }
.nnplay-parcoords-error { color: var(--st-red-color, #d62728); font-size: 0.875rem; }
"""


def open_view() -> list[str]:
    """Apply the link's choices to the widgets when the link is new to this session (a fresh page, a pasted
    link, a sweep's link to its runs), or the view the session left when it comes back from another
    page; returns the sentences on the link's bad values."""
    query, written = st.query_params.to_dict(), st.session_state.get(WRITTEN_KEY)
    if not query and written:  # back from another page (its link has no query): the view this session left
        st.query_params.from_dict(written)
        query = dict(written)
    if query == written and "compare_k" in st.session_state:  # a widget's value goes when another page runs
        return st.session_state.pop(NOTES_KEY, [])
    view, notes = view_from_query(query)
    for key in [k for k in st.session_state if str(k).startswith(SUMMARY_PREFIX)]:
        del st.session_state[key]
    st.session_state.update({
        "compare_sweep": view.sweep, "compare_metric": view.metric, "compare_k": view.k,
        "compare_setting": view.setting, "compare_seeds": view.seeds, "compare_x": view.x,
        "compare_smoothing": view.smoothing, BRUSH_KEY: view.brush, NAMED_KEY: view.brush_names,
        **{SUMMARY_PREFIX + m: how for m, how in view.summaries.items()},
    })
    if view.axes is None:
        st.session_state.pop("compare_axes", None)
    else:
        st.session_state["compare_axes"] = list(view.axes)
    st.session_state[WRITTEN_KEY] = query
    return notes


def resolve_brush(categories: dict[str, list[str]]) -> list[str]:
    """A link's category brush (the categories it keeps) as ranges on the category axes drawn now (``categories``:
    each one's names in axis order), into the kept brush; the sentences on what these runs do not have."""
    names = st.session_state.pop(NAMED_KEY, None)
    if not names:
        return []
    ranges, notes = ranges_of(names, categories)
    st.session_state[BRUSH_KEY] = {**kept_brush(), **ranges}
    return notes


def current_view(axes_default: list[str] | None = None, setting_default: str = "", metric_default: str = "",
                 categories: dict[str, list[str]] | None = None) -> CompareView:
    """The view the widgets show now (the axes and the scatter's setting left out while they are the page's
    default, so the link follows the runs shown); ``categories``: the category axes drawn, whose brush the link
    keeps as the categories it keeps."""
    s = st.session_state
    axes, setting, metric = s.get("compare_axes"), s.get("compare_setting") or "", s.get("compare_metric") or ""
    return CompareView(
        sweep=s.get("compare_sweep") or "", metric="" if metric == metric_default else metric,
        summaries={str(k).removeprefix(SUMMARY_PREFIX): v for k, v in s.items() if str(k).startswith(SUMMARY_PREFIX)},
        k=int(s.get("compare_k", 3)), axes=None if axes is None or axes == axes_default else tuple(axes),
        brush=kept_brush(), setting="" if setting == setting_default else setting, seeds=bool(s.get("compare_seeds", True)),
        x=s.get("compare_x", "epoch"), smoothing=float(s.get("compare_smoothing", 0.6)), categories=categories or {})


def keep_valid(key: str, options: list, what: str) -> str | None:
    """Before a select box ``key`` is drawn: a value (from the link) that is not one of ``options`` becomes the
    first option, and a sentence says so; no value yet becomes the first option quietly."""
    value = st.session_state.get(key)
    if value in options:
        return None
    st.session_state[key] = options[0]
    if value in (None, ""):
        return None
    return (f"The link's {what} {str(value)[:80]!r} is not one of {', '.join(map(str, options))}, so the page shows "
            f"{options[0]}.")


def default_axes(settings: list[str]) -> list[str]:
    """The axes before the multiselect is drawn: the link's (those that are settings), else the settings in
    which these runs differ, which follow the runs shown (another sweep) while the learner has not changed them."""
    s = st.session_state
    axes = s.get("compare_axes")
    if axes is None or axes == s.get(AXES_DEFAULT_KEY):
        axes = list(settings)
    s[AXES_DEFAULT_KEY] = list(settings)
    return axes


def write_view(view: CompareView) -> None:
    """Mirror the view into the query string (only what differs from a plain /compare)."""
    query = view_to_query(view)
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    st.session_state[WRITTEN_KEY] = query


def kept_brush() -> Ranges:
    return dict(st.session_state.get(BRUSH_KEY) or {})


def clear_brush() -> None:
    """Button callback: every axis's brush goes."""
    st.session_state[BRUSH_KEY] = {}


@st.cache_resource(show_spinner=False)
def _component():
    _live_component()  # declares the folder plotly.js is served from
    return st.components.v2.component("nnplay.parcoords_brush", html='<div class="nnplay-parcoords"></div>',
                                      css=_CSS, js=component_js(_JS), isolate_styles=False)


def _take_brush() -> None:
    """The component's new ranges become the kept brush (before the page's rerun reads it)."""
    state = st.session_state.get(COMPONENT_KEY) or {}
    ranges = state.get("ranges") if hasattr(state, "get") else None
    if isinstance(ranges, dict):
        st.session_state[BRUSH_KEY] = {str(col): [(float(lo), float(hi)) for lo, hi in pairs]
                                       for col, pairs in ranges.items() if pairs}


def parcoords_brush(figure, keys: list[str], height: int = 420) -> None:
    """Draw a Parcoords ``figure`` (one trace; its dimensions are the frame's columns ``keys``) with the kept
    brush on its axes; a brush the learner draws becomes the kept one (``kept_brush``) and reruns the page."""
    from plotly.io.json import to_json_plotly

    brush = kept_brush()
    fig = figure.to_dict()
    for dim, col in zip(fig["data"][0].get("dimensions", []), keys):
        pairs = brush.get(col)
        if pairs:
            dim["constraintrange"] = [list(p) for p in pairs]
        else:
            dim.pop("constraintrange", None)
    data = {"plotly_url": _served("plotlyjs", "plotly.min.js"), "figure": json.loads(to_json_plotly(fig)),
            "keys": list(keys), "height": height}
    _component()(data=data, key=COMPONENT_KEY, on_ranges_change=_take_brush)


@st.cache_data(max_entries=8, show_spinner=False)
def _table(home: str, ws: str, sweep: str | None, summaries: tuple, k: int, changes: tuple, _store):
    """``home`` and ``changes`` key the cache: a write to the store (a run that trains) makes a new table."""
    from ..compare import runs_frame

    return runs_frame(_store, ws, sweep, dict(summaries), k)


def runs_table(runs_store, ws: str, sweep: str | None, summaries: dict, k: int):
    """``compare.runs_frame``, kept while the store has not changed: a rerun that only moves the brush or picks
    another setting does not read and summarise every epoch of every run again."""
    return _table(str(runs_store.path), ws, sweep, tuple(sorted(summaries.items())), k, runs_store.changes(),
                  runs_store)


@st.cache_data(max_entries=16, show_spinner=False)
def rated(frame, metric: str, settings: tuple[str, ...]):
    """``compare.importance`` of these runs, kept while they, the metric and the settings are the same (its
    random forest is the page's slowest part)."""
    from ..compare import importance

    return importance(frame, metric, list(settings) or None)


def download(runs_store, ws: str, sweep: str | None, k: int, fmt: str):
    """The file a download button gives, made when it is pressed: every run shown (the whole workspace or the
    sweep), one row each, with its settings and every summary of every metric, as "csv" text or "parquet"
    bytes."""
    from ..compare import runs_frame, to_csv, to_parquet

    frame = runs_frame(runs_store, ws, sweep, k=k, every_summary=True)
    return to_csv(frame) if fmt == "csv" else to_parquet(frame)


def curves_of(runs_store, runs, group_seeds: bool, settings: list[str]) -> list[tuple[str, object]]:
    """(label, history) per run of the table ``runs``, or with ``group_seeds`` (label, [histories]) per seed
    group (its runs that are in ``runs``), labelled by its ``settings`` (the seed and the sweep left out): what
    ``figures.compare.curves_figure`` draws."""
    from ..compare import curve_histories

    histories = curve_histories(runs_store, list(runs["id"]))
    if not group_seeds:
        return [(name, histories[run_id]) for run_id, name in zip(runs["id"], runs["name"]) if run_id in histories]
    out = []
    named = [c for c in settings if c not in ("seed", "sweep")]
    for _, members in runs.groupby("seed_group", sort=False):
        first = members.iloc[0]
        label = " · ".join(f"{c} {first[c]:g}" if isinstance(first[c], float) else f"{c} {first[c]}" for c in named)
        out.append((label or first["name"], [histories[run_id] for run_id in members["id"] if run_id in histories]))
    return out
