"""The run store's sweeps: the ``sweeps`` table (schema version 4) and what reads and writes it.

A sweep is a record (``SweepRecord``: id, workspace, name, its plan as JSON, when it was made, how many runs
its plan makes, whether it was stopped) and its runs are ordinary runs of kind "sweep" whose group is the
sweep's id. ``SweepTables`` is mixed into ``store.Store``: ``create_sweep``, ``list_sweeps``, ``get_sweep``,
``sweep_runs``, ``set_sweep_stopped``, ``delete_sweep`` and ``measured_epochs`` (the epoch times of a
workspace's finished runs, for a sweep's time estimate). What does not live here: the plan itself
(``nnplay.sweeps.plan``, which reads the JSON), running a sweep (``nnplay.sweeps.live``), the file, the table's
schema and its migration (``store_file``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .run_record import ACTIVE, RunRecord, new_id
from .store_file import RunStillActive

if TYPE_CHECKING:
    from .store import Store

SWEEP_KIND = "sweep"  # the kind of a sweep's runs (runs.group is the sweep's id)


@dataclass
class SweepRecord:
    """One sweep as the store keeps it; ``counts`` is how many of its runs have each status."""

    id: str
    workspace: str
    name: str
    plan: str  # the plan's JSON (``SweepPlan.from_json`` reads it)
    created: float
    planned: int  # how many runs its plan makes
    stopped: bool  # Stop was pressed (and not continued since)
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return sum(self.counts.values())

    @property
    def active(self) -> bool:
        """Whether any of its runs is queued, running or paused."""
        return any(self.counts.get(s, 0) for s in ACTIVE)

    @property
    def status(self) -> str:
        """running (a run is active), stopped (Stop was pressed), interrupted (a run's process ended while it
        trained), finished (every run has ended), or empty (no run kept)."""
        if self.active:
            return "running"
        if self.stopped:
            return "stopped"
        if self.counts.get("interrupted"):
            return "interrupted"
        return "finished" if self.runs else "empty"


_SWEEP_SQL = "SELECT id, workspace, name, plan, created, planned, stopped, message FROM sweeps"


class SweepTables:
    """The sweeps' part of ``Store`` (mixed in): uses its ``write``, ``_read``, ``get``, ``delete`` and ``list_runs``."""

    def create_sweep(self: "Store", name: str, plan: str, workspace: str, planned: int = 0,
                     sweep_id: str | None = None, created: float | None = None) -> str:
        """A new sweep record; returns its id. ``plan``: the plan's JSON; ``planned``: how many runs it makes."""
        name = name.strip()
        if not name:
            raise ValueError("a sweep needs a name: type at least one character.")
        sweep_id = sweep_id or new_id()
        self.write(lambda db: db.execute("INSERT INTO sweeps (id, workspace, name, plan, created, planned) "
                                         "VALUES (?,?,?,?,?,?)",
                                         (sweep_id, workspace, name, plan, created or time.time(), planned)))
        return sweep_id

    def _counts(self: "Store", where: str, args: tuple) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for group, status, n in self._read(f"SELECT grp, status, count(*) FROM runs WHERE kind='{SWEEP_KIND}' AND "
                                           f"{where} GROUP BY grp, status", args):
            counts.setdefault(group, {})[status] = n
        return counts

    def list_sweeps(self: "Store", workspace: str) -> list[SweepRecord]:
        """A workspace's sweeps, newest first, with their runs counted by status (active runs of dead processes
        are marked interrupted first)."""
        self.mark_interrupted(workspace)
        counts = self._counts("workspace=?", (workspace,))
        return [SweepRecord(*r[:6], bool(r[6]), r[7], counts.get(r[0], {}))
                for r in self._read(f"{_SWEEP_SQL} WHERE workspace=? ORDER BY created DESC", (workspace,))]

    def get_sweep(self: "Store", sweep_id: str) -> SweepRecord | None:
        rows = self._read(f"{_SWEEP_SQL} WHERE id=?", (sweep_id,))
        if not rows:
            return None
        r = rows[0]
        self.mark_interrupted(r[1])
        return SweepRecord(*r[:6], bool(r[6]), r[7], self._counts("grp=?", (sweep_id,)).get(sweep_id, {}))

    def sweep_runs(self: "Store", sweep_id: str) -> list[RunRecord]:
        """The sweep's runs, oldest first."""
        if self.get_sweep(sweep_id) is None:  # (which marks the runs of dead processes interrupted)
            return []
        ids = self._read("SELECT id FROM runs WHERE grp=? AND kind=? ORDER BY created", (sweep_id, SWEEP_KIND))
        return [record for (run_id,) in ids if (record := self.get(run_id)) is not None]

    def set_sweep_stopped(self: "Store", sweep_id: str, stopped: bool = True, message: str = "") -> None:
        self.write(lambda db: db.execute("UPDATE sweeps SET stopped=?, message=? WHERE id=?",
                                         (int(stopped), message, sweep_id)))

    def delete_sweep(self: "Store", sweep_id: str) -> None:
        """Remove a sweep and its runs (records, curves, files); RunStillActive while one of them trains."""
        runs = self.sweep_runs(sweep_id)
        if any(r.status in ACTIVE for r in runs):
            raise RunStillActive("this sweep still trains: stop it first, then delete it.")
        for run in runs:
            self.delete(run.id)
        self.write(lambda db: db.execute("DELETE FROM sweeps WHERE id=?", (sweep_id,)))

    def measured_epochs(self: "Store", workspace: str, limit: int = 200) -> list[tuple[RunRecord, float, int, int]]:
        """The workspace's latest ``limit`` finished runs (any kind) with, for each, the seconds its epochs took
        (evaluation included), how many epochs and how many training images it saw per epoch."""
        rows = self._read(
            "SELECT r.id, sum(e.seconds + coalesce(e.eval_seconds, 0)), count(*), r.train_size FROM runs r "
            "JOIN epochs e ON e.run_id = r.id WHERE r.workspace=? AND r.status='finished' AND r.train_size > 0 "
            "GROUP BY r.id ORDER BY r.created DESC LIMIT ?", (workspace, limit))
        measured = []
        for run_id, seconds, epochs, train_size in rows:
            record = self.get(run_id)
            if record is not None and not record.unreadable and seconds:
                measured.append((record, float(seconds), int(epochs), int(train_size)))
        return measured
