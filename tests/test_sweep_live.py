"""A sweep from a plan, live: queued on the jobs backend (threads here) and kept in the store, found again after a
reload, continued after a restart with only what is missing, stopped keeping what finished, refused whole, and
hopeless runs stopped by successive halving with a sentence."""

import threading

import pytest

from nnplay import models, runs as runs_mod
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.store import forget_stores, open_store
from nnplay.sweeps import (LIVE, MAX_ACTIVE_SWEEPS, Axis, PlannedSweep, SweepPlan, estimate_seconds, load_sweep, measured_runs,
                           seed_values, start_sweep)
from nnplay.sweeps.halving import PREFIX

DATA = DataConfig(train_limit=300, test_limit=100)
TINY = ModelConfig(hidden=(8,))
QUICK = TrainConfig(epochs=1, batch_size=100, device="cpu")


@pytest.fixture(autouse=True)
def no_live_sweeps():
    LIVE.clear()
    yield
    for sweep in list(LIVE.values()):
        sweep.stop()
        sweep.wait(30)
    LIVE.clear()


@pytest.fixture
def data(tiny_data):
    return tiny_data.limited(300, 100)


def plan(*axes, **kw) -> SweepPlan:
    return SweepPlan(axes, kw.pop("data", DATA), kw.pop("model", TINY), kw.pop("train", QUICK), **kw)


@pytest.mark.slow
def test_a_sweep_trains_its_runs_keeps_them_and_a_reload_finds_it_live(data):
    store = open_store()
    p = plan(Axis.of_list("lr", "1e-3, 1e-2"), seeds=seed_values(2))
    sweep = start_sweep(p, store, "local", data, name="two rates")
    assert sweep.wait(120) and sweep.status == "finished"
    assert [r.name for r in sweep.runs] == ["lr=0.001 seed=0", "lr=0.001 seed=1", "lr=0.01 seed=0", "lr=0.01 seed=1"]
    assert all(r.status == "finished" and r.final()["test_accuracy"] is not None for r in sweep.runs)
    record = store.get_sweep(sweep.id)
    assert (record.name, record.planned, record.counts, record.status) == ("two rates", 4, {"finished": 4}, "finished")
    assert SweepPlan.from_json(record.plan) == p
    assert [r.id for r in store.sweep_runs(sweep.id)] == [r.id for r in sweep.runs]
    assert all(r.kind == "sweep" and r.group == sweep.id for r in store.sweep_runs(sweep.id))
    assert PlannedSweep.load(store, sweep.id) is sweep  # this process's live object, halving hook and all
    assert store.list_runs("local") == []  # out of the Train list
    # the time estimate from what was measured: about what the four runs took, over the workers
    seconds = estimate_seconds(p, measured_runs(store, "local"), 10_000, workers=2)
    took = sum(e.seconds + e.eval_seconds for r in sweep.runs for e in r.history.epochs)
    assert seconds == pytest.approx(took / 2, rel=1e-6)  # four alike runs: their mean time each, four times, over 2
    assert estimate_seconds(p, [], 10_000) is None


@pytest.mark.slow
def test_a_reload_finds_a_sweep_that_still_trains_with_its_live_runs(data):
    store = open_store()
    sweep = start_sweep(plan(Axis.of_list("lr", "1e-3, 1e-2"), train=TrainConfig(epochs=1000, batch_size=100,
                                                                                   device="cpu")), store, "local", data)
    LIVE.pop(sweep.id)  # as if started by another session of this server: only the runs are live here
    again = load_sweep(store, sweep.id)
    assert again is not sweep and again.active and again.status == "running"
    assert [r is s for r, s in zip(again.runs, sweep.runs)] == [True, True]  # the live Run objects
    again.stop()
    assert again.wait(60) and again.status == "stopped" and store.get_sweep(sweep.id).status == "stopped"
    assert all(r.status == "stopped" for r in sweep.runs)


