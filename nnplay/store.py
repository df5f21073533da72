"""The run store: every run's record, curves and model files, kept on disk across restarts.

One SQLite file (standard library ``sqlite3``, WAL mode, a busy timeout, one writing connection per
process behind a lock; other processes read and write the same file safely) plus one folder per run
for its model files, under ``store_home()``: ``$NNPLAY_HOME``, else ``$XDG_DATA_HOME/nnplay``, else
``~/.local/share/nnplay``::

    runs.db                 the records (schema below, version in PRAGMA user_version)
    runs/<id>/epoch.pt      the latest finished epoch's model (nnplay checkpoint)
    runs/<id>/final.pt      the model as the run ended

A run is a record with a short random id, never a folder name to parse. Events are written in
batches (``Recorder`` in ``nnplay.runs`` commits once per log burst or epoch, never per step).
A run whose owning process is gone (its pid and that process's start time are recorded) is marked
"interrupted" when the store is opened or listed. A database that cannot be used raises a
``StoreError`` of its cause (``store_file``: damaged, newer, read-only, full…); ``open_store_or_fallback``
then gives a read-only or a fresh temporary store (removed at exit) so the app still opens, and never
deletes or overwrites the file. A full disk leaves reading and ``delete`` working, and a run's end that
could not be written is written with the next write that goes through (``record_end``). SQL lives in this module only (and the sweeps' in ``store_sweeps``), built from the status vocabulary of
``run_record``; a workspace numbers its runs (``next_run_number``). What does not live here: the
schema and the errors (``store_file``), what a record holds (``run_record``), who owns a run (``owners``), training (``engine``),
the in-memory ``Run`` (``runs``), anything streamlit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from .config import DataConfig, ModelConfig, TrainConfig, to_dict
from .engine import EpochMetrics, History, LayerStats, RunEnd, RunStart, StepEvent
# the vocabulary, the record and the errors are imported from here by the rest of nnplay
from .run_record import (ACTIVE, DATA_SOURCES, ID_ALPHABET, SETTINGS_UNREADABLE, STATUSES, USABLE, DataSource,
                         RunRecord, RunStatus, check_data_source, data_text, new_id, parse_config, unreadable_note)
from .owners import OWNER_SILENCE_S, THIS_PROCESS, ProcessIdentity, owner_alive  # noqa: F401 - re-exported
from .store_file import (DB_NAME, MIGRATIONS, SCHEMA_V1, SCHEMA_VERSION, NotAStore, RunStillActive, StoreBusy,
                         StoreDamaged, StoreError, StoreFull, StoreReadOnly, StoreTooNew, check_file, connect,
                         interrupted_message, remove_at_exit, store_error, store_home)
from .store_class import ClassTables
from .store_sweeps import SWEEP_KIND, SweepRecord, SweepTables  # noqa: F401 - re-exported
from .store_digits import DigitRecord, DigitTables  # noqa: F401 - re-exported
from .store_assignments import AssignmentRecord, AssignmentTables  # noqa: F401 - re-exported

LOCAL_WORKSPACE = "local"
THIN_POINTS = 2000  # points per trace in a thinned read


def _sql_list(values: tuple[str, ...]) -> str:
    """An SQL list of a fixed vocabulary's words, each quoted (``ACTIVE`` becomes the list of its three)."""
    assert all("'" not in v for v in values)
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


_ACTIVE_SQL = _sql_list(ACTIVE)
_COLUMNS = ("id, name, workspace, kind, grp, created, started, ended, status, message, data_cfg, model_cfg, "
            "train_cfg, device, parameters, last_step, checkpoint_epoch, has_final")
_RECORD_SQL = (f"SELECT {_COLUMNS}, (SELECT test_accuracy FROM epochs e WHERE e.run_id=runs.id ORDER BY epoch DESC "
               "LIMIT 1), data_source, owner_pid, owner_start, owner_host, heartbeat, parent FROM runs")  # RunRecord's, its owner, parent


