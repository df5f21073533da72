"""Runs trained through the jobs backend (``Run.start`` with ``NNPLAY_WORKERS`` ≥ 1): the app's default path.

What lives here: a ``Run`` bound to the store trained in a local pool worker (curves, checkpoints and
status in the store, a model that loads), the Train page's Start doing the same, a worker killed with
``kill -9`` ending its run "error: …" with its curves while this process goes on, a ``Sweep``
through the pool, the "queued, position N of M" text, step mode and live weights reaching a worker,
a calm live view for a busy run on a worker that takes every core, and no worker left behind when the app's process exits. One pool of 1 worker serves the module (its
workers are warm after the first run). What does not: the pool on its own (tests/test_jobs.py), the
thread backend (tests/test_runs.py, which the rest of the suite uses with ``NNPLAY_WORKERS=0``).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from streamlit.testing.v1 import AppTest

import nnplay.jobs as jobs
from nnplay import runs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.devtools import wait_until
from nnplay.figures.train import live_view_content
from nnplay.jobs.local import LocalJob, LocalPool
from nnplay.runs import Run, Sweep, find_run, progress_text, status_text, workspace_runs
from nnplay.store import open_store

from .conftest import ROOT

pytestmark = pytest.mark.pool  # every test here starts a pool worker (the module's pool, or its own)

SAMPLE = DataConfig(data_dir=str(ROOT / "tests" / "no-such-data-dir"), download=False)
TINY = DataConfig(data_dir=SAMPLE.data_dir, download=False, train_limit=1000, test_limit=200)
PAGE = str(ROOT / "pages" / "train.py")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def pool():
    """The process's backend for this module: a local pool of 1 worker, warm on the built-in sample."""
    saved = jobs._backend
    p = LocalPool(workers=1, threads=1, preload=SAMPLE, max_run_minutes=0, memory_mb=0)
    jobs._backend = p
    assert p.wait_ready(180), "the worker did not start"
    yield p
    jobs._backend = saved
    p.close(timeout=10)