@pytest.mark.slow
def test_stop_keeps_what_finished_and_continue_queues_the_rest(data):
    store = open_store()
    p = plan(Axis.of_list("epochs", "1, 1000"))
    sweep = start_sweep(p, store, "local", data)
    short, long = sweep.runs
    assert short.wait(60) and short.status == "finished"
    sweep.stop()
    assert sweep.wait(60) and (short.status, long.status) == ("finished", "stopped") and sweep.status == "stopped"
    assert store.get_sweep(sweep.id).stopped
    before = short.id
    sweep.continue_sweep(data)
    assert sweep.runs[0].id == before and sweep.runs[1].id != long.id and sweep.runs[1].active
    assert store.get(long.id) is None  # the stopped record was replaced by the new run
    assert not store.get_sweep(sweep.id).stopped and store.get_sweep(sweep.id).status == "running"
    with pytest.raises(ValueError, match="is still training"):
        sweep.continue_sweep(data)
    with pytest.raises(ValueError, match="stop it first, then delete it"):
        sweep.delete()
    sweep.stop()
    sweep.wait(60)
    ids = [r.id for r in sweep.runs]
    sweep.delete()
    assert store.get_sweep(sweep.id) is None and all(store.get(i) is None for i in ids)
    assert sweep.id not in LIVE and not set(ids) & set(runs_mod.REGISTRY)


@pytest.mark.slow
def test_after_a_restart_unfinished_runs_are_interrupted_and_continue_queues_only_them(data):
    store = open_store()
    sweep = start_sweep(plan(Axis.of_list("lr", "1e-3, 3e-3, 1e-2, 3e-2")), store, "local", data)
    assert sweep.wait(120)
    ids = [r.id for r in sweep.runs]
    # the process died while the first two trained: their records say running, their owner is gone
    store.write(lambda db: db.executemany("UPDATE runs SET status='running', owner_pid=? WHERE id=?",
                                          [(2**22 + 4321, i) for i in ids[:2]]))
    LIVE.clear()
    runs_mod.REGISTRY.clear()
    forget_stores()
    store = open_store()  # the next start marks them interrupted
    restored = PlannedSweep.load(store, sweep.id)
    assert [r.status for r in restored.runs] == ["interrupted", "interrupted", "finished", "finished"]
    assert restored.status == "interrupted" and store.get_sweep(sweep.id).status == "interrupted"
    assert [p.name for p in restored.missing] == ["lr=0.001", "lr=0.003"]
    restored.continue_sweep(data)
    assert restored.wait(120) and restored.status == "finished"
    now = [r.id for r in restored.runs]
    assert now[2:] == ids[2:] and not set(now[:2]) & set(ids)  # only the missing ones trained again
    assert [r.name for r in restored.runs] == ["lr=0.001", "lr=0.003", "lr=0.01", "lr=0.03"]
    assert store.get_sweep(sweep.id).counts == {"finished": 4} and len(store.sweep_runs(sweep.id)) == 4
    with pytest.raises(ValueError, match="nothing to continue"):
        restored.continue_sweep(data)
    LIVE.clear()  # read back once more: in the plan's order, though the first two were made after the others
    assert [r.id for r in PlannedSweep.load(store, sweep.id).runs] == now


@pytest.mark.parametrize("make, sentence", [
    (lambda: plan(Axis.of_range("lr", 1e-5, 1, 100), Axis.of_range("width", 100, 8000, 100)),
     "This sweep would be 10,000 runs"),
    (lambda: plan(Axis.of_list("lr", "")), "Learning rate: no values given"),
    (lambda: plan(Axis.of_list("lr", "1e-3, 0")), "Learning rate: 0 is not above 0."),
    (lambda: plan(Axis.of_range("lr", 0.1, 0.001, 3)), "Learning rate: the range's ends are swapped"),
])
def test_bad_input_is_a_sentence_and_nothing_is_queued(make, sentence):
    with pytest.raises(ValueError) as err:
        start_sweep(make(), open_store(), "local")
    assert str(err.value).startswith(sentence)
    assert open_store().list_sweeps("local") == [] and open_store().list_runs("local", kinds=None) == []


