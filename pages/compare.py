"""Compare runs (/compare): every run of the workspace at a glance, as TensorBoard's HParams and W&B's
parallel coordinates show them, and what a learner asks of them.

It reads: the link's choices (``ui.compare_view.open_view``) → the sweep filter, the metric, each metric's
summary → the table (``compare.runs_frame``) → the parallel coordinates, whose brushed axes filter the table
and the curves (``ui.compare_view.parcoords_brush``) → a scatter of one setting against the metric with seed
groups, which settings mattered, the curves of the selected runs, the downloads → the choices back into the
URL (``ui.compare_view.write_view``), so a link shows the same picture.
What does not live here: the table, its summaries, seed groups and importance (``nnplay.compare``), the
figures (``nnplay.figures.compare``), the URL's text form and the brush as a filter (``ui.compare_query``).
"""

from __future__ import annotations

import streamlit as st

from nnplay import compare as cmp
from nnplay.figures import compare as fc
from nnplay.names import escape_markdown, plain_name
from nnplay.store import StoreError
from nnplay.ui import ensure_navigation, store, workspace
from nnplay.ui import compare_view as view
from nnplay.ui.compare_query import SUMMARIES, X_AXES

MAX_CURVES = 40  # the curves of at most this many selected runs are drawn (each run's epochs are read)
X_LABELS = {"step": "step", "epoch": "epoch", "images": "images seen", "time": "training time"}

ensure_navigation()
st.title("📊 Compare runs")
st.caption("Every run of your workspace, from the Train page, the CLI and sweeps: one row each, with its settings "
           "and its metrics. Brush an axis of the parallel coordinates (drag along it) to keep the runs in that "
           "range: the table, the scatter and the curves below follow. The address bar keeps what you chose, so "
           "a link shows the same picture.")

for note in view.open_view():
    st.warning(note, icon=":material/link_off:")

runs_store, ws = store(), workspace()
try:
    sweeps = cmp.sweep_names(runs_store, ws)
    sweep_label = cmp.sweep_labels(runs_store, ws)
except StoreError as err:
    st.error(f"The run store could not be read: {err}")
    st.stop()

# -- which runs --------------------------------------------------------------------------------
chosen_sweep = st.session_state.get("compare_sweep") or ""
if chosen_sweep and chosen_sweep not in sweeps:
    st.warning(f"There is no sweep {escape_markdown(plain_name(chosen_sweep))} in your workspace, so every run is "
               "shown.", icon=":material/filter_alt_off:")
    st.session_state["compare_sweep"] = ""
st.selectbox("Runs", ["", *sweeps], key="compare_sweep",
             format_func=lambda s: f"sweep {sweep_label.get(s, s)}" if s else "every run of the workspace",
             help="all your runs, or the runs of one sweep (a link with ?sweep=<its name> opens it chosen)")

notes = [view.keep_valid("compare_metric", list(cmp.METRICS), "metric")]
notes += [view.keep_valid(view.SUMMARY_PREFIX + m, list(SUMMARIES), f"summary of {m}") for m in cmp.METRICS]
notes += [view.keep_valid("compare_x", list(X_AXES), "x of the curves")]
for note in filter(None, notes):
    st.warning(note, icon=":material/link_off:")
c_metric, c_k = st.columns([3, 1])
metric = c_metric.selectbox("Metric", list(cmp.METRICS), key="compare_metric",
                            format_func=lambda m: m.replace("_", " "),
                            help="the last axis and the colour of the parallel coordinates, the scatter's y, the "
                                 "importance's target and the curves' y")
k = c_k.number_input("k (mean of the last k epochs)", 1, 1000, key="compare_k", step=1)
st.caption("Each metric's summary, per column: the last epoch's value, the best epoch's (highest accuracy, lowest "
           "loss), the lowest, the highest, or the mean of the last k epochs.")
summary_cols = st.columns(len(cmp.METRICS))
for col, m in zip(summary_cols, cmp.METRICS):
    col.selectbox(m.replace("_", " "), SUMMARIES, key=view.SUMMARY_PREFIX + m,
                  format_func=lambda s: cmp.summary_label(s, int(k)))
summaries = {m: st.session_state[view.SUMMARY_PREFIX + m] for m in cmp.METRICS}

try:
    frame = view.runs_table(runs_store, ws, st.session_state["compare_sweep"] or None, summaries, int(k))
except StoreError as err:
    st.error(f"The run store could not be read: {err}")
    st.stop()
if frame.empty:
    st.info("No runs to compare yet. Train a few on the **Train** page (or with `python -m nnplay train`), or start "
            "a sweep, and they appear here, one row each.", icon=":material/info:")
    view.write_view(view.current_view(metric_default=list(cmp.METRICS)[0]))
    st.stop()

