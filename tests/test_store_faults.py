"""The run store under faults (issue 27): a full disk, a read-only mount, a damaged file, temporary stores.

Each test reproduces a fault as a user met it and checks what is said and what is kept: a full disk is a
small file system simulated around the store (``SmallDisk``: the store's writes and the model files' fail
as on a full disk while the run files use up its room, and go through again once space is freed); a
read-only mount is simulated where sqlite cannot make the files beside ``runs.db`` (the tests run as root,
where chmod stops nothing); a damaged file has its middle pages garbled; the Export panel of a run whose
curves cannot be read says so. What does not live here: the store's ordinary faults (tests/test_store.py).
"""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import cli
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, StepEvent
from nnplay.runs import MODELS, REGISTRY, Run
from nnplay.store import (DB_NAME, Store, StoreDamaged, forget_stores, open_store, open_store_or_fallback)
from nnplay.store_file import SQLITE_FULL
from nnplay.ui.outcome import outcome

from .conftest import ROOT

SMALL = ModelConfig(hidden=(16,))
PAGE = 4096  # what one sqlite write needs at least


def trained(store: Store, tiny_data, name: str, epochs: int = 1) -> Run:
    run = Run(name, DataConfig(train_limit=2000, test_limit=500), SMALL,
              TrainConfig(epochs=epochs, batch_size=200, device="cpu")).bind(store)
    run.start(tiny_data).wait()
    return run


def disk_full() -> sqlite3.OperationalError:
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = SQLITE_FULL
    return err


class FullWhen:
    """An sqlite connection whose writes fail as on a full disk while ``full()`` says so."""

    def __init__(self, db, full):
        self.db, self.full = db, full

    def execute(self, sql, *args):
        if sql.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE") and self.full():
            raise disk_full()
        return self.db.execute(sql, *args)

    def executemany(self, sql, *args):
        if self.full():
            raise disk_full()
        return self.db.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


class SmallDisk:
    """A file system with ``free`` bytes left for the run files under ``home``: writing a model file past it
    writes what fits and fails with ENOSPC (as a full disk does), and the store's writes fail with sqlite's
    "database or disk is full" while less than a page is left. Stores opened from now on are on it;
    ``wrap`` puts an open one on it."""

    def __init__(self, home: Path, free: int, monkeypatch):
        self.runs_dir = home / "runs"
        self.limit = self.used() + free
        real_connect, real_write = sqlite3.connect, Path.write_bytes

        def connect(target, *args, **kwargs):
            db = real_connect(target, *args, **kwargs)
            return FullWhen(db, self.full) if str(home) in str(target) else db
        monkeypatch.setattr(sqlite3, "connect", connect)

        def write_bytes(path, data):
            room = max(0, self.limit - self.used())
            if self.runs_dir in Path(path).parents and len(data) > room:
                real_write(path, data[:room])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(path, data)
        monkeypatch.setattr(Path, "write_bytes", write_bytes)

    def used(self) -> int:
        total = 0
        for p in self.runs_dir.rglob("*"):
            try:
                total += p.stat().st_size if p.is_file() else 0
            except FileNotFoundError:  # renamed or removed meanwhile
                pass
        return total

    def full(self) -> bool:
        return self.used() + PAGE > self.limit

    def wrap(self, store: Store) -> None:
        store._db = FullWhen(store._db, self.full)