def test_a_refused_start_queues_nothing(data, monkeypatch):
    store = open_store()
    with pytest.raises(ValueError, match=r"Batch size: 500 \(run bs=500\) is larger than the training set \(300"):
        start_sweep(plan(Axis.of_list("batch_size", "100, 500")), store, "local", data)
    with pytest.raises(ValueError, match="The run kind=cnn cannot train"):
        start_sweep(plan(Axis.of_list("family", "mlp, cnn"), model=ModelConfig(hidden=(8,), channels=(4,) * 8)),
                    store, "local", data)
    monkeypatch.setattr(models, "available_memory", lambda device="cpu": (4 * 2**20, "available RAM"))
    with pytest.raises(ValueError) as err:
        start_sweep(plan(Axis.of_list("width", "8, 4096")), store, "local", data)
    assert str(err.value).startswith("The largest run of this sweep (width=4096) cannot train here: This network "
                                     "needs about")
    assert store.list_sweeps("local") == [] and store.list_runs("local", kinds=None) == []
    assert not runs_mod.REGISTRY


@pytest.mark.slow
def test_fifty_sweeps_started_at_once_by_one_workspace(data):
    """Only MAX_ACTIVE_SWEEPS start; each of the others gets the sentence and queues nothing."""
    store = open_store()
    long = plan(Axis.of_list("lr", "1e-3"), train=TrainConfig(epochs=1000, batch_size=100, device="cpu"))
    started, refused = [], []

    def start(i):
        try:
            started.append(start_sweep(long, store, "local", data, name=f"sweep {i}"))
        except ValueError as err:
            refused.append(str(err))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(started) == MAX_ACTIVE_SWEEPS and len(refused) == 50 - MAX_ACTIVE_SWEEPS
    assert all(f"This workspace already has {MAX_ACTIVE_SWEEPS} sweeps training" in s for s in refused)
    assert len(store.list_sweeps("local")) == MAX_ACTIVE_SWEEPS
    assert len(store.list_runs("local", kinds=None)) == MAX_ACTIVE_SWEEPS
    # another workspace is not held back
    other = start_sweep(long, store, "class-1", data)
    assert other.active
    for sweep in started + [other]:
        sweep.stop()
    for sweep in started + [other]:
        sweep.wait(60)
    start_sweep(long, store, "local", data).stop()  # once they ended, the workspace may start again


@pytest.mark.slow
def test_successive_halving_stops_hopeless_runs_with_the_reason_and_keeps_their_curves(data, paced_runs):
    """Six runs with learning rates from hopeless to good, 9 epochs, η=3: at epoch 1 (and 3) the runs below the
    top third of those that reached it stop, say why, and keep their curve; the best ones finish."""
    store = open_store()
    # the good rates first: a hopeless run then meets them at its rung however the runs are scheduled (listed
    # worst first and run one after another, each run beat the ones before it and none was stopped)
    p = plan(Axis.of_list("lr", "1e-2, 2e-2, 3e-2, 1e-5, 2e-5, 5e-5"),
             train=TrainConfig(epochs=9, batch_size=10, device="cpu"), halving=True)  # paced: a stop lands in it
    sweep = start_sweep(p, store, "local", data)
    assert sweep.wait(180)
    halted = [r for r in sweep.runs if r.status == "stopped"]
    assert halted and any(r.status == "finished" for r in sweep.runs)
    for run in halted:
        assert run.message.startswith(PREFIX + ": at epoch ") and "of the" in run.message
        assert "its curve and its model so far are kept" in run.message
        assert run.history.epochs and store.history(run.id).epochs  # the curve stays
        assert store.get(run.id).message == run.message
    assert sweep.status == "finished"  # halting is how the sweep works, not a Stop
    with pytest.raises(ValueError, match="nothing to continue"):
        sweep.continue_sweep(data)  # the halted runs ended for good
    assert not plan(Axis.of_list("lr", "1e-3")).halving  # off by default


