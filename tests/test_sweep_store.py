"""The run store's sweeps table (schema version 4): records, their runs by group, counts and status, the migration."""

import sqlite3

import pytest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.store import DB_NAME, SCHEMA_VERSION, RunStillActive, Store, open_store
from nnplay.store_file import MIGRATIONS, SCHEMA_V1

SMALL = ModelConfig(hidden=(8,))


def test_a_sweep_is_a_record_and_its_runs_are_its_group(private_store):
    store = open_store()
    sid = store.create_sweep("lr sweep", '{"axes": []}', "local", planned=3)
    other = store.create_sweep("elsewhere", "{}", "class-1")
    ids = [store.create_run(f"lr={lr}", DataConfig(), SMALL, TrainConfig(lr=lr), kind="sweep", group=sid)
           for lr in (1e-3, 1e-2, 1e-1)]
    store.create_run("a train run", DataConfig(), SMALL, TrainConfig())
    store.set_status(ids[0], "finished")
    store.set_status(ids[1], "stopped")
    record = store.get_sweep(sid)
    assert (record.name, record.workspace, record.plan, record.planned, record.stopped) == \
        ("lr sweep", "local", '{"axes": []}', 3, False)
    assert record.counts == {"finished": 1, "stopped": 1, "queued": 1} and record.runs == 3
    assert record.active and record.status == "running"
    assert [r.id for r in store.sweep_runs(sid)] == ids
    assert [s.id for s in store.list_sweeps("local")] == [sid] and [s.id for s in store.list_sweeps("class-1")] == [other]
    assert store.get_sweep(other).status == "empty" and store.get_sweep("nope") is None
    # the sweep's runs stay out of the Train list, as every sweep run does
    assert [r.name for r in store.list_runs("local")] == ["a train run"]
    with pytest.raises(RunStillActive, match="stop it first"):
        store.delete_sweep(sid)
    store.set_status(ids[2], "finished")
    store.set_sweep_stopped(sid, True)
    assert store.get_sweep(sid).status == "stopped" and not store.get_sweep(sid).active
    store.set_sweep_stopped(sid, False)
    assert store.get_sweep(sid).status == "finished"
    store.delete_sweep(sid)
    assert store.get_sweep(sid) is None and all(store.get(i) is None for i in ids)
    with pytest.raises(ValueError, match="a sweep needs a name"):
        store.create_sweep("  ", "{}", "local")


def test_a_dead_process_leaves_its_sweep_interrupted(private_store):
    store = open_store()
    sid = store.create_sweep("s", "{}", "local")
    run_id = store.create_run("r", DataConfig(), SMALL, TrainConfig(), kind="sweep", group=sid, status="running")
    store.write(lambda db: db.execute("UPDATE runs SET owner_pid=? WHERE id=?", (2**22 + 12345, run_id)))
    record = store.get_sweep(sid)
    assert record.status == "interrupted" and store.get(run_id).status == "interrupted"


def test_the_migration_from_version_3_adds_the_sweeps_table(private_store):
    db = sqlite3.connect(private_store / DB_NAME)
    db.executescript(SCHEMA_V1)
    for version in (1, 2):
        MIGRATIONS[version](db)
    db.execute("INSERT INTO runs (id, name, workspace, created, status, data_cfg, model_cfg, train_cfg, kind, grp) "
               "VALUES ('old1', 'an experiment run', 'local', 1.0, 'finished', '{}', '{}', '{}', 'sweep', "
               "'experiments/lr/quick')")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = Store(private_store)
    assert store.schema_version == SCHEMA_VERSION == 5
    assert store.list_sweeps("local") == []  # the experiments' groups are no sweeps of the table
    assert store.latest_group("local", "experiments/lr/") == "experiments/lr/quick"
    sid = store.create_sweep("new", "{}", "local")
    assert store.get_sweep(sid).name == "new"


def test_measured_epochs_are_the_finished_runs_times(private_store, tiny_data):
    from nnplay.runs import Run

    store = open_store()
    run = Run("timed", DataConfig(train_limit=300, test_limit=100), SMALL,
              TrainConfig(epochs=2, batch_size=100, device="cpu")).bind(store)
    run.start(tiny_data.limited(300, 100)).wait(60)
    assert run.status == "finished"
    (record, seconds, epochs, train_size), = store.measured_epochs("local")
    assert record.id == run.id and epochs == 2 and train_size == 300
    assert seconds == pytest.approx(sum(e.seconds + e.eval_seconds for e in run.history.epochs))
    assert store.measured_epochs("class-1") == []


def test_the_migration_from_version_4_adds_digits_learners_assignments_and_parents(private_store):
    db = sqlite3.connect(private_store / DB_NAME)
    db.executescript(SCHEMA_V1)
    for version in (1, 2, 3):
        MIGRATIONS[version](db)
    db.execute("INSERT INTO runs (id, name, workspace, created, status, data_cfg, model_cfg, train_cfg) "
               "VALUES ('old1', 'a run', 'local', 1.0, 'finished', '{}', '{}', '{}')")
    db.execute("PRAGMA user_version=4")
    db.commit()
    db.close()
    store = Store(private_store)
    assert store.schema_version == SCHEMA_VERSION == 5
    assert store._read("SELECT parent FROM runs WHERE id='old1'") == [("",)]
    for table in ("digits", "learners", "assignments"):
        assert store._read(f"SELECT count(*) FROM {table}") == [(0,)]