# -- 1. a full disk ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_the_disk_has_no_room_for_says_its_model_was_not_kept(private_store, tiny_data, monkeypatch):
    store = open_store()
    earlier = trained(store, tiny_data, "earlier")
    model_bytes = (store.run_dir(earlier.id) / "final.pt").stat().st_size
    disk = SmallDisk(private_store, model_bytes // 2, monkeypatch)  # room for the records, not for a model
    disk.wrap(store)
    run = trained(store, tiny_data, "late")
    said = outcome(run)
    assert run.status == "finished" and not run.usable
    assert "current model" not in said.text and said.kind == "warning"
    assert "Its model was not kept: the disk holding" in said.text and "Free some space" in said.text
    record = store.get(run.id)
    assert record.status == "finished" and "its model was not kept" in record.message  # never left "running"
    assert not [p.name for p in private_store.rglob("*.tmp")]  # no partial .epoch.pt.tmp / .final.pt.tmp
    assert run.id not in dict(store.picker_choices()) and earlier.id in dict(store.picker_choices())


@pytest.mark.slow
def test_an_end_the_disk_had_no_room_for_is_written_once_it_has(private_store, tiny_data, monkeypatch):
    store = open_store()
    earlier = trained(store, tiny_data, "earlier")
    run = Run("late", DataConfig(), SMALL, TrainConfig(epochs=1, batch_size=200, device="cpu")).bind(store)
    disk = SmallDisk(private_store, 0, monkeypatch)  # full: nothing of the run can be written
    disk.wrap(store)
    run.start(tiny_data).wait()
    assert run.status == "finished" and "Its model was not kept" in outcome(run).text
    store.delete(earlier.id)  # deleting a run frees space on a full disk…
    assert store.get(earlier.id) is None and not store.run_dir(earlier.id).exists()
    record = store.get(run.id)  # …and the end kept out of the file is written then
    assert record.status == "finished" and "not all of it was kept" in record.message


@pytest.mark.slow
def test_runs_list_and_delete_work_on_a_full_disk(private_store, tiny_data, monkeypatch, capsys):
    store = open_store()
    dead, old = trained(store, tiny_data, "dead"), trained(store, tiny_data, "old")
    # a run left "running" by a process that is gone (its start time is not this process's)
    store._db.execute("UPDATE runs SET status='running', owner_start=-1 WHERE id=?", (dead.id,))
    forget_stores()
    REGISTRY.clear()
    SmallDisk(private_store, 0, monkeypatch)
    assert cli.main(["runs", "list"]) == 0  # reading needs no write
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 runs") and f"{dead.id}" in lines[1] and "interrupted" in lines[1]
    assert cli.main(["runs", "delete", old.id, "--yes"]) == 0, capsys.readouterr().err  # and frees space
    assert [r.id for r in open_store().list_runs()] == [dead.id] and not open_store().run_dir(old.id).exists()


# -- 2. a read-only store -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_cleanly_closed_store_on_a_read_only_mount_shows_every_run(private_store, tiny_data, monkeypatch, capsys):
    store = open_store()
    made = [trained(store, tiny_data, f"run {i}") for i in range(2)]
    steps = made[0].history.steps
    forget_stores()
    REGISTRY.clear()
    MODELS.clear()
    path = private_store / DB_NAME
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()  # closed cleanly
    # a read-only mount: nothing can be written, so sqlite cannot make the -shm a WAL file's reader needs
    real_access, real_connect = os.access, sqlite3.connect
    monkeypatch.setattr(os, "access", lambda p, mode: not (mode & os.W_OK and str(private_store) in str(p))
                        and real_access(p, mode))

    def read_only_mount(target, *args, **kwargs):
        if str(private_store) in str(target) and "immutable=1" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(target, *args, **kwargs)
    monkeypatch.setattr(sqlite3, "connect", read_only_mount)
    shown = open_store_or_fallback()  # the app's store
    assert shown.read_only and shown.home == private_store and "read-only" in shown.notice
    assert [r.id for r in shown.list_runs()] == [r.id for r in made] and shown.history(made[0].id).steps == steps
    forget_stores()
    assert cli.main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 runs") and all(r.id in out for r in made)


# -- 3. a damaged store -------------------------------------------------------------------------------------


def test_a_store_with_garbled_middle_pages_is_damaged_and_no_number_is_printed(private_store, tmp_path, capsys):
    store = open_store()
    run_id = store.create_run("long", DataConfig(), SMALL, TrainConfig(), status="finished")
    store.record(run_id, steps=[StepEvent(s, 1 + s // 1000, 1.0 / s, 0.1) for s in range(1, 5001)],
                 epochs=[EpochMetrics(e, 0.5, 0.8, 0.4, 0.9, 1.0, 0.1, 100.0, e * 1000, 0.1, "cpu")
                         for e in range(1, 6)])
    forget_stores()
    path = private_store / DB_NAME
    data = bytearray(path.read_bytes())
    pages = len(data) // PAGE
    assert pages >= 20
    noise = random.Random(27)
    for page in range(pages // 3, 2 * pages // 3):
        data[page * PAGE:(page + 1) * PAGE] = bytes(noise.randrange(256) for _ in range(PAGE))
    path.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged, match="damaged"):
        Store(private_store)
    fallback = open_store_or_fallback()  # the app: a temporary store, and a sentence saying why
    assert fallback.home != private_store and str(path) in fallback.notice and "damaged" in fallback.notice
    forget_stores()
    csv = tmp_path / "metrics.csv"
    assert cli.main(["runs", "export", run_id, "--csv", str(csv)]) != 0 and not csv.exists()
    err = capsys.readouterr().err
    assert "damaged" in err and "steps" not in err
    assert cli.main(["export", run_id, "--format", "tensorboard", "--out", str(tmp_path / "tb")]) != 0
    err = capsys.readouterr().err
    assert "damaged" in err and "has not trained" not in err
    assert cli.main(["runs", "list"]) != 0 and "damaged" in capsys.readouterr().err
    assert path.read_bytes() == bytes(data)  # left as it is


# -- 6. temporary store folders -----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_temporary_store_folder_is_removed_at_exit(private_store, tmp_path):
    (private_store / DB_NAME).write_bytes(b"not a database " * 1000)
    code = ("from nnplay.config import DataConfig, ModelConfig, TrainConfig\n"
            "from nnplay.store import open_store_or_fallback\n"
            "store = open_store_or_fallback()\n"
            "store.create_run('kept here', DataConfig(), ModelConfig(), TrainConfig())\n"
            "print(store.home)\n")
    env = {**os.environ, "NNPLAY_HOME": str(private_store), "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path and folder.name.startswith("nnplay-store-")
    assert not folder.exists() and not list(tmp_path.glob("nnplay-store-*"))


@pytest.mark.slow
def test_a_run_the_full_store_could_not_take_says_so(private_store, tiny_data, monkeypatch):
    store = open_store()
    trained(store, tiny_data, "earlier")
    SmallDisk(private_store, 0, monkeypatch).wrap(store)
    run = trained(store, tiny_data, "late")  # its record cannot even be made: it trains in memory
    said = outcome(run)
    assert run.status == "finished" and store.get(run.id) is None
    assert "current model" not in said.text and said.kind == "warning"
    assert "It was not kept in the run store: the disk holding" in said.text and "Model (.pt)" in said.text


def test_the_outcome_says_what_was_kept_and_what_was_not():
    from types import SimpleNamespace

    final = {"epochs_done": 3, "seconds": 2.0, "test_accuracy": 0.9, "train_accuracy": 0.8}
    note = "the disk holding /x is full. Free some space and train it again."
    stopped = SimpleNamespace(status="stopped", message=f"stopped at step 40 (its model was not kept: {note})",
                              usable=False, store=object(), model_note=note, final=lambda: final)
    assert outcome(stopped).text == f"Stopped at step 40. Its model was not kept: {note}"
    epoch_kept = SimpleNamespace(status="finished", message="", usable=True, store=object(), model_note=note,
                                 kept_epoch=2, final=lambda: final)
    assert outcome(epoch_kept).text.endswith(f"Its final model was not kept: {note} Epoch 2's model is kept and is "
                                             "now the current model the other pages use.")


def curves_unreadable(store: Store, monkeypatch) -> None:
    """From now on the store says it is damaged when a run's curves are read (this process's runs and models
    forgotten, so a page reads them from the store as after a restart)."""
    REGISTRY.clear()
    MODELS.clear()
    damaged = StoreDamaged(f"{store.path} is damaged (database disk image is malformed); nnplay cannot read runs "
                           "from it.")
    monkeypatch.setattr(Store, "epochs", lambda self, run_id: (_ for _ in ()).throw(damaged))
    monkeypatch.setattr(Store, "history", lambda self, run_id: (_ for _ in ()).throw(damaged))


def test_a_finished_run_whose_curves_cannot_be_read_prints_no_number(private_store, tiny_data, monkeypatch):
    store = open_store()
    run_id = trained(store, tiny_data, "done").id
    curves_unreadable(store, monkeypatch)
    run = Run.from_record(store, store.get(run_id))  # as a run's link opens it
    said = outcome(run)  # was: TypeError, unsupported format string passed to NoneType.__format__
    assert said.kind == "warning" and "is damaged" in said.text and "%" not in said.text


@pytest.mark.slow
def test_runs_list_reads_a_store_that_cannot_be_opened_to_write(private_store, tiny_data, monkeypatch, capsys):
    kept = trained(open_store(), tiny_data, "kept")
    forget_stores()
    REGISTRY.clear()
    real_connect = sqlite3.connect

    def no_room_for_the_shm(target, *args, **kwargs):  # a full disk: sqlite cannot make the -shm to write
        if str(private_store) in str(target) and not str(target).startswith("file:"):
            raise sqlite3.OperationalError("disk I/O error")
        return real_connect(target, *args, **kwargs)
    monkeypatch.setattr(sqlite3, "connect", no_room_for_the_shm)
    assert cli.main(["runs", "list"]) == 0
    said = capsys.readouterr()
    assert said.out.startswith("1 run in workspace") and kept.id in said.out and "Reading it read-only" in said.err
    assert cli.main(["runs", "delete", kept.id, "--yes"]) == 2  # deleting needs the write it cannot do: said
    assert "disk I/O error" in capsys.readouterr().err


def export_page(run_id: str):
    from nnplay.runs import find_run
    from nnplay.store import open_store
    from nnplay.ui.export_panel import export_panel

    export_panel(find_run(open_store(), run_id))


def test_the_export_panel_says_why_a_run_whose_curves_cannot_be_read_has_no_tensorboard(private_store, tiny_data,
                                                                                         monkeypatch):
    store = open_store()
    run_id = trained(store, tiny_data, "done").id
    curves_unreadable(store, monkeypatch)
    at = AppTest.from_function(export_page, args=(run_id,), default_timeout=60).run()
    assert not at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    tensorboard = buttons["train_export_tensorboard"].proto
    assert tensorboard.disabled  # was: offered, or "has not trained a step yet"
    assert "cannot be read" in tensorboard.help and "is damaged" in tensorboard.help
    assert "not trained a step" not in tensorboard.help
    said = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "The curves of done cannot be read from the run store" in said and "is damaged" in said, said
    assert not buttons["train_export_script"].proto.disabled  # its settings were read: its code still downloads
