"""The run store's assignments: the ``assignments`` table (schema version 5) and what reads and writes it.

An assignment is a teacher's task for the class (``AssignmentRecord``: id, title, text, the starting settings as
a Train link's query, the constraints, the metric the leaderboard ranks by, when it was made, whether learners see
it). ``AssignmentTables`` is mixed into ``store.Store``: ``create_assignment``, ``get_assignment``,
``list_assignments``, ``update_assignment``, ``delete_assignment`` and ``current_assignment`` (the newest active
one). What does not live here: what the fields mean and how runs are ranked (``nnplay.classroom.assignments``),
the table's schema and its migration (``store_file``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .run_record import new_id

if TYPE_CHECKING:
    from .store import Store

_COLUMNS = "id, title, text, settings, constraints, metric, created, active"


@dataclass
class AssignmentRecord:
    """One assignment as the store keeps it (its JSON read back into dicts; unreadable JSON reads as {})."""

    id: str
    title: str
    text: str = ""
    settings: dict = field(default_factory=dict)  # a Train link's query: {"hidden": "100", "epochs": "5"}
    constraints: dict = field(default_factory=dict)  # {"max_parameters": 100000, "max_epochs": 10, "family": "mlp"}
    metric: str = "test_accuracy"
    created: float = 0.0
    active: bool = True


def _json(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _record(row) -> AssignmentRecord:
    return AssignmentRecord(row[0], row[1], row[2], _json(row[3]), _json(row[4]), row[5], row[6], bool(row[7]))


class AssignmentTables:
    """The ``assignments`` table's methods, mixed into ``store.Store``."""

    def create_assignment(self: "Store", title: str, text: str = "", settings: dict | None = None,
                          constraints: dict | None = None, metric: str = "test_accuracy", active: bool = True,
                          created: float | None = None) -> AssignmentRecord:
        record = AssignmentRecord(new_id(), title, text, dict(settings or {}), dict(constraints or {}), metric,
                                  created or time.time(), active)
        self.write(lambda db: db.execute(
            f"INSERT INTO assignments ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            (record.id, record.title, record.text, json.dumps(record.settings), json.dumps(record.constraints),
             record.metric, record.created, int(record.active))))
        return record

    def get_assignment(self: "Store", assignment_id: str) -> AssignmentRecord | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM assignments WHERE id=?", (assignment_id,))
        return _record(rows[0]) if rows else None

    def list_assignments(self: "Store", active_only: bool = False) -> list[AssignmentRecord]:
        """Every assignment (or the active ones), newest first."""
        where = " WHERE active=1" if active_only else ""
        return [_record(r) for r in self._read(f"SELECT {_COLUMNS} FROM assignments{where} ORDER BY created DESC")]

    def current_assignment(self: "Store") -> AssignmentRecord | None:
        """The newest active assignment: what learners see on Train."""
        found = self.list_assignments(active_only=True)
        return found[0] if found else None

    def update_assignment(self: "Store", assignment_id: str, **fields) -> None:
        """Change some of an assignment's fields (title, text, settings, constraints, metric, active)."""
        known = {"title", "text", "settings", "constraints", "metric", "active"}
        unknown = set(fields) - known
        if unknown:
            raise ValueError(f"an assignment has no field {', '.join(sorted(unknown))}; "
                             f"it has {', '.join(sorted(known))}.")
        values = {k: json.dumps(v) if k in ("settings", "constraints") else int(v) if k == "active" else v
                  for k, v in fields.items()}
        if not values:
            return
        sets = ", ".join(f"{k}=?" for k in values)
        self.write(lambda db: db.execute(f"UPDATE assignments SET {sets} WHERE id=?",
                                         (*values.values(), assignment_id)))

    def delete_assignment(self: "Store", assignment_id: str) -> None:
        self.write(lambda db: db.execute("DELETE FROM assignments WHERE id=?", (assignment_id,)))
