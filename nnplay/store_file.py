"""The run store's file: where it lives (``store_home``), its schema version, the version-1 schema, the
migrations, how the file is opened (``connect``, ``check_file``: read-only or immutable, checked for damage), a
temporary store's removal at exit (``remove_at_exit``),
``file_problem`` (why a run's model file could not be written, as a sentence),
and the errors a file can give (``StoreError`` and a subclass per cause, chosen by sqlite's
result code: ``StoreDamaged``, ``StoreTooNew``, ``NotAStore``, ``StoreReadOnly``, ``StoreFull``,
``StoreBusy``, ``RunStillActive``).

Version 1 is kept whole to test the migrations; a new store is made at version 1 and migrated, so the
migrations always run. What does not live here: reading and writing runs (``store``).
"""

from __future__ import annotations

import atexit
import errno
import os
import shutil
import sqlite3
from pathlib import Path

from . import settings

SCHEMA_VERSION = 5
DB_NAME = "runs.db"

def store_home() -> Path:
    """Where the store lives: $NNPLAY_HOME, else $XDG_DATA_HOME/nnplay, else ~/.local/share/nnplay."""
    home = settings.value("NNPLAY_HOME")
    if home:
        return Path(home).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "nnplay"


# Version 1, kept to test the migration: no run kinds/groups and no per-workspace settings.
SCHEMA_V1 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, workspace TEXT NOT NULL,
    created REAL NOT NULL, started REAL, ended REAL, status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
    data_cfg TEXT NOT NULL, model_cfg TEXT NOT NULL, train_cfg TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '', parameters INTEGER,
    epochs INTEGER, steps_per_epoch INTEGER, train_size INTEGER, test_size INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0, end_step INTEGER,
    checkpoint_epoch INTEGER, has_final INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER, owner_start REAL, owner_host TEXT, heartbeat REAL
);
CREATE INDEX runs_by_workspace ON runs (workspace, created);
CREATE TABLE steps (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL NOT NULL, lr REAL NOT NULL,
    PRIMARY KEY (run_id, step)) WITHOUT ROWID;
CREATE TABLE epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, train_loss REAL, train_accuracy REAL, test_loss REAL,
    test_accuracy REAL, seconds REAL, eval_seconds REAL, samples_per_s REAL, step INTEGER, lr REAL, device TEXT,
    PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
CREATE TABLE layer_stats (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, layer TEXT NOT NULL, stats TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch, layer)) WITHOUT ROWID;
"""


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Version 2: runs get a kind ("train", "sweep", "loaded") and a group (the sweep's name);
    workspaces get settings (the picked model)."""
    db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'train'")
    db.execute("ALTER TABLE runs ADD COLUMN grp TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE runs SET kind = 'loaded' WHERE status = 'loaded'")
    db.execute("CREATE INDEX runs_by_kind ON runs (workspace, kind, created)")
    db.execute("CREATE TABLE settings (workspace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
               "PRIMARY KEY (workspace, key)) WITHOUT ROWID")


def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Version 3: runs keep their data source ("full" or "sample"; '' for the runs kept before: unknown);
    workspaces keep the number of their latest run (started at how many runs they had trained)."""
    db.execute("ALTER TABLE runs ADD COLUMN data_source TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE TABLE run_numbers (workspace TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO run_numbers SELECT workspace, count(*) FROM runs WHERE kind='train' GROUP BY workspace")


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """Version 4: sweeps are records of their own (``store_sweeps``: their plan as JSON, planned run count,
    stopped flag); their runs keep kind "sweep" and group = the sweep's id."""
    db.execute("CREATE TABLE sweeps (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, name TEXT NOT NULL, "
               "plan TEXT NOT NULL, created REAL NOT NULL, planned INTEGER NOT NULL DEFAULT 0, "
               "stopped INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX sweeps_by_workspace ON sweeps (workspace, created)")
    db.execute("CREATE INDEX runs_by_group ON runs (grp)")


def _migrate_4_to_5(db: sqlite3.Connection) -> None:
    """Version 5: a learner's own digits (``digits``: the 28×28 image, the canvas or photo it came from as PNG,
    its label, where it came from); runs may record the run they were trained further from (``parent``);
    class mode's learners (display names) and assignments (a task with its settings and constraints as JSON)."""
    db.execute("CREATE TABLE digits (id TEXT PRIMARY KEY, workspace TEXT NOT NULL, label INTEGER NOT NULL, "
               "image BLOB NOT NULL, picture BLOB, source TEXT NOT NULL DEFAULT 'drawn', created REAL NOT NULL)")
    db.execute("CREATE INDEX digits_by_workspace ON digits (workspace, created)")
    db.execute("ALTER TABLE runs ADD COLUMN parent TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE TABLE learners (workspace TEXT PRIMARY KEY, name TEXT NOT NULL, number INTEGER NOT NULL, "
               "created REAL NOT NULL)")
    db.execute("CREATE TABLE assignments (id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL DEFAULT '', "
               "settings TEXT NOT NULL DEFAULT '{}', constraints TEXT NOT NULL DEFAULT '{}', "
               "metric TEXT NOT NULL DEFAULT 'test_accuracy', created REAL NOT NULL, "
               "active INTEGER NOT NULL DEFAULT 1)")


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5}  # from version k to k + 1


class StoreError(Exception):
    """The run store cannot do what was asked; the message names the file and what to do."""