class Store(SweepTables, DigitTables, ClassTables, AssignmentTables):
    """The run store at ``home``; ``read_only`` opens the file without writing to it. Its sweeps', digits', class's
    and assignments' methods are ``store_sweeps.SweepTables``'s, ``store_digits.DigitTables``'s,
    ``store_class.ClassTables``'s and ``store_assignments.AssignmentTables``'s."""

    def __init__(self, home: str | os.PathLike | None = None, read_only: bool = False, notice: str = ""):
        self.home = Path(home) if home is not None else store_home()
        self.path = self.home / DB_NAME
        self.runs_dir = self.home / "runs"
        self.notice = notice  # a sentence for the user when this is a fallback store
        self._lock = threading.RLock()
        self._numbers: dict[str, int] = {}  # the last run number given per workspace (next_run_number)
        self._ends: dict[str, dict] = {}  # run id -> the end a full disk kept out of the file (record_end)
        self.read_only = read_only
        if not read_only and self.path.exists() and not os.access(self.path, os.W_OK):
            self.read_only = True
            self.notice = (f"{self.path} is read-only: its runs are shown, but new runs are not kept. Make the "
                           "file writable, or set NNPLAY_HOME to a folder you can write to.")
        try:
            if not self.read_only:
                self.runs_dir.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
            self._check_schema()
        except sqlite3.Error as err:
            raise self._error(err) from None
        except OSError as err:
            raise StoreError(f"The run store at {self.home} cannot be created ({err.strerror}). Set NNPLAY_HOME "
                             "to a folder you can write to.") from None
        if not self.read_only:
            self.mark_interrupted()

    # -- opening ---------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.read_only and not self.path.exists():
            raise StoreReadOnly(f"{self.path} does not exist, and a read-only store cannot create it.")
        db = connect(self.path, self.read_only)
        try:
            db.execute("PRAGMA busy_timeout=10000")
            check_file(db, self.path)
        except BaseException:
            db.close()
            raise
        return db

    def _check_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables:
            if self.read_only:
                raise StoreReadOnly(f"{self.path} is empty and read-only: there are no runs to show.")
            with self._write() as db:  # a new store: version 1, then the migrations (so they always run)
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:  # not made by another process meanwhile
                    for statement in SCHEMA_V1.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute("PRAGMA user_version=1")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        elif version == 0:
            raise NotAStore(f"{self.path} is an SQLite file but not an nnplay run store (it has other tables). "
                             "It was left as it is: set NNPLAY_HOME to another folder.")
        if version > SCHEMA_VERSION:
            raise StoreTooNew(f"{self.path} was written by a newer nnplay (store version {version}; this one reads "
                             f"up to {SCHEMA_VERSION}). Upgrade nnplay, or set NNPLAY_HOME to another folder. "
                             "The file was left as it is.")
        if version < SCHEMA_VERSION:
            if self.read_only:
                raise StoreReadOnly(f"{self.path} is from an older nnplay (store version {version}) and is read-only, "
                                 "so it cannot be upgraded. Make it writable and start nnplay again.")
            self.migrate()

    def migrate(self) -> int:
        """Bring the schema up to SCHEMA_VERSION, one step per transaction; returns the version it started at."""
        start = None
        while True:
            with self._write() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]  # read inside: another process may migrate
                start = version if start is None else start
                if version >= SCHEMA_VERSION:
                    return start
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version={version + 1}")

    def _error(self, err: sqlite3.Error) -> StoreError:
        return store_error(err, self.path)

    class _Tx:
        def __init__(self, store: "Store"):
            self.store = store

        def __enter__(self):
            self.store._lock.acquire()
            try:
                self.store._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._db

        def __exit__(self, kind, value, tb):
            db = self.store._db
            try:
                if kind is None:
                    db.execute("COMMIT")
                else:
                    db.execute("ROLLBACK")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if kind is None:
                    raise
            finally:
                self.store._lock.release()
            return False

    def _write(self) -> "_Tx":
        if self.read_only:
            raise StoreReadOnly(f"{self.path} is open read-only, so this change was not kept. Make the file "
                             "writable, or set NNPLAY_HOME to a folder you can write to.")
        return Store._Tx(self)

    def write(self, fn, *args):
        """Run ``fn(db, *args)`` in one transaction; sqlite errors become StoreError sentences."""
        try:
            with self._write() as db:
                result = fn(db, *args)
        except sqlite3.Error as err:
            raise self._error(err) from None
        while self._ends:  # a write went through: there is room for the ends kept out before
            run_id, fields = self._ends.popitem()
            if not self.record_end(run_id, **fields):
                break
        return result

    def _read(self, sql: str, args=()) -> list[tuple]:
        try:
            with self._lock:
                return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as err:
            raise self._error(err) from None

    def changes(self) -> tuple[int, int]:
        """A value that differs after any write to the file, by this process or another (this connection's
        change count and SQLite's data_version): a cache of what was read may be kept while it stays the same."""
        try:
            with self._lock:
                return self._db.total_changes, self._db.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as err:
            raise self._error(err) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    # -- runs ------------------------------------------------------------------------------------

    def create_run(self, name: str, data_cfg: DataConfig, model_cfg: ModelConfig, train_cfg: TrainConfig,
                   workspace: str = LOCAL_WORKSPACE, kind: str = "train", group: str = "", status: str = "queued",
                   message: str = "", run_id: str | None = None, created: float | None = None,
                   data_source: DataSource = "", parent: str = "") -> str:
        """A new run record owned by this process; returns its id. ``data_source``: "full" or "sample" when
        already known ("" until ``record`` says it); ``parent``: the run it trains further ("" for none)."""
        check_data_source(data_source)
        run_id = run_id or new_id()
        row = (run_id, name, workspace, kind, group, created or time.time(), status, message,
               json.dumps(to_dict(data_cfg)), json.dumps(to_dict(model_cfg)), json.dumps(to_dict(train_cfg)),
               *THIS_PROCESS, time.time(), data_source, parent)
        self.write(lambda db: db.execute(
            "INSERT INTO runs (id, name, workspace, kind, grp, created, status, message, data_cfg, model_cfg, "
            "train_cfg, owner_pid, owner_start, owner_host, heartbeat, data_source, parent) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row))
        return run_id

    def next_run_number(self, workspace: str = LOCAL_WORKSPACE) -> int:
        """The number the workspace's next training run is called by ("run 7 · …"): one more than the last
        one given, kept in the store so a restart or another session goes on counting. A store that cannot
        write (read-only, disk full) counts in this process instead, from the runs it holds."""
        def tx(db):
            db.execute("INSERT OR IGNORE INTO run_numbers VALUES (?, (SELECT count(*) FROM runs WHERE workspace=? "
                       "AND kind='train'))", (workspace, workspace))
            db.execute("UPDATE run_numbers SET last = max(last, ?) + 1 WHERE workspace=?",
                       (self._numbers.get(workspace, 0), workspace))
            return db.execute("SELECT last FROM run_numbers WHERE workspace=?", (workspace,)).fetchone()[0]
        try:
            number = self.write(tx)
        except StoreError:
            try:
                counted = self._read("SELECT max((SELECT count(*) FROM runs WHERE workspace=? AND kind='train'), "
                                     "coalesce((SELECT last FROM run_numbers WHERE workspace=?), 0))",
                                     (workspace, workspace))[0][0]
            except StoreError:
                counted = 0
            number = max(self._numbers.get(workspace, 0), counted) + 1
        self._numbers[workspace] = number
        return number

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def record(self, run_id: str, steps=(), epochs=(), layers=(), start: RunStart | None = None,
               status: tuple[str, str] | None = None, end: RunEnd | None = None,
               checkpoint_epoch: int | None = None, has_final: bool = False, started: float | None = None,
               data_source: DataSource | None = None) -> None:
        """Write one batch of a run's events (and its new status, or the source of its data once known) in one
        transaction."""
        if data_source is not None:
            check_data_source(data_source)

        def tx(db):
            if start is not None:
                db.execute("UPDATE runs SET device=?, parameters=?, epochs=?, steps_per_epoch=?, train_size=?, "
                           "test_size=? WHERE id=?", (start.device, start.parameters, start.epochs,
                                                      start.steps_per_epoch, start.train_size, start.test_size, run_id))
            if steps:
                db.executemany("INSERT OR REPLACE INTO steps VALUES (?,?,?,?,?)",
                               [(run_id, s.step, s.epoch, s.loss, s.lr) for s in steps])
            for e in epochs:
                db.execute("INSERT OR REPLACE INTO epochs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (run_id, e.epoch, e.train_loss, e.train_accuracy, e.test_loss, e.test_accuracy,
                            e.seconds, e.eval_seconds, e.samples_per_s, e.step, e.lr, e.device))
            for i, s in enumerate(layers):  # i keeps the model's layer order
                db.execute("INSERT OR REPLACE INTO layer_stats VALUES (?,?,?,?)", (run_id, s.epoch, s.layer, json.dumps(
                    [s.weight_mean, s.weight_std, s.weight_norm, s.weight_hist, s.grad_mean, s.grad_std, s.grad_norm,
                     s.grad_hist, i])))
            sets, args = ["heartbeat=?"], [time.time()]
            if steps:
                sets.append("last_step=?")
                args.append(steps[-1].step)
            if status is not None:
                sets += ["status=?", "message=?"]
                args += list(status)
                if status[0] not in ACTIVE:
                    sets.append("ended=?")
                    args.append(time.time())
            if started is not None:
                sets.append("started=?")
                args.append(started)
            if end is not None:
                sets.append("end_step=?")
                args.append(end.step)
            if checkpoint_epoch is not None:
                sets.append("checkpoint_epoch=?")
                args.append(checkpoint_epoch)
            if has_final:
                sets.append("has_final=1")
            if data_source:
                sets.append("data_source=?")
                args.append(data_source)
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))
        self.write(tx)

    def record_end(self, run_id: str, **fields) -> bool:
        """``record`` a run's end (its status and message); one that cannot be written (a full disk) is kept
        and written with the next write that goes through, so the record does not stay "running"."""
        try:
            self.record(run_id, **fields)
            return True
        except StoreError:
            self._ends[run_id] = fields
            return False

    def beat(self, run_ids) -> int:
        """Refresh the heartbeat of those of ``run_ids`` that are still queued, running or paused and owned by
        this process; how many. A run that writes no events (paused, or waiting in the queue) still shows that
        its process is alive, so another host sharing this store does not mark it interrupted."""
        ids = list(run_ids)
        if not ids or self.read_only:
            return 0
        marks = ",".join("?" * len(ids))

        def tx(db):
            return db.execute(f"UPDATE runs SET heartbeat=? WHERE id IN ({marks}) AND status IN {_ACTIVE_SQL} "
                              f"AND owner_pid=? AND owner_host=?",
                              (time.time(), *ids, THIS_PROCESS.pid, THIS_PROCESS.host)).rowcount
        return self.write(tx)

    def set_status(self, run_id: str, status: str, message: str = "") -> None:
        self.record(run_id, status=(status, message))

    def rename(self, run_id: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a run needs a name: type at least one character.")
        self.write(lambda db: db.execute("UPDATE runs SET name=? WHERE id=?", (name, run_id)))

    def delete(self, run_id: str) -> None:
        """Remove a run's record, curves and files (the caller stops a training run first). On a full disk the
        files go first, so that the record's deletion has room to be written."""
        import shutil

        def tx(db):
            for table in ("steps", "epochs", "layer_stats"):
                db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM runs WHERE id=?", (run_id,))
        try:
            self.write(tx)
        except StoreFull:
            shutil.rmtree(self.run_dir(run_id), ignore_errors=True)
            self.write(tx)
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def copy_run(self, run_id: str, workspace: str) -> str:
        """Copy a run (record, curves, model files) into ``workspace``; returns the copy's id."""
        import shutil

        copy_id = new_id()
        cols = [r[1] for r in self._read("PRAGMA table_info(runs)")]
        picked = ", ".join("?" if c == "id" else "?" if c == "workspace" else "?" if c == "created" else c
                           for c in cols)

        def tx(db):
            n = db.execute(f"INSERT INTO runs ({', '.join(cols)}) SELECT {picked} FROM runs WHERE id=? AND status "
                           f"NOT IN {_ACTIVE_SQL}",
                           [copy_id if c == "id" else workspace if c == "workspace" else time.time()
                            for c in cols if c in ("id", "workspace", "created")] + [run_id]).rowcount
            if n == 0:
                raise RunStillActive("only a run that has ended can be copied: wait for it to finish, or stop it.")
            for table in ("steps", "epochs", "layer_stats"):
                tcols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                db.execute(f"INSERT INTO {table} SELECT {', '.join('?' if c == 'run_id' else c for c in tcols)} "
                           f"FROM {table} WHERE run_id=?", (copy_id, run_id))
        self.write(tx)
        if self.run_dir(run_id).is_dir():
            shutil.copytree(self.run_dir(run_id), self.run_dir(copy_id))
        return copy_id

    def mark_interrupted(self, workspace: str | None = None) -> int:
        """Runs left "queued/running/paused" by a process that is gone become "interrupted"; how many."""
        where = f"status IN {_ACTIVE_SQL}" + (" AND workspace=?" if workspace else "")
        rows = self._read(f"SELECT id, owner_pid, owner_start, owner_host, heartbeat, last_step, checkpoint_epoch "
                         f"FROM runs WHERE {where}", (workspace,) if workspace else ())
        dead = [r for r in rows if not owner_alive(r[1], r[2], r[3], r[4], me=THIS_PROCESS)]
        if not dead or self.read_only:
            return 0

        def tx(db):
            for run_id, *_, last_step, ckpt in dead:
                db.execute(f"UPDATE runs SET status='interrupted', message=?, ended=heartbeat WHERE id=? AND status "
                           f"IN {_ACTIVE_SQL}", (interrupted_message(last_step, ckpt), run_id))
        try:
            self.write(tx)
        except (StoreFull, StoreBusy):
            return 0  # marked by a later open; meanwhile records show such runs as interrupted (_record)
        return len(dead)

    def get(self, run_id: str) -> RunRecord | None:
        rows = self._read(f"{_RECORD_SQL} WHERE id=?", (run_id,))
        return self._record(rows[0]) if rows else None

    def list_runs(self, workspace: str = LOCAL_WORKSPACE, kinds: tuple[str, ...] | None = ("train", "loaded"),
                  usable_only: bool = False) -> list[RunRecord]:
        """A workspace's runs, oldest first (kinds=None: sweeps too); active runs of dead processes are
        marked interrupted first."""
        self.mark_interrupted(workspace)
        sql = f"{_RECORD_SQL} WHERE workspace=?"
        args: list = [workspace]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        if usable_only:
            sql += f" AND (has_final=1 OR checkpoint_epoch IS NOT NULL) AND status NOT IN {_ACTIVE_SQL}"
        return [self._record(r) for r in self._read(sql + " ORDER BY created", args)]

    def picker_choices(self, workspace: str = LOCAL_WORKSPACE) -> list[tuple[str, str]]:
        """(id, label) of every run of the workspace with a usable model, newest first: the model picker's data."""
        rows = self._read(f"SELECT id, name, status FROM runs WHERE workspace=? AND kind IN ('train','loaded') AND "
                          f"(has_final=1 OR checkpoint_epoch IS NOT NULL) AND status NOT IN {_ACTIVE_SQL} "
                          "ORDER BY created DESC", (workspace,))
        return [(r[0], f"{r[1]} ({r[2]})") for r in rows]

    def ids_starting(self, text: str) -> list[str]:
        """The ids (any workspace) that are ``text`` or start with it, sorted: how the CLI finds a typed run."""
        return sorted({r[0] for r in self._read("SELECT id FROM runs WHERE substr(id, 1, length(?)) = ?",
                                                (text, text))})

    def latest_group(self, workspace: str, group: str, kind: str = "sweep") -> str | None:
        """The group of the workspace's newest run of ``kind`` whose group is ``group`` or starts with it
        (``"experiments/lr/"`` matches ``"experiments/lr/quick"``), or None."""
        rows = self._read("SELECT grp FROM runs WHERE workspace=? AND kind=? AND (grp=? OR substr(grp, 1, ?)=?) "
                          "ORDER BY created DESC LIMIT 1", (workspace, kind, group, len(group), group))
        return rows[0][0] if rows else None

    @staticmethod
    def _record(r) -> RunRecord:
        configs = [parse_config(cls, text) for cls, text in zip((DataConfig, ModelConfig, TrainConfig), r[10:13])]
        unreadable = tuple(part for part, c in zip(("data", "model", "training"), configs) if c is None)
        # an unreadable config keeps a placeholder (its class's defaults) that nothing may show or use as the
        # run's: RunRecord.unreadable says so, and every reader checks it
        data_cfg, model_cfg, train_cfg = (c if c is not None else cls()
                                          for c, cls in zip(configs, (DataConfig, ModelConfig, TrainConfig)))
        status, message = r[8], r[9]
        if status in ACTIVE and not owner_alive(*r[20:24], me=THIS_PROCESS):  # a store that could not mark it
            status, message = "interrupted", interrupted_message(r[15], r[16])
        return RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], status, message, data_cfg, model_cfg,
                         train_cfg, r[13], r[14], r[15], r[16], bool(r[17]), r[18], r[19], unreadable, r[24])

    # -- curves ----------------------------------------------------------------------------------

    def history(self, run_id: str) -> History:
        """The run's engine.History rebuilt from the store, so every figure works unchanged."""
        h = History()
        meta = self._read("SELECT epochs, steps_per_epoch, train_size, test_size, parameters, device, status, "
                         "message, end_step FROM runs WHERE id=?", (run_id,))
        if not meta:
            return h
        epochs, spe, train_size, test_size, params, device, status, message, end_step = meta[0]
        if spe is not None:
            h.start = RunStart(epochs, spe, train_size, test_size, params or 0, device)
        h.steps = [StepEvent(*r) for r in self._read("SELECT step, epoch, loss, lr FROM steps WHERE run_id=? "
                                                    "ORDER BY step", (run_id,))]
        h.epochs = self.epochs(run_id)
        rows = [(e, layer, json.loads(text)) for e, layer, text in
                self._read("SELECT epoch, layer, stats FROM layer_stats WHERE run_id=?", (run_id,))]
        for epoch, layer, v in sorted(rows, key=lambda r: (r[0], r[2][8])):  # the model's layer order
            h.layer_stats.append(LayerStats(epoch, layer, v[0], v[1], v[2], tuple(v[3]), v[4], v[5], v[6],
                                            tuple(v[7]) if v[7] is not None else None))
        if end_step is not None:
            h.end = RunEnd(status, message, end_step)
        return h

    def epochs(self, run_id: str) -> list[EpochMetrics]:
        """The run's epoch metrics only (what a runs list needs, without the steps)."""
        return [EpochMetrics(*r) for r in self._read(
            "SELECT epoch, train_loss, train_accuracy, test_loss, test_accuracy, seconds, eval_seconds, "
            "samples_per_s, step, lr, device FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,))]

    def steps_since(self, run_id: str, step: int) -> list[StepEvent]:
        """The steps after ``step``: what a live view has not drawn yet."""
        return [StepEvent(*r) for r in self._read("SELECT step, epoch, loss, lr FROM steps WHERE run_id=? AND step>? "
                                                 "ORDER BY step", (run_id, step))]

    def thinned_steps(self, run_id: str, points: int = THIN_POINTS) -> list[StepEvent]:
        """At most ``points`` steps spread evenly over the run (every k-th, and always the last), so a chart
        costs the same at step 1e3 and 1e6, as TensorBoard's scalars do."""
        (n, last), = self._read("SELECT count(*), max(step) FROM steps WHERE run_id=?", (run_id,))
        if not n:
            return []
        stride = max(1, -(-n // points))
        rows = self._read("SELECT step, epoch, loss, lr FROM steps WHERE run_id=? AND (step % ? = 0 OR step = ?) "
                         "ORDER BY step", (run_id, stride, last))
        return [StepEvent(*r) for r in rows]

    # -- files and space -------------------------------------------------------------------------

    def checkpoint_path(self, run_id: str) -> Path | None:
        """The run's final model file, else its latest epoch's, if present on disk."""
        for name in ("final.pt", "epoch.pt"):
            path = self.run_dir(run_id) / name
            if path.is_file():
                return path
        return None

    def disk_usage(self, workspace: str | None = None) -> int:
        """Bytes used by a workspace's run folders (all workspaces and the database when None)."""
        if workspace is None:
            ids = None
            total = sum(p.stat().st_size for p in self.home.glob(DB_NAME + "*") if p.is_file())
        else:
            ids = [r[0] for r in self._read("SELECT id FROM runs WHERE workspace=?", (workspace,))]
            total = 0
        for folder in (self.run_dir(i) for i in ids) if ids is not None else self.runs_dir.glob("*"):
            if folder.is_dir():
                total += sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        return total

    # -- per-workspace settings ------------------------------------------------------------------

    def setting(self, workspace: str, key: str, default: str | None = None) -> str | None:
        rows = self._read("SELECT value FROM settings WHERE workspace=? AND key=?", (workspace, key))
        return rows[0][0] if rows else default

    def set_setting(self, workspace: str, key: str, value: str) -> None:
        self.write(lambda db: db.execute("INSERT OR REPLACE INTO settings VALUES (?,?,?)", (workspace, key, value)))


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def open_store(home: str | os.PathLike | None = None) -> Store:
    """The process's one Store for ``home`` (default store_home()); raises StoreError when it cannot open."""
    key = str(Path(home) if home is not None else store_home())
    with _stores_lock:
        if key not in _stores:
            _stores[key] = Store(key)
        return _stores[key]


def open_store_or_fallback(home: str | os.PathLike | None = None) -> Store:
    """open_store, or when the store cannot be used: the same file read-only if it can be read, else a fresh
    store in a temporary folder; ``store.notice`` then says what happened and what to do. The file itself is
    never deleted or overwritten."""
    key = str(Path(home) if home is not None else store_home())
    try:
        return open_store(key)
    except StoreError as err:
        problem, error = str(err), err
    with _stores_lock:
        if key in _stores:
            return _stores[key]
        store = None
        if not isinstance(error, (StoreTooNew, StoreDamaged)):  # those cannot be read at all: a fresh store
            try:
                store = Store(key, read_only=True, notice=f"{problem} Showing its runs read-only: new runs are "
                                                          "not kept.")
            except StoreError:
                store = None
        if store is None:
            folder = tempfile.mkdtemp(prefix="nnplay-store-")
            store = Store(folder, notice=f"{problem} Runs are kept in a temporary folder ({folder}) until the "
                                         "server stops.")
            remove_at_exit(store)
        _stores[key] = store
        return store


def forget_stores() -> None:
    """Close and forget the process's open stores (tests point NNPLAY_HOME elsewhere between tests)."""
    with _stores_lock:
        for store in _stores.values():
            try:
                store.close()
            except sqlite3.Error:
                pass
        _stores.clear()
