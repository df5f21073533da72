"""The run store's reads for comparing many runs: a workspace's records and all their epochs, one query each.

``compare_records`` (the records of every kind, or of one sweep), ``workspace_epochs`` (every epoch of those
runs in one query, not one per run, so a view of 1,000 runs costs two queries), ``sweep_names`` and ``sweep_labels`` (the
sweeps a view can be filtered by, and how each reads) and ``curve_histories`` (the chosen runs' curves, steps thinned). The SQL
beside ``store``'s (which is full); what does not live here: the tables and summaries built from these rows
(``nnplay.compare``), writing (``store``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .engine import EpochMetrics, History, RunStart
from .run_record import RunRecord
from .store import THIN_POINTS, Store

EPOCH_COLUMNS = ("run_id", "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds",
                 "eval_seconds", "samples_per_s", "step", "lr")


def _where(workspace: str, sweep: str | None) -> tuple[str, list]:
    if sweep is None:
        return "workspace=?", [workspace]
    return "workspace=? AND grp=?", [workspace, sweep]


def compare_records(store: Store, workspace: str, sweep: str | None = None) -> list[RunRecord]:
    """The workspace's runs of every kind (train, loaded, sweep), oldest first; with ``sweep``, only the runs of
    that sweep (its group)."""
    records = store.list_runs(workspace, kinds=None)
    return records if sweep is None else [r for r in records if r.group == sweep]


def workspace_epochs(store: Store, workspace: str, sweep: str | None = None) -> list[tuple]:
    """Every epoch of the workspace's runs (of ``sweep`` only, when given) as rows of ``EPOCH_COLUMNS``, in one
    query, ordered by run and epoch."""
    where, args = _where(workspace, sweep)
    return store._read(f"SELECT {', '.join('e.' + c for c in EPOCH_COLUMNS)} FROM epochs e "
                       f"WHERE e.run_id IN (SELECT id FROM runs WHERE {where}) ORDER BY e.run_id, e.epoch", args)


def sweep_names(store: Store, workspace: str) -> list[str]:
    """The groups of the workspace's sweep runs, newest sweep first."""
    rows = store._read("SELECT grp, max(created) AS newest FROM runs WHERE workspace=? AND kind='sweep' AND grp!='' "
                       "GROUP BY grp ORDER BY newest DESC", (workspace,))
    return [r[0] for r in rows]


def sweep_labels(store: Store, workspace: str) -> dict[str, str]:
    """How each group of sweep runs reads in a picker: a sweep of the Sweeps page or the CLI by its name and
    when it was made ("lr × width (12 runs) · 03 Dec 12:45"), any other group (an Experiments study) as it is."""
    rows = store._read("SELECT r.grp, s.name, s.created FROM runs r LEFT JOIN sweeps s ON s.id = r.grp "
                       "WHERE r.workspace=? AND r.kind='sweep' AND r.grp!='' GROUP BY r.grp", (workspace,))
    return {grp: f"{name} · {time.strftime('%d %b %H:%M', time.localtime(created))}" if name else grp
            for grp, name, created in rows}


def curve_histories(store: Store, run_ids: Sequence[str], points: int = THIN_POINTS) -> dict[str, History]:
    """The curves of the chosen runs, by id: each run's start, its epochs and at most ``points`` of its steps
    (``Store.thinned_steps``), without its layer statistics: what overlaid curves need. An id the store does
    not hold is left out."""
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    histories: dict[str, History] = {}
    for run_id, epochs, spe, train_size, test_size, params, device in store._read(
            f"SELECT id, epochs, steps_per_epoch, train_size, test_size, parameters, device FROM runs "
            f"WHERE id IN ({marks})", ids):
        h = histories[run_id] = History()
        if spe is not None:
            h.start = RunStart(epochs, spe, train_size, test_size, params or 0, device)
    for row in store._read(f"SELECT {', '.join(EPOCH_COLUMNS)}, device FROM epochs WHERE run_id IN ({marks}) "
                           "ORDER BY run_id, epoch", ids):
        histories[row[0]].epochs.append(EpochMetrics(*row[1:]))
    for run_id, h in histories.items():
        h.steps = store.thinned_steps(run_id, points)
    return {i: histories[i] for i in ids if i in histories}
