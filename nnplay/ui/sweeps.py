"""This session's sweeps (experiments, races), and the latest one read back from the store after a reload.

What lives here: ``session_sweeps`` (by name, in the session while they are started), ``sweep_store`` (what
makes a ``Sweep`` record its runs in this workspace), ``StoredSweep`` and ``restore_sweep``. What does not:
running a sweep (``runs.Sweep``).
"""

from __future__ import annotations

import time

import streamlit as st

from ..runs import Run, Sweep, workspace_runs
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


class StoredSweep:
    """A sweep read back from the store (its runs are kept as kind "sweep" in one group): what a page draws
    of a ``runs.Sweep`` (name, runs, created, active, done, stop, wait), after a reload or in another tab.
    A run this process still trains is the live ``Run`` object (``runs.REGISTRY``), so a sweep that trains
    goes on showing live, and ``stop`` stops it and the runs still queued."""

    def __init__(self, name: str, runs: list[Run]):
        self.name, self.runs = name, runs
        self.created = min((r.created for r in runs), default=0.0)

    @property
    def active(self) -> bool:
        return any(r.active for r in self.runs)

    @property
    def done(self) -> int:
        return sum(not r.active for r in self.runs)

    def stop(self) -> None:
        for run in self.runs:
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self.runs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            run.wait(left)
        return not self.active


def restore_sweep(key: str, group: str) -> Sweep | StoredSweep | None:
    """This session's sweep ``key``; after a reload (none in the session), the workspace's latest stored sweep
    whose group is ``group`` or starts with it (``"experiments/lr/"`` matches ``"experiments/lr/quick"``),
    kept in the session under ``key``. None when there is none."""
    sweeps = session_sweeps()
    if key in sweeps:
        return sweeps[key]
    s = store()
    try:
        rows = s.read("SELECT grp FROM runs WHERE workspace=? AND kind='sweep' AND (grp=? OR substr(grp, 1, ?)=?) "
                      "ORDER BY created DESC LIMIT 1", (workspace(), group, len(group), group))
        if not rows:
            return None
        runs = [r for r in workspace_runs(s, workspace(), kinds=("sweep",)) if r.group == rows[0][0]]
    except StoreError:
        return None
    if not runs:
        return None
    sweeps[key] = StoredSweep(rows[0][0], runs)
    return sweeps[key]
