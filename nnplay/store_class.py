"""The run store's class: the ``learners`` table (schema version 5: a workspace's display name and number) and
the teacher's one read of the whole class.

``ClassTables`` is mixed into ``store.Store``: ``join_class`` (a workspace becomes "learner N" the first time it
opens the app in class mode), ``learner``, ``rename_learner``, ``leave_class`` (the teacher's own browser is no
learner), ``learners`` and ``class_runs`` (every learner's runs with their latest epoch, in one query).
``ClassRun`` and ``Learner`` hold what the teacher sees: names and run ids, never a workspace's token.
What does not live here: checking a name (``classroom.check_learner_name``), the leaderboard and the CSV
(``classroom``), the schema and its migration (``store_file``), anything streamlit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import DataConfig, ModelConfig, TrainConfig
from .owners import THIS_PROCESS, owner_alive
from .run_record import ACTIVE, parse_config
from .store_file import interrupted_message

if TYPE_CHECKING:
    from .store import Store

DEFAULT_NAME = "learner {number}"  # a learner who has not picked a name


@dataclass(frozen=True)
class Learner:
    """A learner as the teacher sees them: display name and number (the order they joined in)."""

    name: str
    number: int
    created: float
    named: bool  # whether they picked the name (else it is "learner N")


@dataclass
class ClassRun:
    """One run of a learner, as the class page shows it (its configs are None when this nnplay cannot read them)."""

    id: str
    learner: str  # the learner's display name
    number: int  # the learner's number
    name: str  # the run's name
    kind: str
    status: str
    message: str
    created: float
    started: float | None
    ended: float | None
    parameters: int | None
    epochs: int | None  # epochs planned (None until the run started)
    epoch: int | None  # the latest finished epoch
    test_accuracy: float | None  # at the latest finished epoch
    best_accuracy: float | None  # the best of its epochs
    data_cfg: DataConfig | None
    model_cfg: ModelConfig | None
    train_cfg: TrainConfig | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def seconds(self, now: float | None = None) -> float | None:
        """How long it has trained (until its end, or until now while it trains); None before it started."""
        if self.started is None:
            return None
        end = self.ended if self.ended is not None else (now or time.time()) if self.active else None
        return None if end is None else max(0.0, end - self.started)


_CLASS_RUNS_SQL = """
SELECT r.id, l.name, l.number, r.name, r.kind, r.status, r.message, r.created, r.started, r.ended, r.parameters,
       r.epochs,
       (SELECT max(epoch) FROM epochs e WHERE e.run_id = r.id),
       (SELECT test_accuracy FROM epochs e WHERE e.run_id = r.id ORDER BY epoch DESC LIMIT 1),
       (SELECT max(test_accuracy) FROM epochs e WHERE e.run_id = r.id),
       r.data_cfg, r.model_cfg, r.train_cfg, r.owner_pid, r.owner_start, r.owner_host, r.heartbeat, r.last_step,
       r.checkpoint_epoch
FROM runs r JOIN learners l ON l.workspace = r.workspace
ORDER BY l.number, r.created
"""


class ClassTables:
    """The class's part of ``Store`` (mixed in): uses its ``write`` and ``_read``."""

    def join_class(self: "Store", workspace: str) -> Learner:
        """The workspace's learner, made the first time ("learner N", numbered in the order they joined)."""
        def tx(db):
            row = db.execute("SELECT name, number, created FROM learners WHERE workspace=?", (workspace,)).fetchone()
            if row is None:
                number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM learners").fetchone()[0]
                row = (DEFAULT_NAME.format(number=number), number, time.time())
                db.execute("INSERT INTO learners VALUES (?,?,?,?)", (workspace, *row))
            return row
        name, number, created = self.write(tx)
        return Learner(name, number, created, name != DEFAULT_NAME.format(number=number))

    def learner(self: "Store", workspace: str) -> Learner | None:
        rows = self._read("SELECT name, number, created FROM learners WHERE workspace=?", (workspace,))
        if not rows:
            return None
        name, number, created = rows[0]
        return Learner(name, number, created, name != DEFAULT_NAME.format(number=number))

    def rename_learner(self: "Store", workspace: str, name: str) -> Learner:
        """Give the workspace's learner the display name ``name`` (checked by the caller:
        ``classroom.check_learner_name``); joins the class first when needed."""
        self.join_class(workspace)
        self.write(lambda db: db.execute("UPDATE learners SET name=? WHERE workspace=?", (name, workspace)))
        return self.learner(workspace)

    def leave_class(self: "Store", workspace: str) -> None:
        """The workspace is no learner (the teacher's own browser): its row goes, its runs stay."""
        self.write(lambda db: db.execute("DELETE FROM learners WHERE workspace=?", (workspace,)))

    def learners(self: "Store") -> list[Learner]:
        """Every learner, in the order they joined."""
        return [Learner(name, number, created, name != DEFAULT_NAME.format(number=number))
                for name, number, created in self._read("SELECT name, number, created FROM learners ORDER BY number")]

    def class_runs(self: "Store") -> list[ClassRun]:
        """Every learner's runs (any kind), by learner then oldest first, each with its latest epoch's test accuracy
        and its best: one query. A run left active by a process that is gone reads "interrupted"."""
        runs = []
        for r in self._read(_CLASS_RUNS_SQL):
            status, message = r[5], r[6]
            if status in ACTIVE and not owner_alive(*r[18:22], me=THIS_PROCESS):
                status, message = "interrupted", interrupted_message(r[22], r[23])
            configs = (parse_config(cls, text) for cls, text in zip((DataConfig, ModelConfig, TrainConfig), r[15:18]))
            runs.append(ClassRun(*r[:5], status, message, *r[7:15], *configs))
        return runs
