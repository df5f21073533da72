"""Published results: the classic MNIST tables and figures, reproduced on the learner's machine.

The table puts each paper's test error beside the learner's mean ± std over seeds, the time a seed took and
whether it matches; it is read from the store, so it survives reloads and fills in for everyone in the workspace,
and it redraws every second while seeds train. Each row has a reproduce button (seeds selectable, 3 by default)
that queues its seeds on the workers, refused with a sentence when they do not fit in memory. Each figure row
trains its study where runs train and draws the paper's figure from its own probes, the paper's picture described
in words beside it. The rows and the math live in ``nnplay.papers``, the figures in ``nnplay.figures.papers``,
the glue in ``nnplay.ui.papers_view``. This script reads widgets and draws.
"""

from __future__ import annotations

import streamlit as st

from nnplay import ui
from nnplay.figures import papers as fp
from nnplay.figures.experiments import range_test_figure
from nnplay.names import escape_markdown
from nnplay.papers import DEFAULT_SEEDS, FIGURE_ROWS, latest_runs, results_table, row_result
from nnplay.papers.results import MAX_SEEDS
from nnplay.papers.rows import MEASURED_HERE
from nnplay.ui import dataset_or_stop
from nnplay.ui import papers_view as pv

ui.ensure_navigation()
st.title("📜 Published results")
st.caption("Classic MNIST results, reproduced here: press **Reproduce** on a row to train it with a few seeds and "
           "see your mean ± std beside the paper's number. Runs are kept: the table fills in after a reload and for "
           "everyone in your workspace, and the runs show in Compare runs.")

data = dataset_or_stop()
rows = pv.table_rows()


# ---------------------------------------------------------------------------------------------
# the table


def results_panel() -> None:
    runs = pv.paper_runs()
    active = any(r.active for r in runs)

    @st.fragment(run_every=1.0 if active else None)
    def panel() -> None:
        current = pv.paper_runs()
        table = results_table(rows, current)
        for line, row in zip(table, rows):
            line["on a 2-core CPU"] = MEASURED_HERE.get(row.key, "not measured")
        st.dataframe(table, hide_index=True, key="papers_table",
                     column_order=("result", "paper error %", "nnplay error %", "matches", "time per seed",
                                   "paper", "note", "on a 2-core CPU"),  # the numbers first, on a laptop too
                     column_config={"result": st.column_config.TextColumn(pinned=True),
                                    "note": st.column_config.TextColumn(width="large")})
        st.caption("nnplay error: the mean ± sample standard deviation of the test error over the finished seeds "
                   "of the row's last reproduction. Matches: the mean is at most the paper's number plus twice that "
                   "spread. Time: the mean wall time of a seed here. On a 2-core CPU: what scripts/bench_papers.py "
                   "measured on one.")
        for row in rows:
            status = pv.row_status(row, current)
            if status:
                st.caption(f"⏳ **{escape_markdown(row.title)}**: {status}")
        if active and not any(r.active for r in current):
            st.rerun()  # the whole page: enable the buttons again

    panel()


results_panel()
st.divider()


# ---------------------------------------------------------------------------------------------
# the rows


def _here(note: str) -> str:
    """A row's note after its heading, which the note begins with ("Here: …") or not ("Trained here with …")."""
    return f"**Here:** {note.removeprefix('Here: ')}" if note.startswith("Here: ") else f"**Here.** {note}"


