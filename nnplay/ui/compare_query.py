"""The Compare page's choices as a query string (no streamlit).

What lives here: ``CompareView`` (the sweep filter, the metric, each metric's summary and k, the parallel
coordinates' axes, the brushed ranges, the scatter's setting, seed groups, the curves' x and smoothing),
``view_to_query`` / ``view_from_query`` (a link shows the same picture; a bad value is dropped with a
sentence saying so). A category axis's brush goes in the link as the categories it keeps (``col:=relu|tanh``,
``names_of``), not as their places on the axis, and comes back as ranges on the axis drawn then
(``ranges_of``): a link survives a category added before it. What does not: the widgets and the page (``compare_view``, pages/compare.py), the table and
its summaries (``nnplay.compare``), which runs a brush keeps (``nnplay.figures.compare.brushed_ids``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SUMMARIES = ("last", "best", "min", "max", "mean_last")  # as nnplay.compare names them
X_AXES = ("step", "epoch", "images", "time")
DEFAULT_K = 3
MAX_K = 1000
DEFAULT_SMOOTHING = 0.6

Ranges = dict[str, list[tuple[float, float]]]
CATEGORY_HALF = 0.25  # a kept category's brush: this far either side of its place on the axis


@dataclass
class CompareView:
    """What the Compare page shows; the defaults are the picture of a plain /compare."""
    sweep: str = ""  # "": every run of the workspace
    metric: str = ""  # "": the page's first metric
    summaries: dict[str, str] = field(default_factory=dict)  # metric → one of SUMMARIES; absent: "last"
    k: int = DEFAULT_K
    axes: tuple[str, ...] | None = None  # None: every setting that varies
    brush: Ranges = field(default_factory=dict)  # column → [(lo, hi), ...] in the axis's drawn values
    brush_names: dict[str, list[str]] = field(default_factory=dict)  # a category axis → the categories it keeps
    categories: dict[str, list[str]] = field(default_factory=dict)  # a category axis → its names in axis order
    setting: str = ""  # the scatter's x; "": the first axis
    seeds: bool = True  # runs that differ only in their seed as one point with a band
    x: str = "epoch"
    smoothing: float = DEFAULT_SMOOTHING


def _number(value: float) -> str:
    return f"{value:.6g}"


def brush_text(brush: Ranges, names: Mapping[str, Sequence[str]] | None = None) -> str:
    """``col:lo..hi|lo..hi;col2:lo..hi`` (6 significant digits), and ``col3:=a|b`` for a category axis's kept
    ``names``."""
    parts = [f"{col}:" + "|".join(f"{_number(lo)}..{_number(hi)}" for lo, hi in pairs)
             for col, pairs in sorted(brush.items()) if pairs]
    parts += [f"{col}:=" + "|".join(kept) for col, kept in sorted((names or {}).items()) if kept]
    return ";".join(sorted(parts))


def names_of(brush: Ranges, categories: Mapping[str, Sequence[str]]) -> tuple[Ranges, dict[str, list[str]]]:
    """``brush`` with each category axis's ranges (``categories``: its names in axis order) as the names inside them."""
    ranges, names = {}, {}
    for col, pairs in brush.items():
        if col not in categories:
            ranges[col] = pairs
            continue
        kept = [n for i, n in enumerate(categories[col]) if any(lo <= i <= hi for lo, hi in pairs)]
        if kept:
            names[col] = kept
    return ranges, names


def ranges_of(names: Mapping[str, Sequence[str]], categories: Mapping[str, Sequence[str]]
              ) -> tuple[Ranges, list[str]]:
    """The brush on the axes drawn now of each category axis's kept ``names`` (a range around each run of
    neighbouring ones), and a sentence for each name or axis these runs do not have."""
    brush: Ranges = {}
    notes = []
    for col, wanted in names.items():
        order = list(categories.get(col, []))
        if not order:
            notes.append(f"The link's brush on {col[:80]!r} is on no category axis of these runs, so it was left out.")
            continue
        missing = [n for n in wanted if n not in order]
        if missing:
            notes.append(f"The link's brush keeps {', '.join(repr(n[:40]) for n in missing)} of {col[:80]!r}, which "
                         "none of these runs has.")
        places = sorted(order.index(n) for n in wanted if n in order)
        pairs: list[tuple[float, float]] = []
        for i in places:
            if pairs and i == pairs[-1][1] - CATEGORY_HALF + 1:  # the next category: one range over both
                pairs[-1] = (pairs[-1][0], i + CATEGORY_HALF)
            else:
                pairs.append((i - CATEGORY_HALF, i + CATEGORY_HALF))
        if pairs:
            brush[col] = pairs
    return brush, notes