@pytest.mark.slow
def test_a_killed_cli_sweep_is_interrupted_and_the_app_continues_only_what_is_missing(private_store, tmp_path, data):
    """``python -m nnplay sweep`` killed while two of its four runs train: the next process reads the sweep back,
    its two finished runs kept, the two others interrupted; continuing queues those two only."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NNPLAY_HOME": str(private_store), "NNPLAY_WORKERS": "0", "PYTHONPATH": str(root),
           "NNPLAY_DATA_DIR": str(tmp_path / "no-data")}
    cli = subprocess.Popen([sys.executable, "-m", "nnplay", "sweep", "--epochs", "1,1000", "--lr", "1e-3,1e-2",
                            "--train-limit", "300", "--test-limit", "100", "--hidden", "8", "--batch-size", "100",
                            "--device", "cpu", "--download", "false", "--quiet"],
                           env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [cli.stdout.readline(), cli.stdout.readline()]  # the two one-epoch runs ended
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(30)
    finally:
        if cli.poll() is None:
            cli.kill()
    import json

    finished = {json.loads(line)["run"] for line in lines}
    sweep_id = json.loads(lines[0])["sweep"]
    forget_stores()
    store = open_store()
    sweep = PlannedSweep.load(store, sweep_id)
    assert {r.id for r in sweep.runs if r.status == "finished"} == finished
    assert [r.status for r in sweep.runs].count("interrupted") == 2 and sweep.status == "interrupted"
    assert [p.name for p in sweep.missing] == ["lr=0.001 epochs=1000", "lr=0.01 epochs=1000"]
    sweep.continue_sweep(data)
    assert {r.id for r in sweep.runs if r.status == "finished"} == finished
    assert [r.active for r in sweep.runs].count(True) == 2 and len(store.sweep_runs(sweep_id)) == 4
    sweep.stop()
    assert sweep.wait(60) and sweep.status == "stopped"


@pytest.mark.pool
def test_a_sweep_with_halving_on_the_local_pool(tmp_path):
    """The runs queue on the pool's two workers like any run; the halving hook gets their epochs from the workers
    and stops the hopeless ones there."""
    from nnplay.jobs.local import LocalPool

    sample = DataConfig(data_dir=str(tmp_path / "no-data"), download=False, train_limit=300, test_limit=100)
    pool = LocalPool(workers=2, threads=1, preload=sample, max_run_minutes=0, memory_mb=0)
    try:
        assert pool.wait_ready(180), "the workers did not start"
        # the good rates first: the first two runs take the two workers, and the first runs at a rung always go on
        p = plan(Axis.of_list("lr", "1e-2, 2e-2, 1e-5, 2e-5"), data=sample,
                 train=TrainConfig(epochs=9, batch_size=10, device="cpu"), halving=True)
        sweep = start_sweep(p, open_store(), "local", backend=pool)
        for run in sweep.runs:
            run.set_rate(100)  # paced (as the paced_runs fixture paces a thread's run): a stop lands in the run
        assert all(r.job is not None and r.job._backend is pool for r in sweep.runs)
        assert sweep.wait(240)
        statuses = [r.status for r in sweep.runs]
        # which good rate reaches epoch 1 first is a race: the better of the two goes on whatever the order
        better = max(sweep.runs[:2], key=lambda r: r.history.epochs[0].test_accuracy)
        assert better.status == "finished" and "stopped" in statuses[2:], [r.message for r in sweep.runs]
        assert all(r.message.startswith(PREFIX) for r in sweep.runs if r.status == "stopped")
        assert open_store().get_sweep(sweep.id).status == "finished"
    finally:
        pool.close(timeout=10)


def test_a_backend_that_cannot_be_made_queues_nothing(data, monkeypatch):
    from nnplay import jobs

    def unreachable():
        raise RuntimeError("The Ray cluster at 10.0.0.9:6379 could not be reached.")

    monkeypatch.setattr(jobs, "backend", unreachable)
    with pytest.raises(ValueError, match="The sweep cannot be queued: The Ray cluster at 10.0.0.9:6379 could not be "
                                         "reached. Nothing was queued."):
        start_sweep(plan(Axis.of_list("lr", "1e-3, 1e-2")), open_store(), "local", data)
    assert open_store().list_sweeps("local") == [] and open_store().list_runs("local", kinds=None) == []
