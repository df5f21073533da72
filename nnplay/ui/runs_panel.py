"""The Train page's runs panel: the runs list (rename, delete, download), Compare and Load a model.

What lives here: ``runs_section`` (the table of the workspace's runs, a picked run's rename, delete after a
confirmation, model and metrics downloads and its export panel), ``elsewhere_controls`` (Stop and Pause of a
run another process trains, as requests through the store), ``compare_section`` (the chosen runs' curves
on one chart and a table of where their settings differ) and ``upload_section`` (a model file becomes a
"loaded" run). What does not: the table's columns (``runs.run_rows``, ``runs.compare_table``), the figure
(``figures.train.compare_figure``), reading a model file (``checkpoint.run_from_checkpoint``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ..figures.train import COMPARE_X, compare_figure
from ..names import escape_markdown, plain_name
from ..runs import (Run, compare_table, metrics_csv, run_checkpoint_bytes, run_file_name, run_from_checkpoint,
                    run_rows)
from . import run_link
from .export_panel import export_panel
from .workspace_runs import add_run, remove_run, session_runs

RUN_TABLE = {"run": "run", "status": "status", "data": "data", "training": "training", "epochs": "epochs of",
             "train acc": "train accuracy", "test acc": "test accuracy", "time (s)": "train seconds"}
ACCURACIES = ("train acc", "test acc", "train accuracy", "test accuracy")
COMPARE_X_LABELS = {"step": "step", "epoch": "epoch", "images": "images seen", "time": "training time"}


def two_decimals(table: pd.DataFrame) -> dict:
    """Column settings that show accuracies as percentages with two decimals and other decimal numbers with
    two (a missing one blank). The browser formats them: a pandas Styler would send the table twice as large."""
    percent = [c for c in ACCURACIES if c in table.columns]
    decimals = [c for c in table.columns if c not in percent and pd.api.types.is_float_dtype(table[c])]
    return ({c: st.column_config.NumberColumn(c, format="percent", step=0.0001) for c in percent}  # 4 digits: x.xx%
            | {c: st.column_config.NumberColumn(c, format="%.2f") for c in decimals})


def runs_table(runs: list[Run]) -> pd.DataFrame:
    table = pd.DataFrame(run_rows(runs, RUN_TABLE))
    if len(table):  # a run still training has no accuracy yet: NaN shows as a blank cell, None as "None"
        table = table.astype({"train acc": float, "test acc": float, "time (s)": float})
    return table


def runs_section() -> None:
    runs = session_runs()
    if not runs:
        st.caption("No runs yet: press Start, or load a model file in the next tab.")
        return
    table = runs_table(runs)
    st.dataframe(table, column_config=two_decimals(table), hide_index=True, width="stretch", key="train_runs_table")
    by_id = {r.id: r for r in runs}
    if st.session_state.get("train_pick") not in by_id or st.session_state.get("_train_pick_n") != len(runs):
        st.session_state["train_pick"] = runs[-1].id  # a new run (or a deleted one): show the newest
        st.session_state["_train_pick_n"] = len(runs)
    c1, c2 = st.columns([2, 3])
    c1.selectbox("Run", list(by_id), key="train_pick", format_func=lambda i: by_id[i].name, persist_state="page")
    run = by_id[st.session_state["train_pick"]]
    if st.session_state.get("_train_rename_for") != run.id or "train_rename" not in st.session_state:
        st.session_state["train_rename"] = run.name
        st.session_state["_train_rename_for"] = run.id
    c2.text_input("Name", key="train_rename")
    b1, b2, b3, b4 = st.columns(4)
    b1.button("Rename", key="train_rename_btn", on_click=_rename, args=(run,), width="stretch")
    b2.button("Delete", key="train_delete", on_click=_ask_delete, args=(run,), width="stretch",
              help="forget this run (a training run is stopped first); asks first")
    b3.download_button("Model (.pt)", data=lambda: run_checkpoint_bytes(run), file_name=run_file_name(run),
                       mime="application/octet-stream", key="train_dl_model", on_click="ignore", width="stretch",
                       # never its settings as the defaults; a model file that cannot be read is not offered
                       disabled=not run.usable or bool(run.unreadable) or run.model is None,
                       help="state_dict, settings and curves: loadable here and by `python -m nnplay` (finished, "
                            "stopped, loaded or interrupted runs, and a failed run's last kept epoch)")
    b4.download_button("Metrics (.csv)", data=lambda: metrics_csv(run), file_name=run_file_name(run, "csv"),
                       mime="text/csv", key="train_dl_csv", on_click="ignore", width="stretch",
                       disabled=not run.history.steps)
    export_panel(run)
    refused = st.session_state.pop("_train_rename_refused", None)
    if refused:
        st.error(refused, icon=":material/block:")
    if st.session_state.get("_train_delete_for") == run.id:
        st.warning(f"Delete {escape_markdown(run.name)}? Its curves and model are forgotten" +
                   (", and it stops training." if run.active else "."), icon=":material/delete:")
        d1, d2, _ = st.columns([1, 1, 2])
        d1.button("Yes, delete", key="train_delete_confirm", on_click=_delete, args=(run,), type="primary",
                  width="stretch")
        d2.button("Cancel", key="train_delete_cancel", on_click=st.session_state.pop, args=("_train_delete_for",),
                  width="stretch")
    if run.message:
        st.caption(escape_markdown(f"{run.name}: {run.message}"))
    if run.model_note:  # its final file could not be read: the model offered is the last epoch's
        st.caption(escape_markdown(f"{run.name}: {run.model_note}"))


def elsewhere_controls(run: Run) -> None:
    """Stop and Pause (or Resume) for a run another process trains (a second server or the command line sharing
    this store): each is a request recorded in the store, which that process carries out within seconds."""
    st.caption(escape_markdown(f"{run.name} trains in another nnplay process that shares this run store (another "
                               "server or the command line). Stop and Pause are sent to it through the store."))
    with st.container(horizontal=True, horizontal_alignment="right"):
        st.button("Stop", key="train_stop", on_click=run.stop, width="content",
                  help="ask the process that trains it to end the run at its next step, keeping its model")
        st.button("Resume" if run.status == "paused" else "Pause", key="train_pause", width="content",
                  on_click=run.resume if run.status == "paused" else run.pause)
    if run.request_note:
        st.info(escape_markdown(run.request_note), icon=":material/send:")


def _rename(run: Run) -> None:
    name = plain_name(st.session_state.get("train_rename", ""))
    if name:
        run.name = name
        run_link.show_new_name()
    else:
        st.session_state["_train_rename_refused"] = (f"A run needs a name: the name is empty, so {escape_markdown(run.name)} keeps "
                                                     f"its name. Type one, then press Rename.")


def _ask_delete(run: Run) -> None:
    st.session_state["_train_delete_for"] = run.id


def _delete(run: Run) -> None:
    remove_run(run)
    run_link.forget(run)
    st.session_state.pop("_train_delete_for", None)
    st.session_state.pop("train_pick", None)


# the chips of the runs chosen wrap onto more lines instead of scrolling out of the box: a run's name is never cut
CHIPS_WRAP = """<style>
.st-key-train_compare .react-aria-ComboBox > div { height: auto; max-height: none; }
.st-key-train_compare .react-aria-ComboBox > div > div:first-child { flex-wrap: wrap; overflow: visible; height: auto;
  row-gap: 0.25rem; padding-block: 0.25rem; }