def parse_names(text: str) -> dict[str, list[str]]:
    """The category axes' kept names ``brush_text`` wrote (``col:=a|b``)."""
    names = {}
    for part in filter(None, text.split(";")):
        col, sep, kept = part.partition(":=")
        if col and sep and kept:
            names[col] = [n for n in kept.split("|") if n]
    return names


def parse_brush(text: str) -> tuple[Ranges, list[str]]:
    """The ranges ``brush_text`` wrote, and a sentence for each part that is not one (a category axis's kept
    names, ``col:=a|b``, are ``parse_names``')."""
    brush: Ranges = {}
    notes = []
    for part in filter(None, text.split(";")):
        if ":=" in part:
            continue
        col, sep, spans = part.partition(":")
        pairs = []
        for span in spans.split("|") if sep else []:
            lo, dots, hi = span.partition("..")
            try:
                a, b = float(lo), float(hi)
            except ValueError:
                a = b = math.nan
            if not dots or not (math.isfinite(a) and math.isfinite(b)):
                pairs = []
                break
            pairs.append((min(a, b), max(a, b)))
        if not col or not pairs:
            notes.append(f"The link's brushed range {part[:80]!r} is not column:low..high, so it was left out.")
            continue
        brush[col] = pairs
    return brush, notes


def view_to_query(view: CompareView) -> dict[str, str]:
    """The query string of a view: only what differs from a plain /compare."""
    plain = CompareView()
    q: dict[str, str] = {}
    if view.sweep:
        q["sweep"] = view.sweep
    if view.metric:
        q["metric"] = view.metric
    chosen = {m: how for m, how in sorted(view.summaries.items()) if how != "last"}
    if chosen:
        q["summary"] = ",".join(f"{m}:{how}" for m, how in chosen.items())
    if view.k != plain.k:
        q["k"] = str(view.k)
    if view.axes is not None:
        q["axes"] = ",".join(view.axes)
    ranges, names = names_of(view.brush, view.categories)
    names = {**view.brush_names, **names}
    if ranges or names:
        q["brush"] = brush_text(ranges, names)
    if view.setting:
        q["setting"] = view.setting
    if view.seeds != plain.seeds:
        q["seeds"] = "1" if view.seeds else "0"
    if view.x != plain.x:
        q["x"] = view.x
    if view.smoothing != plain.smoothing:
        q["smooth"] = f"{view.smoothing:g}"
    return q


def view_from_query(query: Mapping[str, str]) -> tuple[CompareView, list[str]]:
    """The view a link names, and a sentence for each value it holds that is not one (left at its default)."""
    view, notes = CompareView(), []
    view.sweep = query.get("sweep", "").strip()
    view.metric = query.get("metric", "").strip()
    for part in filter(None, query.get("summary", "").split(",")):
        metric, _, how = part.partition(":")
        if metric and how in SUMMARIES:
            view.summaries[metric] = how
        else:
            notes.append(f"The link's summary {part[:80]!r} is not metric:how with how one of {', '.join(SUMMARIES)}, "
                         "so that metric shows its last value.")
    if "k" in query:
        try:
            view.k = int(query["k"])
            if not 1 <= view.k <= MAX_K:
                raise ValueError
        except ValueError:
            view.k = DEFAULT_K
            notes.append(f"The link's k={query['k'][:20]!r} is not a whole number of epochs from 1 to {MAX_K}, "
                         f"so the mean is of the last {DEFAULT_K}.")
    if "axes" in query:
        view.axes = tuple(a for a in query["axes"].split(",") if a)
    view.brush, brush_notes = parse_brush(query.get("brush", ""))
    view.brush_names = parse_names(query.get("brush", ""))
    notes += brush_notes
    view.setting = query.get("setting", "").strip()
    if query.get("seeds", "1") not in ("0", "1"):
        notes.append(f"The link's seeds={query['seeds'][:20]!r} is not 0 or 1, so runs that differ only in their "
                     "seed are grouped.")
    view.seeds = query.get("seeds", "1") != "0"
    x = query.get("x", view.x)
    if x in X_AXES:
        view.x = x
    else:
        notes.append(f"The link's x={x[:20]!r} is not one of {', '.join(X_AXES)}, so the curves are drawn by epoch.")
    if "smooth" in query:
        try:
            view.smoothing = float(query["smooth"])
            if not 0.0 <= view.smoothing <= 0.99:
                raise ValueError
        except ValueError:
            view.smoothing = DEFAULT_SMOOTHING
            notes.append(f"The link's smooth={query['smooth'][:20]!r} is not a number from 0 to 0.99, so the "
                         f"curves are smoothed by {DEFAULT_SMOOTHING}.")
    return view, notes
