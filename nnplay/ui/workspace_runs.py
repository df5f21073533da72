"""This workspace's runs, as the pages list, add, delete, copy and count them.

What lives here: ``session_runs`` (the workspace's Train and CLI runs from the store, a listing kept while the
store has not changed), ``training_run`` (the one this process trains now), ``add_run``, ``remove_run``,
``run_by_id`` and ``copy_to_my_runs`` (a run link's run, another workspace's copied), and ``space_used``.
A run this process trains is the same ``Run`` object in every tab (``runs.REGISTRY``). What does not live
here: the store itself (``nnplay.store``), the sweeps (``sweeps``), the model picker (``model_picker``).
"""

from __future__ import annotations

import time

import streamlit as st

from ..runs import REGISTRY, Run, delete_run, find_run, workspace_runs
from ..store import StoreError
from .kept_choices import LATEST, set_pick
from .workspace import store, workspace

_LISTED: dict[str, tuple[tuple, float, list[Run]]] = {}  # workspace → (store's changes, when, its runs)
LIST_SECONDS = 5.0  # a listing is read again at least this often (a run whose process died is then marked)


def session_runs(say_errors: bool = True) -> list[Run]:
    """This workspace's runs (Train page and CLI runs; not the sweeps), oldest first.

    A page asks for them several times a run (the list, the training run, compare, the sidebar): the listing
    is read from the store once and kept while the store has not changed (``Store.changes``), at most
    ``LIST_SECONDS``, so a workspace of 1,000 runs is read once per page, not five times."""
    s, ws = store(), workspace()
    try:
        key = (str(s.path), s.changes(), len(REGISTRY))
        kept = _LISTED.get(ws)
        if kept is not None and kept[0] == key and time.monotonic() - kept[1] < LIST_SECONDS:
            return list(kept[2])
        runs = workspace_runs(s, ws)
        _LISTED[ws] = ((str(s.path), s.changes(), len(REGISTRY)), time.monotonic(), runs)
        return list(runs)
    except StoreError as err:
        if say_errors:  # the sidebar's picker asks quietly: the page says it once
            st.error(str(err))
        return []


def training_run() -> Run | None:
    """The workspace's run that this process trains now (queued, running or paused), if any (one at a time)."""
    return next((r for r in reversed(session_runs()) if r.active and r.owned), None)


def add_run(run: Run) -> Run:
    """Make a new run a record of this workspace; a loaded model becomes the picked one, a new training run
    makes the picker follow the newest run again."""
    run.bind(store(), workspace())
    set_pick(run.id if run.status == "loaded" else LATEST)
    return run


def remove_run(run: Run) -> None:
    """Delete a run of this workspace: stop it first if it trains, then remove its record and files."""
    if run.workspace != workspace():
        return  # another workspace's run, shown read-only
    try:
        delete_run(run)
    except StoreError as err:
        st.error(str(err))
    _space_used.clear()
    from .live import drop_live_feed

    drop_live_feed(run)


def run_by_id(run_id: str) -> tuple[Run | None, bool]:
    """(the run with this id, whether it belongs to this workspace): for a run link ``/train?run=<id>``;
    a run of another workspace is to be shown read-only, with ``copy_to_my_runs``."""
    try:
        run = find_run(store(), run_id)
    except StoreError:
        return None, False
    if run is None:
        return None, False
    from .teacher_session import may_open_run

    if not may_open_run(run.workspace):  # in class mode another learner's run is as good as missing
        return None, False
    return run, run.workspace == workspace()


def copy_to_my_runs(run: Run) -> Run:
    """Copy another workspace's run (record, curves, model files) into this one; returns the copy."""
    new_id = store().copy_run(run.id, workspace())
    copy, _ = run_by_id(new_id)
    return copy


SPACE_TTL_S = 5.0  # the space caption may be this many seconds old (a delete here refreshes it at once)


def space_used() -> int:
    """Bytes the runs of this workspace take on disk, counted at most every ``SPACE_TTL_S`` seconds: the
    count stats every file, and the caption is drawn on every load of the Train page. A run that ends or
    comes or goes counts again at once (a run of a few seconds wrote its model after the count its Start made)."""
    runs = session_runs()
    return _space_used(str(store().home), workspace(), len(runs), sum(not r.active for r in runs))


@st.cache_data(ttl=SPACE_TTL_S, show_spinner=False)
def _space_used(home: str, workspace_id: str, runs: int = 0, ended: int = 0) -> int:
    """``runs`` and ``ended`` only key the cache."""
    try:
        return store().disk_usage(workspace_id)
    except StoreError:
        return 0