@pytest.fixture
def workers(pool, monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKERS", "1")
    yield pool
    for run in list(runs.REGISTRY.values()):  # nothing of this test trains on into the next
        run.stop()
        run.wait(30)


def tiny_run(name="r", epochs=1, data=TINY, **train) -> Run:
    cfg = {"epochs": epochs, "batch_size": 100, "log_every": 5, **train}
    return Run(name, data, ModelConfig(hidden=(32,)), TrainConfig(**cfg))


def long_run(name="long", workspace="local", log_every=5) -> Run:
    return tiny_run(name, epochs=1000, log_every=log_every).bind(open_store(), workspace)


def test_a_run_trains_in_a_worker_and_is_kept_in_the_store(workers, tiny_data):
    run = tiny_run(epochs=2).bind(open_store())
    run.start(tiny_data)
    assert isinstance(run.job, LocalJob), "with NNPLAY_WORKERS=1 the run goes to the pool"
    assert run.wait(120), "the run did not end"
    assert run.status == "finished", run.message
    assert [e.epoch for e in run.history.epochs] == [1, 2] and len(run.history.steps) == 20
    # its checkpoints are in its folder, and nothing in the app holds their bytes any more: not its job, not the
    # pool's reader waiting for the worker's next message (a big run's model stayed in memory per run)
    import gc

    from nnplay.jobs import Checkpoint

    assert run.job.last_checkpoint is None
    # type(), not isinstance(): a weak proxy among the objects (multiprocessing keeps some) may point at nothing
    wait_until(lambda: not [o for o in gc.get_objects() if type(o) is Checkpoint], 10,
               "the ended run's checkpoints to be let go")
    # a fresh look at the store (as after a reload or a restart) finds it all
    runs.REGISTRY.clear()
    runs.MODELS.clear()
    stored = find_run(open_store(), run.id)
    assert stored.status == "finished" and len(stored.history.steps) == 20
    assert [round(e.test_accuracy, 6) for e in stored.history.epochs] == [round(e.test_accuracy, 6)
                                                                         for e in run.history.epochs]
    assert open_store().checkpoint_path(run.id).name == "final.pt"
    model = stored.model
    assert model is not None and sum(p.numel() for p in model.parameters()) == 784 * 32 + 32 + 32 * 10 + 10
    assert stored.progress()["step"] == 20


def test_the_train_page_trains_in_a_worker(workers):
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    app.toggle(key="train_quick").set_value(True).run()
    app.text_input(key="train_train_limit").set_value("1000")
    app.text_input(key="train_test_limit").set_value("200")
    app.text_input(key="train_epochs").set_value("20")  # still training when the page is drawn: a warm worker is quick
    app.run()
    app.button(key="train_start").click().run()
    assert not app.exception
    [run] = workspace_runs(open_store())
    assert run.job is not None, "the page's run trains in the pool"
    views = [json.loads(c.proto.json) for c in app.get("bidi_component") if c.proto.component_name == "nnplay.live_run"]
    assert [bool(v.get("url")) for v in views] == [True], "the live view polls the run's feed while it trains"
    assert run.wait(180) and run.status == "finished", run.message
    app.run()
    assert not app.exception
    runs.REGISTRY.clear()
    runs.MODELS.clear()
    stored = find_run(open_store(), run.id)
    assert stored.status == "finished" and stored.history.epochs and stored.history.steps
    assert stored.model is not None


def test_a_killed_worker_ends_its_run_as_an_error_with_its_curves(workers, tiny_data):
    run = long_run()
    run.start(tiny_data)
    wait_until(lambda: len(run.history.epochs) >= 1, 120, "the run to finish an epoch")
    [pid] = workers.worker_pids()
    os.kill(pid, signal.SIGKILL)
    assert run.wait(30), "the run did not end after its worker was killed"
    assert run.status == "error" and "killed by SIGKILL" in run.message
    assert status_text(run) == "error"
    stored = open_store().get(run.id)
    assert stored.status == "error" and stored.last_step >= 10
    runs.REGISTRY.clear()
    runs.MODELS.clear()
    again = find_run(open_store(), run.id)
    assert len(again.history.steps) >= 10 and again.history.epochs, "its curves so far are kept"
    assert open_store().checkpoint_path(run.id).name == "epoch.pt" and again.model is not None
    # this process and the pool go on: the next run trains in the new worker
    assert workers.wait_ready(120)
    nxt = tiny_run("after").bind(open_store())
    nxt.start(tiny_data)
    assert nxt.wait(120) and nxt.status == "finished", nxt.message


def test_a_sweep_goes_through_the_pool(workers, tiny_data):
    sweep_runs = [tiny_run(f"s{i}", lr=lr) for i, lr in enumerate((0.1, 0.01, 0.001))]
    sweep = Sweep("study", sweep_runs, tiny_data, store=open_store()).start()
    assert all(r.job is not None for r in sweep_runs)
    assert sweep.wait(240) and not sweep.active
    assert [r.status for r in sweep_runs] == ["finished"] * 3
    stored = [open_store().get(r.id) for r in sweep_runs]
    assert {s.kind for s in stored} == {"sweep"} and all(s.last_step == 10 for s in stored)
    # different learning rates, different curves: each run trained its own config
    assert len({r.history.steps[-1].loss for r in sweep_runs}) == 3


def test_a_queued_run_says_where_it_waits_and_step_mode_reaches_the_worker(workers, tiny_data, monkeypatch):
    from nnplay.jobs import local

    monkeypatch.setattr(local, "machine_cores", lambda: 1)  # this pool's 1 worker of 1 thread takes every core
    first = long_run("first", log_every=1)  # the engine reports steps per burst: 1 step a burst here
    first.start(tiny_data)
    wait_until(lambda: first.status == "running" and first.history.steps, 120, "the first run to train")
    waiting = long_run("second", workspace="another")
    waiting.start(tiny_data)
    assert status_text(waiting) == "queued, position 1 of 1: all 1 worker is busy"
    assert progress_text(waiting) == status_text(waiting)
    assert waiting.calm and live_view_content(waiting, {})["calm"] is True  # it waits on a full machine

    # step mode on the running one: pause, then exactly 3 more steps, with their weights
    first.pause()
    assert not waiting.calm  # the paused run leaves its core
    wait_until(lambda: _steady(first), 30, "the first run to pause on a step")
    before = first.history.steps[-1].step
    assert first.watch_model() is not None  # asks the worker for live weights
    first.step(3)
    wait_until(lambda: first.history.steps[-1].step == before + 3, 30, "the three steps asked for")
    time.sleep(0.5)
    assert first.history.steps[-1].step == before + 3, "step(3) lets exactly 3 steps through"
    wait_until(lambda: first._weights is not None and first._weights.step == before + 3, 30,
               "the weights after the three steps")
    live = first.watch_model()
    from nnplay.checkpoint import load_checkpoint

    expected = load_checkpoint(first._weights.data)[0].state_dict()
    assert all((live.state_dict()[k] == v).all() for k, v in expected.items())
    first.set_rate(50.0)
    first.resume()
    wait_until(lambda: first.history.steps[-1].step > before + 10, 30, "steps after resume")
    first.stop()
    assert first.wait(30) and first.status == "stopped"
    # the queued run now trains
    wait_until(lambda: waiting.status == "running", 60, "the waiting run to start")
    waiting.stop()
    assert waiting.wait(30) and waiting.status == "stopped"


def _steady(run: Run) -> bool:
    """Paused and no new step for half a second."""
    last = run.history.steps[-1].step
    time.sleep(0.5)
    return run.history.steps[-1].step == last


def test_no_worker_outlives_the_app_process(tmp_path):
    """The app's process (a run training in its pool) gets Ctrl-C: it exits and takes its workers along."""
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        os.environ["NNPLAY_WORKERS"] = "1"
        from nnplay import jobs
        from nnplay.config import DataConfig, ModelConfig, TrainConfig
        from nnplay.runs import Run
        if __name__ == "__main__":
            data = DataConfig(data_dir={SAMPLE.data_dir!r}, download=False, train_limit=1000, test_limit=200)
            run = Run("r", data, ModelConfig(hidden=(32,)), TrainConfig(epochs=1000, batch_size=100)).start(None)
            while run.status != "running":
                time.sleep(0.1)
            print(*jobs.backend().worker_pids(), flush=True)
            time.sleep(600)
    """)
    path = tmp_path / "app.py"
    path.write_text(script)
    env = {**os.environ, "NNPLAY_HOME": str(tmp_path / "home")}
    owner = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert pids and all(alive(p) for p in pids)
        owner.send_signal(signal.SIGINT)  # what Ctrl-C on `streamlit run` sends
        owner.wait(30)
        wait_until(lambda: not any(alive(p) for p in pids), 15, "the workers to end with the app's process")
    finally:
        owner.kill()


def test_the_lr_range_test_runs_in_a_worker_and_matches_one_run_here(workers):
    from nnplay.data import load_mnist
    from nnplay.lessons.experiments import lr_range_test
    from nnplay.runs import call_in_worker

    data = DataConfig(data_dir=SAMPLE.data_dir, download=False, train_limit=2000)
    model = ModelConfig(hidden=(32,))
    there = call_in_worker("nnplay.lessons.experiments:lr_range_test", data, model_cfg=model, steps=30)
    here = lr_range_test(model, load_mnist(data), steps=30)
    assert there.lrs == here.lrs and there.losses == pytest.approx(here.losses, rel=1e-4)
    assert there.suggested_lr == pytest.approx(here.suggested_lr)
    with pytest.raises(ValueError, match="5 to 2,000 steps"):  # bad input: the same sentence as here
        call_in_worker("nnplay.lessons.experiments:lr_range_test", data, model_cfg=model, steps=3)
    with pytest.raises(ValueError, match="nnplay.module:function"):
        call_in_worker("os:system", data, command="true")


def test_a_run_gets_a_calm_live_view_while_training_takes_every_core(workers, tiny_data, monkeypatch):
    """Busy while the runs training take every core (here: this pool's 1 worker of 1 thread on 1 core): the
    view polls once a second (ui.live)."""
    from nnplay.jobs import local

    run = long_run("calm")
    run.start(tiny_data)
    try:
        wait_until(lambda: run.history.steps, 120, "the run's first steps")
        monkeypatch.setattr(local, "machine_cores", lambda: 2)
        content = live_view_content(run, {})
        assert content["busy"] is True and content["calm"] is False  # a core is left
        monkeypatch.setattr(local, "machine_cores", lambda: 1)
        assert run.calm and live_view_content(run, {})["calm"] is True
        run.pause()
        assert live_view_content(run, {})["calm"] is False  # paused: every change is worth showing at once
        run.resume()
        assert live_view_content(run, {})["calm"] is True
        run.set_rate(5.0)
        assert live_view_content(run, {})["calm"] is False
    finally:
        run.stop()
        run.wait(60)
    assert live_view_content(run, {})["calm"] is False