st.subheader("Reproduce a row")
runs = pv.paper_runs()
for row in rows:
    mine = latest_runs(runs, row.key)
    result = row_result(row, mine)
    with st.expander(f"{row.cite} · {row.title}: paper {row.paper_error:g} %, here {result.spread_text()}"):
        about, controls = st.columns([3, 2], gap="large")
        about.markdown(f"**{escape_markdown(row.paper)}**, {row.where}.\n\n**The paper's setup.** {row.setup}\n\n"
                       + _here(row.note))
        seeds = controls.number_input("Seeds", 1, MAX_SEEDS, DEFAULT_SEEDS, key=f"papers_seeds_{row.key}")
        training = any(r.active for r in mine)
        refusal = None if training else pv.row_refusal(row, int(seeds))
        c_run, c_stop = controls.columns(2)
        if c_run.button("Reproduce", key=f"papers_run_{row.key}", type="primary",
                        disabled=training or refusal is not None, width="stretch"):
            refusal = pv.start_row(row, int(seeds), data)
            if refusal is None:
                st.rerun()
        if c_stop.button("Stop", key=f"papers_stop_{row.key}", disabled=not training, width="stretch"):
            pv.stop_row(row, mine)
            st.rerun()
        if refusal:
            controls.error(escape_markdown(f"Cannot reproduce this row now: {refusal}"), icon=":material/block:")
        if row.key in MEASURED_HERE:
            controls.caption(f"On a 2-core CPU: {MEASURED_HERE[row.key]}.")
        for run in mine:
            if run.status in ("error", "diverged"):
                controls.warning(f"{run.name}: {run.message}")
st.divider()


# ---------------------------------------------------------------------------------------------
# the figures


def draw_figure(key: str, result: dict) -> None:
    if key == "glorot":
        for variant in result["variants"]:
            st.plotly_chart(fp.glorot_figure(result, variant, revision=f"glorot-{variant}"),
                            key=f"papers_fig_glorot_{variant}")
    elif key == "ioffe":
        st.plotly_chart(fp.ioffe_accuracy_figure(result), key="papers_fig_ioffe_acc")
        left, right = st.columns(2)
        for column, variant in zip((left, right), result["variants"]):
            column.plotly_chart(fp.ioffe_percentile_figure(result, variant, revision=f"ioffe-{variant}"),
                                key=f"papers_fig_ioffe_{variant}")
    elif key == "he":
        st.plotly_chart(fp.he_figure(result), key="papers_fig_he")
    elif key == "smith":
        left, right = st.columns(2)
        r = result["range"]
        left.plotly_chart(range_test_figure(r["lrs"], r["losses"], r["suggested"]), key="papers_fig_smith_range")
        right.plotly_chart(fp.smith_figure(result), key="papers_fig_smith")
        best = result.get("best")
        st.markdown(f"The range test suggests **{r['suggested']:.2g}**; the sweep's best rate is "
                    f"**{best:g}**." if best is not None else "No rate of the sweep finished.")


st.subheader("Figures")
size = st.radio("Budget", ["quick", "tiny"], horizontal=True, key="papers_size",
                format_func={"quick": "quick (a minute or two each on a CPU)",
                             "tiny": "tiny (seconds: the figure's shape, not the paper's result)"}.get)
for key, figure in FIGURE_ROWS.items():
    with st.expander(f"{figure.cite} · {figure.title} ({figure.where})", expanded=False):
        about, controls = st.columns([3, 2], gap="large")
        about.markdown(f"**The paper's setup.** {figure.setup}\n\n**The paper's figure.** {figure.paper_saw}\n\n"
                       + _here(figure.note))
        if key in MEASURED_HERE:
            controls.caption(f"On a 2-core CPU: {MEASURED_HERE[key]}.")
        refusal = pv.figure_refusal(key)
        if controls.button("Reproduce", key=f"papers_fig_run_{key}", type="primary", disabled=refusal is not None):
            try:
                with st.spinner("Training and probing…"):
                    pv.run_figure(key, size, data)
            except (ValueError, RuntimeError) as err:
                controls.error(f"The figure could not be made: {err}")
        if refusal:
            controls.error(escape_markdown(f"Cannot reproduce this figure now: {refusal}"), icon=":material/block:")
        result = pv.figure_result(key)
        if result is None:
            st.info("Not reproduced yet: press **Reproduce**.")
        else:
            st.caption(f"Your last reproduction ({result.get('size', 'quick')} budget).")
            draw_figure(key, result)
