"""The run store on its own: write and read back, batching, migration, faults, two processes, interruption.

What lives here: ``nnplay.store`` and the store side of ``nnplay.runs`` (recorder, checkpoints, the model
cache) checked against the in-memory run they record: the history rebuilt from the store equals the one
the engine reported, and each fault (damaged file, newer schema, read-only, full disk, missing run
folder, a killed process, two writers) gives a sentence and loses nothing readable. Every test has its
own NNPLAY_HOME (tests/conftest.py). What does not live here: the pages (test_store_pages.py).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
import torch

from nnplay import runs as runs_mod
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.models import build_model
from nnplay.runs import MODELS, Run, delete_run, find_run, workspace_runs
from nnplay.store import (DB_NAME, SCHEMA_V1, SCHEMA_VERSION, Store, StoreError, open_store,
                          open_store_or_fallback)
from nnplay.store_file import SQLITE_FULL

from .conftest import ROOT

SMALL = ModelConfig(hidden=(16,))


def trained(store: Store, tiny_data, name: str = "run", epochs: int = 2, workspace: str = "local", **train) -> Run:
    cfg = TrainConfig(**{"epochs": epochs, "batch_size": 200, "device": "cpu", **train})
    run = Run(name, DataConfig(train_limit=2000, test_limit=500), SMALL, cfg).bind(store, workspace)
    run.start(tiny_data).wait()
    return run


@pytest.mark.slow
def test_a_run_is_written_and_read_back(private_store, tiny_data):
    store = open_store()
    assert store.path == private_store / DB_NAME
    run = trained(store, tiny_data)
    assert run.status == "finished"
    live = run.history
    back = store.history(run.id)
    assert back.start == live.start and back.end == live.end
    assert back.steps == live.steps and len(back.steps) == 20  # 2 epochs of 2,000 images / 200
    assert back.epochs == live.epochs
    assert back.layer_stats == live.layer_stats and [s.layer for s in back.layer_stats][:2] == ["lin_1", "lin_2"]
    record = store.get(run.id)
    assert (record.name, record.status, record.workspace, record.kind) == ("run", "finished", "local", "train")
    assert record.model_cfg == SMALL and record.train_cfg == run.train_cfg and record.data_cfg == run.data_cfg
    assert record.parameters == 784 * 16 + 16 + 16 * 10 + 10 and record.last_step == 20
    assert record.checkpoint_epoch == 2 and record.has_final and record.test_accuracy == live.epochs[-1].test_accuracy
    assert record.started and record.ended >= record.started
    # the model left the run for the cache, without gradients; the file holds the same weights
    assert run._model is None and all(p.grad is None for p in run.model.parameters())
    MODELS.clear()
    from_disk = run.model
    assert from_disk is not None and sorted(os.listdir(store.run_dir(run.id))) == ["epoch.pt", "final.pt"]
    fresh = Run.from_record(store, record)
    assert fresh.history.steps == live.steps and fresh.final() == run.final() and fresh.usable
    for a, b in zip(fresh.model.state_dict().values(), from_disk.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_events_are_written_in_batches_not_per_step(tiny_data, monkeypatch):
    store = open_store()
    monkeypatch.setattr(runs_mod.sinks, "FLUSH_SECONDS", 3600)  # only the epochs' and the end's batches
    calls = []
    real = store.record
    monkeypatch.setattr(store, "record", lambda *a, **k: (calls.append(len(k.get("steps") or ())), real(*a, **k))[1])
    run = trained(store, tiny_data, epochs=3, log_every=1)
    assert run.status == "finished" and len(run.history.steps) == 30
    # running status, RunStart, one batch per epoch (10 steps each), the end
    assert calls == [0, 0, 10, 10, 10, 0]
    assert len(store.history(run.id).steps) == 30


@pytest.mark.slow
def test_thinned_and_incremental_reads(tiny_data):
    store = open_store()
    run = trained(store, tiny_data, epochs=3)
    steps = run.history.steps
    assert store.steps_since(run.id, 25) == steps[25:]
    thin = store.thinned_steps(run.id, points=7)
    assert len(thin) <= 8 and thin[-1] == steps[-1] and thin[0].step == 5  # every 5th step of 30, and the last
    assert [s.step for s in thin] == [5, 10, 15, 20, 25, 30]
    assert store.thinned_steps(run.id, points=1000) == steps


@pytest.mark.slow
def test_rename_delete_space_and_copy(tiny_data):
    store = open_store()
    a, b = trained(store, tiny_data, "a", epochs=1), trained(store, tiny_data, "b", epochs=1, workspace="other")
    a.name = "renamed"
    assert store.get(a.id).name == "renamed"
    with pytest.raises(ValueError, match="needs a name"):
        store.rename(a.id, "  ")
    files = sum(p.stat().st_size for p in store.run_dir(a.id).iterdir())
    assert store.disk_usage("local") == files > 0
    assert [r.id for r in workspace_runs(store, "local")] == [a.id]  # nobody sees another workspace's runs
    copy_id = store.copy_run(b.id, "local")
    copy = find_run(store, copy_id)
    assert copy.workspace == "local" and copy.history.steps == b.history.steps and copy.usable
    assert [r.id for r in workspace_runs(store, "local")] == [a.id, copy_id]
    delete_run(a)
    assert store.get(a.id) is None and not store.run_dir(a.id).exists() and store.history(a.id).steps == []
    assert store.get(b.id) is not None and store.disk_usage("local") > 0


@pytest.mark.slow
def test_the_model_cache_is_bounded(tiny_data, monkeypatch):
    store = open_store()
    one = MODELS.size_of(build_model(SMALL))
    assert one == (784 * 16 + 16 + 16 * 10 + 10) * 4
    monkeypatch.setattr(MODELS, "max_bytes", 2 * one)
    done = [trained(store, tiny_data, f"r{i}", epochs=1) for i in range(3)]
    assert len(MODELS) == 2 and MODELS.bytes == 2 * one and all(r._model is None for r in done)
    models = [r.model for r in done]  # the oldest one comes back from its checkpoint
    assert all(m is not None for m in models) and len(MODELS) == 2
    monkeypatch.setattr(MODELS, "max_bytes", 1)  # smaller than any model: the latest is still kept
    MODELS.put("big", models[0])
    assert len(MODELS) == 1 and MODELS.get("big") is models[0]


def test_migration_from_version_1(private_store):
    db = sqlite3.connect(private_store / DB_NAME)
    db.executescript(SCHEMA_V1)
    db.execute("INSERT INTO runs (id, name, workspace, created, status, data_cfg, model_cfg, train_cfg) VALUES "
               "('old1', 'from v1', 'local', 1.0, 'finished', '{}', '{\"hidden\": [8]}', '{}')")
    db.execute("INSERT INTO runs (id, name, workspace, created, status, data_cfg, model_cfg, train_cfg) VALUES "
               "('old2', 'an upload', 'local', 2.0, 'loaded', '{}', '{}', '{}')")
    db.execute("INSERT INTO steps VALUES ('old1', 1, 1, 2.5, 0.1)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    store = Store(private_store)
    assert store.schema_version == SCHEMA_VERSION == 5
    old = store.get("old1")
    assert (old.name, old.kind, old.group, old.model_cfg.hidden) == ("from v1", "train", "", (8,))
    assert store.get("old2").kind == "loaded"
    assert [s.loss for s in store.history("old1").steps] == [2.5]
    store.set_setting("local", "model", "old1")
    assert store.setting("local", "model") == "old1"
    assert store.migrate() == SCHEMA_VERSION  # nothing left to do


def test_a_damaged_file_is_named_kept_and_the_app_falls_back(private_store):
    path = private_store / DB_NAME
    junk = b"this is not an sqlite database at all" * 100
    path.write_bytes(junk)
    with pytest.raises(StoreError) as err:
        Store(private_store)
    assert str(path) in str(err.value) and "damaged" in str(err.value) and "move it aside" in str(err.value)
    fallback = open_store_or_fallback()
    assert fallback.home != private_store and str(path) in fallback.notice and "temporary" in fallback.notice
    fallback.create_run("works", DataConfig(), SMALL, TrainConfig())  # the app still keeps runs
    assert path.read_bytes() == junk  # never deleted or overwritten


def test_a_newer_schema_is_refused_with_a_sentence(private_store, tiny_data):
    store = Store(private_store)
    store.create_run("kept", DataConfig(), SMALL, TrainConfig(), status="finished")
    store._db.execute("PRAGMA user_version=99")
    store.close()
    before = (private_store / DB_NAME).read_bytes()
    with pytest.raises(StoreError, match="newer nnplay.*Upgrade nnplay"):
        Store(private_store)
    fallback = open_store_or_fallback()
    assert "newer nnplay" in fallback.notice and fallback.home != private_store
    assert (private_store / DB_NAME).read_bytes() == before


@pytest.mark.slow
def test_a_read_only_file_is_shown_read_only(private_store, tiny_data, monkeypatch):
    kept = trained(open_store(), tiny_data, epochs=1)
    from nnplay.store import forget_stores

    forget_stores()
    path = private_store / DB_NAME
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(path) else real_access(p, mode))
    store = open_store_or_fallback()
    assert store.read_only and store.home == private_store and str(path) in store.notice
    assert [r.id for r in store.list_runs()] == [kept.id] and store.history(kept.id).steps == kept.history.steps
    with pytest.raises(StoreError, match="read-only"):
        store.create_run("new", DataConfig(), SMALL, TrainConfig())
    # a run started now still trains, in memory, and says it was not kept
    run = Run("not kept", DataConfig(), SMALL, TrainConfig(epochs=1, batch_size=500, device="cpu")).bind(store)
    run.start(tiny_data).wait()
    assert run.status == "finished" and run.usable and "not kept" in run.message and str(path) in run.message
    assert [r.id for r in workspace_runs(store)] == [kept.id, run.id]


def disk_full() -> sqlite3.OperationalError:
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = SQLITE_FULL  # as sqlite raises it (Python 3.11+): the store reads the code
    return err


class FullDisk:
    """An sqlite connection whose writes fail as on a full disk (reads still work)."""

    def __init__(self, db):
        self.db = db

    def execute(self, sql, *args):
        if sql.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise disk_full()
        return self.db.execute(sql, *args)

    def executemany(self, sql, *args):
        raise disk_full()

    def __getattr__(self, name):
        return getattr(self.db, name)


@pytest.mark.slow
def test_a_full_disk_does_not_stop_training_and_keeps_what_was_written(tiny_data):
    store = open_store()
    earlier = trained(store, tiny_data, "earlier", epochs=1)
    run = Run("late", DataConfig(), SMALL, TrainConfig(epochs=1, batch_size=200, device="cpu")).bind(store)
    real = store._db
    store._db = FullDisk(real)
    try:
        run.start(tiny_data).wait()
        with pytest.raises(StoreError) as err:
            store.rename(earlier.id, "x")
    finally:
        store._db = real
    assert run.status == "finished" and len(run.history.steps) == 10  # the training itself went on
    assert "full" in run.message and str(store.path) in run.message and "Free some space" in run.message
    assert str(store.path) in str(err.value)
    assert store.history(earlier.id).steps == earlier.history.steps and store.get(earlier.id).name == "earlier"


@pytest.mark.slow
def test_a_missing_run_folder_leaves_its_curves(tiny_data):
    import shutil

    store = open_store()
    gone, other = trained(store, tiny_data, "gone", epochs=1), trained(store, tiny_data, "other", epochs=1)
    shutil.rmtree(store.run_dir(gone.id))
    MODELS.clear()
    runs_mod.REGISTRY.clear()
    listed = {r.name: r for r in workspace_runs(store)}
    assert listed["gone"].history.steps == gone.history.steps and listed["gone"].final() == gone.final()
    assert listed["gone"].model is None and not listed["gone"].usable
    assert listed["other"].usable and listed["other"].model is not None
    assert [i for i, _ in store.picker_choices()] == [other.id, gone.id]  # the record says it had a model…
    delete_run(listed["gone"])  # …and it can still be deleted
    assert store.get(gone.id) is None


def _python(code: str, home) -> subprocess.Popen:
    env = {**os.environ, "NNPLAY_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_write_at_once(private_store, tiny_data):
    cli = subprocess.Popen([sys.executable, "-m", "nnplay", "train", "--epochs", "2", "--train-limit", "2000",
                            "--test-limit", "500", "--hidden", "16", "--batch-size", "50", "--log-every", "1",
                            "--device", "cpu", "--quiet"],
                           env={**os.environ, "NNPLAY_HOME": str(private_store), "PYTHONPATH": str(ROOT)},
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = open_store()
    here = [trained(store, tiny_data, f"here {i}", epochs=2, batch_size=50, log_every=1) for i in range(2)]
    out, err = cli.communicate(timeout=300)
    assert cli.returncode == 0, err
    records = {r.name: r for r in store.list_runs()}
    assert len(records) == 3 and all(r.status == "finished" for r in records.values())
    for record in records.values():
        assert len(store.history(record.id).steps) == 80 and len(store.history(record.id).epochs) == 2
    assert all(records[r.name].last_step == 80 for r in here)


@pytest.mark.slow
def test_a_killed_process_leaves_an_interrupted_run(private_store):
    child = _python("""
        import os, signal, time
        from nnplay.config import DataConfig, ModelConfig, TrainConfig
        from nnplay.data import load_sample
        from nnplay.runs import Run
        from nnplay.store import open_store
        store = open_store()
        run = Run("doomed", DataConfig(), ModelConfig(hidden=(16,)),
                  TrainConfig(epochs=500, batch_size=100, device="cpu")).bind(store)
        run.start(load_sample().limited(1000, 200))
        while (store.get(run.id).checkpoint_epoch or 0) < 1:
            time.sleep(0.05)
        print(run.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the server killed mid-run
    """, private_store)
    out, err = child.communicate(timeout=120)
    assert child.returncode == -9, err
    run_id = out.split()[0]
    store = open_store()  # the next start
    record = store.get(run_id)
    assert record.status == "interrupted" and "interrupted at step" in record.message
    assert "the process training it ended" in record.message and record.ended is not None
    run = find_run(store, run_id)
    assert run.usable and run.model is not None and len(run.history.epochs) >= 1
    assert len(run.history.steps) >= 10  # epoch 1's steps at least
    assert not run.active


def test_a_paused_run_keeps_its_heartbeat_so_another_host_leaves_it(private_store, monkeypatch):
    """A paused (or queued) run writes no events: its owner's heartbeat thread keeps it from being taken as
    interrupted by another host that shares the store folder."""
    import time

    from nnplay import store as store_mod

    store = open_store()
    run = Run("resting", DataConfig(), SMALL, TrainConfig(epochs=1, device="cpu")).bind(store)
    assert runs_mod.registry._beating is not None and runs_mod.registry._beating.is_alive()  # bind of an active run starts it
    run.status = "paused"
    store.set_status(run.id, "paused")

    def age_heartbeat():
        store.write(lambda db: db.execute("UPDATE runs SET heartbeat=? WHERE id=?",
                                          (time.time() - store_mod.OWNER_SILENCE_S - 60, run.id)))

    other_host = store_mod.THIS_PROCESS._replace(host=store_mod.THIS_PROCESS.host + "-elsewhere")
    try:
        age_heartbeat()
        assert runs_mod.beat_active_runs() >= 1  # what the thread does every HEARTBEAT_S
        monkeypatch.setattr(store_mod, "THIS_PROCESS", other_host)  # the store as another host sees it
        assert store.mark_interrupted() == 0 and store.get(run.id).status == "paused"
        monkeypatch.undo()
        age_heartbeat()  # and without a beat for two minutes, the other host takes it as gone
        monkeypatch.setattr(store_mod, "THIS_PROCESS", other_host)
        assert store.mark_interrupted() == 1 and store.get(run.id).status == "interrupted"
    finally:
        monkeypatch.undo()
        run.status = "interrupted"
        assert runs_mod.beat_active_runs() == 0  # not active any more: nothing to refresh


# -- issue 22: error classes, one status vocabulary, unreadable settings, data source, run numbers ---------


def test_errors_are_told_apart_by_class_not_by_their_text(private_store, tiny_data, monkeypatch):
    from nnplay import store as store_mod
    from nnplay.store import NotAStore, StoreDamaged, StoreFull, StoreReadOnly, StoreTooNew

    (private_store / DB_NAME).write_bytes(b"not a database" * 200)
    with pytest.raises(StoreDamaged):
        Store(private_store)
    (private_store / DB_NAME).unlink()
    other = sqlite3.connect(private_store / DB_NAME)
    other.execute("CREATE TABLE notes (x)")
    other.commit()
    other.close()
    with pytest.raises(NotAStore):
        Store(private_store)
    (private_store / DB_NAME).unlink()
    store = Store(private_store)
    store._db.execute("PRAGMA user_version=99")
    store.close()
    with pytest.raises(StoreTooNew):
        Store(private_store)
    (private_store / DB_NAME).unlink()
    store = Store(private_store)
    real = store._db
    store._db = FullDisk(real)
    with pytest.raises(StoreFull):
        store.create_run("x", DataConfig(), SMALL, TrainConfig())
    store._db = real
    with pytest.raises(StoreReadOnly):
        Store(private_store, read_only=True).create_run("x", DataConfig(), SMALL, TrainConfig())
    assert all(issubclass(c, StoreError) for c in (NotAStore, StoreDamaged, StoreFull, StoreReadOnly, StoreTooNew))
    # Python 3.10's sqlite3 gives no code: sqlite's own text for it stands in; any other text is no class
    from nnplay.store_file import store_error

    assert type(store_error(sqlite3.OperationalError("database or disk is full"), "f")) is StoreFull
    assert type(store_error(sqlite3.OperationalError("the disk is full, or so"), "f")) is StoreError

    # the fallback reads the class: a newer store whose sentence says nothing of "newer" is still not opened
    def too_new(home=None):
        raise StoreTooNew("version 99 of the store.")
    monkeypatch.setattr(store_mod, "open_store", too_new)
    store_mod.forget_stores()
    fallback = open_store_or_fallback()
    assert not fallback.read_only and fallback.home != private_store and "version 99" in fallback.notice


def test_run_statuses_are_one_vocabulary_that_the_sql_is_built_from():
    import inspect
    import typing

    from nnplay import store as store_mod

    assert runs_mod.ACTIVE is store_mod.ACTIVE and runs_mod.USABLE is store_mod.USABLE
    assert set(store_mod.ACTIVE) | set(store_mod.USABLE) < set(typing.get_args(store_mod.RunStatus))
    source = inspect.getsource(store_mod)
    assert "'queued'" not in source and "'paused'" not in source  # no status spelled out in the SQL
    assert "('queued'" not in inspect.getsource(runs_mod) and '("queued"' not in inspect.getsource(runs_mod)


@pytest.mark.slow
def test_a_config_that_cannot_be_read_is_shown_as_unreadable_not_as_the_defaults(tiny_data, capsys, tmp_path):
    from nnplay.cli import main
    from nnplay.export import no_model_reason, run_file
    from nnplay.export.formats import ExportError
    from nnplay.runs import data_label

    store = open_store()
    run = trained(store, tiny_data, "odd", epochs=1)
    # a stored config with a value this nnplay refuses (as an older or newer one may have written it)
    store.write(lambda db: db.execute("UPDATE runs SET model_cfg=? WHERE id=?",
                                      ('{"hidden": [16], "activation": "swish"}', run.id)))
    runs_mod.REGISTRY.clear()
    record = store.get(run.id)
    assert record.unreadable == ("model",) and "settings unreadable" in record.settings_note
    assert record.data_cfg.train_limit == 2000  # the readable parts stay
    reread = find_run(store, run.id)
    assert reread.unreadable == ("model",) and data_label(reread) == "settings unreadable"
    assert "settings unreadable" in no_model_reason(reread)
    with pytest.raises(ExportError, match="settings unreadable"):
        run_file(reread, "script")
    assert main(["runs", "list"]) == 0
    assert "settings unreadable" in capsys.readouterr().out
    assert main(["runs", "show", run.id]) == 0
    shown = __import__("json").loads(capsys.readouterr().out)
    assert "settings unreadable" in shown["config"] and "relu" not in str(shown)
    assert main(["export", run.id, "--format", "script", "--out", str(tmp_path / "t.py")]) == 2
    assert "settings unreadable" in capsys.readouterr().err and not (tmp_path / "t.py").exists()


def _version_2_store(home, runs_in: dict[str, int]) -> None:
    """A store as nnplay kept it before version 3 (no data source, no run numbers)."""
    from nnplay.store_file import _migrate_1_to_2

    db = sqlite3.connect(home / DB_NAME, isolation_level=None)
    db.executescript(SCHEMA_V1)
    _migrate_1_to_2(db)
    for workspace, n in runs_in.items():
        for i in range(n):
            db.execute("INSERT INTO runs (id, name, workspace, created, status, data_cfg, model_cfg, train_cfg) "
                       "VALUES (?, ?, ?, ?, 'finished', '{}', '{\"hidden\": [8]}', '{}')",
                       (f"{workspace}{i}", f"run {i + 1}", workspace, float(i)))
    db.execute("PRAGMA user_version=2")
    db.close()


@pytest.mark.slow
def test_the_data_source_is_kept_and_old_runs_show_unknown(private_store, tiny_data, capsys):
    import json

    from nnplay.cli import main
    from nnplay.runs import data_label

    _version_2_store(private_store, {"local": 1})
    store = open_store()
    assert store.schema_version == SCHEMA_VERSION and store.get("local0").data_source == ""
    run = trained(store, tiny_data, "on the sample", epochs=1)
    assert store.get(run.id).data_source == "sample"
    runs_mod.REGISTRY.clear()  # a restart: the runs come from the store
    assert data_label(find_run(store, run.id)) == "MNIST sample (2000/500)"
    assert data_label(find_run(store, "local0")) == "mnist (source unknown)"
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "MNIST sample" in next(line for line in lines if run.id in line)
    assert "mnist (source unknown)" in next(line for line in lines if "local0" in line)
    assert main(["runs", "show", run.id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["data_source"] == "sample" and shown["data"] == "MNIST sample"
    assert main(["runs", "show", "local0"]) == 0
    assert json.loads(capsys.readouterr().out)["data_source"] == "unknown"
    with pytest.raises(ValueError, match="data source"):
        store.create_run("x", DataConfig(), SMALL, TrainConfig(), data_source="mnist")


def test_runs_are_numbered_per_workspace_across_restarts(private_store):
    _version_2_store(private_store, {"local": 2, "other": 1})
    store = Store(private_store)
    assert [store.next_run_number("local") for _ in range(2)] == [3, 4]  # after the two it had trained
    assert store.next_run_number("other") == 2 and store.next_run_number("new") == 1
    store.close()
    again = Store(private_store)  # a restart goes on counting
    assert again.next_run_number("local") == 5
    again.close()
    read_only = Store(private_store, read_only=True)  # cannot write: counts in this process
    assert [read_only.next_run_number("local") for _ in range(2)] == [6, 7]


@pytest.mark.slow
def test_the_train_page_numbers_a_new_sessions_run_after_the_workspaces_last(private_store):
    import re

    from streamlit.testing.v1 import AppTest

    store = open_store()
    store.next_run_number("local")  # an earlier session (or server) started run 1
    at = AppTest.from_file(str(ROOT / "pages" / "train.py"), default_timeout=60).run()
    at.toggle(key="train_quick").set_value(True).run()
    at.text_input(key="train_train_limit").set_value("1000")
    at.text_input(key="train_test_limit").set_value("200")
    at.text_input(key="train_epochs").set_value("1").run()
    at.button(key="train_start").click().run()
    assert not at.exception
    (run,) = workspace_runs(store)
    run.wait(60)
    assert re.match(r"run 2 · ", run.name)