# -- parallel coordinates, brushed -----------------------------------------------------------------
settings = cmp.varying_settings(frame)
st.session_state["compare_axes"] = [a for a in view.default_axes(settings) if a in cmp.SETTINGS]
axes = st.multiselect("Axes", list(cmp.SETTINGS), key="compare_axes",
                      help="the settings drawn as axes (at first, those in which these runs differ); the metric "
                           "is the last axis and the colour")
figure = fc.parallel_figure(frame, axes, metric)
keys = list(figure.data[0].meta["columns"])
categories = dict(figure.data[0].meta["categories"])
for note in view.resolve_brush(categories):  # a link's category brush, by name: on the axes drawn now
    st.warning(note, icon=":material/link_off:")
view.parcoords_brush(figure, keys)
brush = {col: pairs for col, pairs in view.kept_brush().items() if col in keys}
selected = frame[frame["id"].isin(fc.brushed_ids(frame, brush, metric))] if brush else frame
if brush:
    c_said, c_clear = st.columns([4, 1])
    c_said.caption(f"The brush keeps **{len(selected)} of {len(frame)} runs** "
                   f"({', '.join(escape_markdown(c) for c in brush)}).")
    c_clear.button("Clear the brush", key="compare_clear", on_click=view.clear_brush)

# -- the table ---------------------------------------------------------------------------------------
with st.container(key="compare_table_box"):  # the box's key names it in the page (a grid has no key of its own)
    shown_first = ["name", *(c for c in selected.columns if c not in cmp.RUN_INFO and c not in cmp.SETTINGS), *axes]
    st.dataframe(selected, hide_index=True, key="compare_table",  # the name, the metrics, the axes, then the rest
                 column_order=[*shown_first, *(c for c in selected.columns if c not in shown_first)],
                 column_config={"created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})

# -- one setting against the metric, and which settings mattered ------------------------------------
c_scatter, c_importance = st.columns([3, 2])
with c_scatter:
    options = axes or list(settings) or list(cmp.SETTINGS)
    if st.session_state.get("compare_setting") not in options:
        st.session_state["compare_setting"] = options[0]
    c_set, c_seeds = st.columns([2, 1])
    setting = c_set.selectbox("Setting", options, key="compare_setting")
    seeds = c_seeds.toggle("Group seeds", key="compare_seeds",
                           help="runs that differ only in their seed as one point: their mean, with a band from "
                                "the lowest to the highest")
    st.plotly_chart(fc.scatter_figure(selected, setting, metric, seeds="group" if seeds else "every"),
                    key="compare_scatter")
with c_importance:
    rated = view.rated(selected, metric, tuple(a for a in axes if a != "sweep"))
    st.markdown("**Which settings mattered**")
    st.caption(rated.sentence)
    if len(rated.table):
        st.dataframe(rated.table[["feature", "correlation", "importance"]], hide_index=True, key="compare_importance")

# -- the curves of the selected runs ------------------------------------------------------------------
c_x, c_smooth = st.columns([2, 1])
x = c_x.radio("Curves by", X_AXES, key="compare_x", horizontal=True, format_func=X_LABELS.get)
smoothing = c_smooth.slider("Smoothing", 0.0, 0.99, key="compare_smoothing", step=0.01,
                            help="the raw curve stays visible, faint, under the smoothed one")
shown = selected.head(MAX_CURVES)
if len(selected) > MAX_CURVES:
    st.caption(f"The curves of the first {MAX_CURVES} of the {len(selected)} selected runs: brush an axis to pick "
               "fewer.")
st.plotly_chart(fc.curves_figure(view.curves_of(runs_store, shown, seeds, axes), metric, x, smoothing),
                key="compare_curves")

# -- downloads: made when pressed ------------------------------------------------------------------------
c_csv, c_parquet = st.columns(2)
shown_runs = (runs_store, ws, st.session_state["compare_sweep"] or None, int(k))
c_csv.download_button("Download CSV", lambda: view.download(*shown_runs, "csv"), "nnplay-runs.csv", "text/csv",
                      key="compare_csv", help="one row per run (every run shown above the brush): its settings "
                                              "and every summary of every metric")
c_parquet.download_button("Download Parquet", lambda: view.download(*shown_runs, "parquet"), "nnplay-runs.parquet",
                          "application/vnd.apache.parquet", key="compare_parquet")

view.write_view(view.current_view(axes_default=settings, setting_default=options[0],
                                  metric_default=list(cmp.METRICS)[0], categories=categories))
