"""This session's sweeps (experiments, races), and the latest one read back from the store after a reload.

What lives here: ``session_sweeps`` (by name, in the session while they are started), ``sweep_store`` (what
makes a ``Sweep`` record its runs in this workspace), ``restore_sweep`` (a ``runs.Sweep`` over the stored runs). What does not:
running a sweep (``runs.Sweep``).
"""

from __future__ import annotations

import streamlit as st

from ..runs import Sweep, workspace_runs
from ..store import StoreError
from .workspace import store, workspace

SWEEPS_KEY = "nnplay_sweeps"


def sweep_store() -> dict:
    """Keyword arguments that make a ``Sweep`` record its runs in this workspace (kind "sweep", kept out of
    the Train runs list and the model picker): ``Sweep(name, runs, data, **ui.sweep_store())``."""
    s = store()
    return {} if s.read_only else {"store": s, "workspace": workspace()}


def session_sweeps() -> dict[str, Sweep]:
    """This session's sweeps (experiments, races) by name."""
    return st.session_state.setdefault(SWEEPS_KEY, {})


def restore_sweep(key: str, group: str) -> Sweep | None:
    """This session's sweep ``key``; after a reload (none in the session), the workspace's latest stored sweep
    whose group is ``group`` or starts with it (``"experiments/lr/"`` matches ``"experiments/lr/quick"``),
    kept in the session under ``key``. None when there is none."""
    sweeps = session_sweeps()
    if key in sweeps:
        return sweeps[key]
    s = store()
    try:
        latest = s.latest_group(workspace(), group)
        if latest is None:
            return None
        runs = [r for r in workspace_runs(s, workspace(), kinds=("sweep",)) if r.group == latest]
    except StoreError:
        return None
    if not runs:
        return None
    sweeps[key] = Sweep(latest, runs)  # over stored runs: read and stopped, not started again
    return sweeps[key]