.st-key-train_compare .react-aria-ComboBox > div > div:first-child span { max-width: none; }
</style>"""


def compare_section() -> None:
    runs = [r for r in session_runs() if r.has_steps]  # reads no curves: only the chosen runs' are read
    if len(runs) < 2:
        st.caption("Train two or more runs to compare them here.")
        return
    by_id = {r.id: r for r in runs}
    chosen = [i for i in st.session_state.get("train_compare", []) if i in by_id]
    st.session_state["train_compare"] = chosen or [r.id for r in runs[-2:]]
    st.html(CHIPS_WRAP)
    c1, c2 = st.columns([3, 2])
    c1.multiselect("Runs to compare", list(by_id), key="train_compare", format_func=lambda i: by_id[i].name,
                   persist_state="page")  # kept while another tab is open
    c2.radio("x axis", list(COMPARE_X), key="train_compare_x", horizontal=True, format_func=COMPARE_X_LABELS.get,
             persist_state="page",
             help="step: runs with other batch sizes take other numbers of steps; epoch, images seen and "
                  "training time (pauses and evaluations left out) line them up")
    picked = [by_id[i] for i in st.session_state["train_compare"]]
    if not picked:
        return
    smoothing = st.session_state.get("train_smoothing", 0.6)
    st.plotly_chart(compare_figure([(r.name, r.history) for r in picked], smoothing, uirevision="compare",
                                   x=st.session_state.get("train_compare_x", "step")),
                    key="train_compare_chart", config={"displaylogo": False})
    table = pd.DataFrame(compare_table(picked))
    st.dataframe(table, column_config=two_decimals(table), hide_index=True, width="stretch",
                 key="train_compare_table")
    st.caption("Columns between the run's name and its status are the settings in which the chosen runs differ.")


def _on_upload() -> None:
    file = st.session_state.get("train_upload")
    if file is None:
        return
    run, message = run_from_checkpoint(file.name, file.getvalue())
    if run is not None:
        add_run(run)
    st.session_state["_train_upload_msg"] = ("success" if run else "error", message)


def upload_section() -> None:
    st.file_uploader("A model file saved by nnplay (.pt)", key="train_upload", on_change=_on_upload,
                     help="state_dict + config, as the Model button above or `python -m nnplay train --save` "
                          "writes it; read with torch.load(weights_only=True), so no code in the file runs")
    message = st.session_state.get("_train_upload_msg")
    if message:
        (st.success if message[0] == "success" else st.error)(escape_markdown(message[1]))  # names: plain text