class StoreDamaged(StoreError):
    """The file is not a readable SQLite database (damaged, or another kind of file)."""


class StoreTooNew(StoreError):
    """The file was written by a newer nnplay (a schema version above ``SCHEMA_VERSION``)."""


class NotAStore(StoreError):
    """The file is an SQLite database of something else (its tables are not nnplay's)."""


class StoreReadOnly(StoreError):
    """The file (or its folder) cannot be written, or the store was opened read-only."""


class StoreFull(StoreError):
    """The disk holding the file is full."""


class StoreBusy(StoreError):
    """Another process held the file locked for longer than the busy timeout."""


class RunStillActive(StoreError):
    """The run is still queued, running or paused, and what was asked needs a run that has ended."""


# sqlite's primary result codes (sqlite.org/rescode.html; the sqlite3 module names them from Python 3.11 on)
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 11, 13, 26
_ERROR_CLASSES = {  # a primary result code (the low byte of an extended one) to what it means here
    SQLITE_FULL: StoreFull,
    SQLITE_CORRUPT: StoreDamaged,
    SQLITE_NOTADB: StoreDamaged,
    SQLITE_READONLY: StoreReadOnly,
    SQLITE_PERM: StoreReadOnly,
    SQLITE_BUSY: StoreBusy,
    SQLITE_LOCKED: StoreBusy,
}
# Python 3.10's sqlite3 errors carry no code: sqlite's own text for each code (sqlite3_errstr) stands in
_CODE_OF_ERRSTR = {
    "access permission denied": SQLITE_PERM,
    "database is locked": SQLITE_BUSY,
    "database table is locked": SQLITE_LOCKED,
    "attempt to write a readonly database": SQLITE_READONLY,
    "database disk image is malformed": SQLITE_CORRUPT,
    "database or disk is full": SQLITE_FULL,
    "file is not a database": SQLITE_NOTADB,
}


def connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection to the store file: WAL mode to write; ``mode=ro`` to read, else ``immutable=1`` where
    sqlite cannot make the -shm file beside it (a read-only mount) and no -wal file holds data."""
    if not read_only:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a crashed process
        return db
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, isolation_level=None, timeout=10)
        db.execute("PRAGMA user_version")  # a WAL file's reader needs its -shm: this is where that fails
        return db
    except sqlite3.OperationalError:
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size:  # commits still in the -wal: immutable=1 would not see them
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False, isolation_level=None)


def check_file(db: sqlite3.Connection, path) -> None:
    """``PRAGMA quick_check``: a file whose pages sqlite cannot read raises StoreDamaged (its runs would read
    as empty or wrong)."""
    try:
        rows = db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as err:
        raise store_error(err, path) from None
    if rows != [("ok",)]:
        found = " ".join(line for line in str(rows[0][0]).splitlines() if not line.startswith("***"))
        raise store_error(sqlite3.DatabaseError(f"its pages fail sqlite's check: {found[:200]}"), path)


def interrupted_message(last_step: int, checkpoint_epoch: int | None) -> str:
    """The message of a run whose process ended while it trained."""
    kept = (f"epoch {checkpoint_epoch}'s model is kept" if checkpoint_epoch
            else "no epoch had finished, so there is no model")
    return (f"interrupted at step {last_step}: the process training it ended (server stopped or killed); its "
            f"curves and {kept}.")


def remove_at_exit(store) -> None:
    """Close a temporary fallback store and remove its folder when the process exits (its notice says its
    runs last until then)."""
    def remove():
        try:
            store.close()
        except sqlite3.Error:
            pass
        shutil.rmtree(store.home, ignore_errors=True)
    atexit.register(remove)


def store_error(err: sqlite3.Error, path) -> StoreError:
    """A sentence for a sqlite error on the store file ``path``, of the class its result code means: which file,
    what happened, what to do."""
    text = str(err)
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:
        code = _CODE_OF_ERRSTR.get(text)
    kind = _ERROR_CLASSES.get(code & 0xFF) if code is not None else None
    if kind is None and type(err) is sqlite3.DatabaseError:
        kind = StoreDamaged  # a file sqlite cannot read as a database at all
    if kind is StoreFull:
        return StoreFull(f"The disk holding {path} is full, so the run store could not write. Free some "
                         "space (deleting old runs helps: `python -m nnplay runs list`), then try again.")
    if kind is StoreDamaged:
        return StoreDamaged(f"{path} is damaged ({text}); nnplay cannot read runs from it. It was left as "
                            "it is: move it aside (for example rename it to runs.db.damaged) and start nnplay "
                            "again for a new store, or set NNPLAY_HOME to another folder.")
    if kind is StoreReadOnly:
        return StoreReadOnly(f"{path} is read-only, so new runs cannot be kept. Make the file and its "
                             "folder writable, or set NNPLAY_HOME to a folder you can write to.")
    if kind is StoreBusy:
        return StoreBusy(f"{path} stayed locked by another process for 10 s. Try again when that "
                         "process (a CLI run?) is done.")
    return StoreError(f"The run store {path} failed: {text}.")


def file_problem(folder, err: BaseException) -> str:
    """Why a model file could not be written to ``folder``, as a sentence a user can act on."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC or "No space left" in str(err):
        return (f"the disk holding {folder} is full. Free some space (deleting old runs helps: `python -m nnplay "
                "runs list`) and train it again.")
    why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return f"it could not be written to {folder} ({why})."
