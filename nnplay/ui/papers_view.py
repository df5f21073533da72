"""The Published results page's glue: the workspace's paper runs, starting a row's seeds or a figure row's study,
and drawing a row's live status. ``pages/papers.py`` reads widgets and calls these.

A row's seeds go to the jobs backend as one ``Sweep`` (group ``papers/<row>/<time>``, kind "sweep": kept in the
store, shown in Compare runs, out of the Train list), refused with a sentence first when they do not fit in
memory (``runs.refusal_for``). A figure row's study runs where runs train (``runs.call_in_worker``) and its result
is kept in the workspace's settings (``papers.save_figure``). The rows, the math and the figures live in
``nnplay.papers`` and ``nnplay.figures.papers``.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from ..config import DataConfig
from ..data import MnistData
from ..papers import ROWS, Row, latest_runs, load_figure, plan_runs, save_figure
from ..papers.results import GROUP_PREFIX
from ..papers.studies import STUDY_CONFIGS
from ..runs import Run, Sweep, call_in_worker, refusal_for, workspace_runs
from ..store import StoreError
from .sweeps import session_sweeps, sweep_store
from .workspace import store, workspace

SESSION_PREFIX = "papers/"  # this session's row sweeps in ``session_sweeps()``, by row key


def paper_runs() -> list[Run]:
    """Every reproduction run of the workspace (from the store, so after a reload and from other browsers too),
    plus this session's runs the store could not keep."""
    try:
        stored = [r for r in workspace_runs(store(), workspace(), kinds=("sweep",)) if r.group.startswith(GROUP_PREFIX)]
    except StoreError:
        stored = []
    seen = {r.id for r in stored}
    mine = [r for key, sweep in session_sweeps().items() if key.startswith(SESSION_PREFIX)
            for r in sweep.runs if r.id not in seen]
    return stored + mine


def row_refusal(row: Row, seeds: int) -> str | None:
    """Why the row's seeds cannot start now (memory, or configs this nnplay cannot build), else None."""
    try:
        _, planned = plan_runs(row, seeds)
    except (KeyError, ValueError, TypeError) as err:
        return f"This row cannot be set up: {err}"
    return refusal_for(planned, workspace=workspace(), store=store())  # in class mode the learner's limits first


def start_row(row: Row, seeds: int, data: MnistData) -> str | None:
    """Queue the row's seeds as one sweep; the sentence that refused them instead (nothing queued), if any."""
    try:
        group, planned = plan_runs(row, seeds)
    except (KeyError, ValueError, TypeError) as err:
        return f"This row cannot be set up: {err}"
    # checked again as it starts: another workspace may have queued meanwhile
    refusal = refusal_for(planned, workspace=workspace(), store=store())
    if refusal:
        return refusal
    dcfg = planned[0].data_cfg
    sweep = Sweep(group, planned, data.limited(dcfg.train_limit, dcfg.test_limit), **sweep_store())
    for run in planned:
        if run.store is None:  # a store that could not keep it: the group still names its row
            run.group = group
    if sweep.start().refusal:  # the class's limits, where the runs start: none of them started
        return sweep.refusal
    session_sweeps()[SESSION_PREFIX + row.key] = sweep
    return None


def row_status(row: Row, runs: list[Run]) -> str:
    """A line on the row's seeds while they train: how many ended, and where the one training is."""
    mine = latest_runs(runs, row.key)
    active = [r for r in mine if r.active]
    if not active:
        return ""
    done = len(mine) - len(active)
    training = [r for r in active if r.status in ("running", "paused")]
    where = ""
    if training:
        p = training[0].progress()
        where = f"; {training[0].name}: epoch {p['epoch']} of {p['epochs']}, step {p['step']:,} of {p['total']:,}"
    return f"{done} of {len(mine)} seeds done{where}."


def stop_row(row: Row, runs: list[Run]) -> None:
    for run in latest_runs(runs, row.key):
        run.stop()


def study_run(key: str) -> tuple:
    """The largest network the figure row's study trains, as one run for the memory check and the class's limits
    (its trainings are short: a pass or less each, counted as one epoch)."""
    model_cfg, train_cfg = STUDY_CONFIGS[key]
    return model_cfg, dataclasses.replace(train_cfg, epochs=1)


def figure_refusal(key: str) -> str | None:
    return refusal_for([study_run(key)], workspace=workspace(), store=store())


def run_figure(key: str, size: str, data: MnistData) -> dict:
    """Train the figure row's study where runs train and keep its result for the workspace (ValueError/RuntimeError
    with a sentence when it fails)."""
    result = call_in_worker("nnplay.papers.studies:run_study", DataConfig(), data, workspace=workspace(),
                            trains=[study_run(key)], store=store(), key=key, size=size)
    s = store()
    if not s.read_only:
        save_figure(s, workspace(), key, result)
    st.session_state[SESSION_PREFIX + "figure/" + key] = result
    return result


def figure_result(key: str) -> dict | None:
    """The figure row's latest result: this session's, else the workspace's kept one."""
    mine = st.session_state.get(SESSION_PREFIX + "figure/" + key)
    if mine is not None:
        return mine
    try:
        return load_figure(store(), workspace(), key)
    except StoreError:
        return None


def table_rows() -> list[Row]:
    return list(ROWS.values())
