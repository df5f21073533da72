"""Tests for what ``nnplay.runs`` says about a run: names, progress and ETA text, table rows, refusals.

What lives here: the ETA and samples/s count training time only (a pause changes neither) and
are "…" until the steps after the first burst were timed, checked with a stand-in clock and the
engine's own events; run names told apart by their start time; one table-row function for every
runs table ("MNIST sample" for the built-in sample); the refusals before Start (batch larger than
the data, too little memory); a real run's progress; a process that exits mid-run stops its thread run
first (recorded "stopped", no abort). What does not live here: the training loop
(test_engine.py), the page (test_page_train.py).
"""

from __future__ import annotations

import re

import pytest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import EpochMetrics, RunStart, StepEvent
from nnplay.runs import (RUN_COLUMNS, Run, format_duration, progress_text, run_name, run_rows, start_refusals,
                         status_text, status_word)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timed_run(monkeypatch):
    """A run fed the engine's events by hand: 10 epochs of 100 steps of 10 images, bursts of 10 steps."""
    clock = Clock()
    monkeypatch.setattr(Run, "clock", staticmethod(clock))
    run = Run("r", DataConfig(), ModelConfig(), TrainConfig(epochs=10, log_every=10))
    run.status = "running"
    run._started_clock = clock()
    run.record(RunStart(10, 100, 1000, 100, 7850, "CPU (2 threads)"))
    return run, clock


def burst(run: Run, clock: Clock, seconds: float, steps: int = 10) -> None:
    clock.now += seconds
    last = run.history.steps[-1].step if run.history.steps else 0
    for step in range(last + 1, last + steps + 1):
        run.record(StepEvent(step, 1 + (step - 1) // 100, 0.5, 0.001))


def test_no_eta_until_the_steps_after_the_first_burst_are_timed(timed_run):
    run, clock = timed_run
    assert progress_text(run).startswith("epoch 0/10 · step 0/1,000 · ETA … · … samples/s")
    burst(run, clock, 30.0)  # the first burst: start-up (CUDA, caches) makes it slow, it is not measured
    p = run.progress()
    assert p["eta_s"] is None and p["samples_per_s"] is None
    assert "ETA …" in progress_text(run)
    burst(run, clock, 1.0)  # 10 steps in 1 s of training: 100 images/s, 980 steps left → 98 s
    p = run.progress()
    assert p["samples_per_s"] == pytest.approx(100.0) and p["eta_s"] == pytest.approx(98.0)
    assert "ETA 1 min 38 s · 100 samples/s" in progress_text(run)


def test_no_rate_or_eta_from_bursts_that_arrived_together(timed_run):
    """Events come in batches: bursts that arrive in one batch are a few microseconds apart, and a rate over them
    said "ETA 0.0 s · 123,707,134 samples/s" at step 20. No rate or ETA until measured over a real interval."""
    run, clock = timed_run
    burst(run, clock, 5.0)
    burst(run, clock, 0.00001)  # the second burst in the same batch as the first
    burst(run, clock, 0.00001)
    p = run.progress()
    assert p["samples_per_s"] is None and p["eta_s"] is None
    assert "ETA … · … samples/s" in progress_text(run)
    burst(run, clock, 1.0)  # a real interval: 30 steps since the first burst in ~1 s
    assert run.progress()["samples_per_s"] == pytest.approx(300.0, rel=1e-3)


def test_tables_show_no_none(tiny_data):
    """A queued run has no accuracies and a loaded one no training time: the table shows an empty cell, the
    CSV an empty field, never the word None."""
    import pandas as pd

    from nnplay.engine import seeded_model
    from nnplay.runs import loaded_run, rows_csv

    queued = Run("q", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig())
    loaded = loaded_run("l", seeded_model(ModelConfig(hidden=(16,)), 0), ModelConfig(hidden=(16,)))
    rows = run_rows([queued, loaded], list(RUN_COLUMNS))
    assert not [(r["run"], k) for r in rows for k, v in r.items() if v is None]
    assert "None" not in pd.DataFrame(rows).to_string() and "None" not in rows_csv(rows, list(RUN_COLUMNS))
    assert "nan" not in rows_csv(rows, list(RUN_COLUMNS)).lower()
    assert pd.isna(rows[0]["test accuracy"]) and pd.isna(rows[1]["train seconds"])


def test_a_pause_stops_the_eta_and_the_rate(timed_run):
    run, clock = timed_run
    burst(run, clock, 5.0)
    burst(run, clock, 1.0)
    before = run.progress()
    run.pause()
    clock.now += 600.0  # ten minutes paused
    assert run.progress() == before
    assert run.training_seconds() == pytest.approx(6.0)
    run.resume()
    assert run.paused_seconds == pytest.approx(600.0)
    burst(run, clock, 1.0)  # the same pace after the pause: the same rate, the pause left out
    assert run.progress()["samples_per_s"] == pytest.approx(100.0)
    assert run.progress()["eta_s"] == pytest.approx(97.0)
    # after an epoch, its own measured rate (training time, without evaluation) is shown
    run.record(EpochMetrics(1, 0.5, 0.9, 0.4, 0.92, 10.0, 0.5, 123.0, 100, 0.001, "CPU"))
    assert run.progress()["samples_per_s"] == 123.0


def test_progress_of_a_real_run(tiny_data):
    run = Run("real", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=100, log_every=2))
    run.start(tiny_data).wait()
    assert run.status == "finished" and run.data_source == "sample"
    p = run.progress()
    assert p["step"] == p["total"] == 20 and p["fraction"] == 1.0 and p["samples_per_s"] > 0
    assert p["eta_s"] is None  # not active: no ETA
    assert progress_text(run).startswith("epoch 1/1 · step 20/20 · ") and "ETA" not in progress_text(run)


def test_run_names_are_told_apart_by_time():
    cfg = ModelConfig(hidden=(256,))
    name = run_name(cfg, 1, when=0.0)
    assert re.fullmatch(r"run 1 · \d\d:\d\d:\d\d · MLP 784-256-10 relu", name)
    assert run_name(cfg, 1, when=0.0) != run_name(cfg, 1, when=3.0)  # two sessions' first runs


def test_run_rows_one_function_for_every_table(tiny_data):
    run = Run("r", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=1, batch_size=100))
    run.start(tiny_data).wait()
    (row,) = run_rows([run], ["run", "status", "data", "epochs of", "test accuracy", "train seconds"])
    assert row["run"] == "r" and row["status"] == "finished" and row["epochs of"] == "1/1"
    assert row["data"] == "MNIST sample (2000/500)"  # the built-in sample says so, not "mnist"
    assert row["test accuracy"] == run.final()["test_accuracy"]
    assert row["train seconds"] == round(run.final()["seconds"], 2)
    (renamed,) = run_rows([run], {"test acc": "test accuracy"})
    assert renamed == {"test acc": run.final()["test_accuracy"]}
    assert set(RUN_COLUMNS) >= {"model", "optimizer", "lr", "wall seconds", "train loss"}
    run.data_source = "full"
    assert run_rows([run], ["data"])[0]["data"] == "mnist (2000/500)"


def test_status_and_duration_text():
    from nnplay.jobs import QueuePosition

    run = Run("r", DataConfig(), ModelConfig(), TrainConfig())
    assert status_text(run) == status_word(run) == "queued"

    class Taken:  # a worker has the run; its first events are not here yet
        def position(self):
            return None

    class Waiting:
        def position(self):
            return QueuePosition(1, 2, "all 2 workers are busy")

    run.job = Taken()
    assert status_word(run) == status_text(run) == "starting"  # not "queued" in the sidebar while it trains
    run.job = Waiting()
    assert status_word(run) == "queued" and status_text(run) == "queued, position 1 of 2: all 2 workers are busy"
    assert format_duration(None) == "…" and format_duration(35.4) == "35 s" and format_duration(455) == "7 min 35 s"
    # a short run is not "0 s"
    assert format_duration(0.24) == "0.2 s" and format_duration(9.4) == "9.4 s" and format_duration(9.96) == "10 s"


def test_start_refusals():
    small, big = ModelConfig(hidden=(32,)), ModelConfig(hidden=(8192,) * 4)
    assert start_refusals(small, TrainConfig(), 60000, memory_limit=(10**9, "available RAM")) == {}
    refused = start_refusals(small, TrainConfig(batch_size=600), 500, memory_limit=(10**9, "available RAM"))
    assert list(refused) == ["batch_size"] and "larger than the training set (500 images)" in refused["batch_size"]
    refused = start_refusals(big, TrainConfig(), 60000, memory_limit=(10**9, "available RAM"))
    assert list(refused) == ["hidden"]
    # 207.9M parameters × 4 bytes × 4 (weights, gradients, Adam's two moments) = 3.33 GB, + 68 MB activations
    assert "needs about 3.4 GB" in refused["hidden"] and "1.0 GB of available RAM" in refused["hidden"]
    cnn = ModelConfig(family="cnn", channels=(1024,) * 3)
    assert list(start_refusals(cnn, TrainConfig(), 60000, memory_limit=(10**9, "available RAM"))) == ["channels"]


@pytest.mark.slow
def test_a_process_that_exits_mid_run_stops_its_thread_run_first(tmp_path):
    """A run training in a thread of a process that exits (NNPLAY_WORKERS=0) is stopped and recorded first: a
    daemon thread still inside torch as the interpreter finalizes would abort the process (exit code 134)."""
    import os
    import subprocess
    import sys
    import textwrap

    from nnplay.store import open_store

    from .conftest import ROOT

    code = textwrap.dedent('''
        import time
        from nnplay.config import DataConfig, ModelConfig, TrainConfig
        from nnplay.data import load_mnist
        from nnplay.runs import Run
        from nnplay.store import open_store

        data = DataConfig(data_dir="no-such-data-dir", download=False, train_limit=2000, test_limit=200)
        run = Run("exiting", data, ModelConfig(hidden=(64,)), TrainConfig(epochs=1000, batch_size=50)).bind(open_store())
        run.start(load_mnist(data))
        while not run.history.steps:
            time.sleep(0.05)
        print(run.id, flush=True)
    ''')
    env = {**os.environ, "NNPLAY_HOME": str(tmp_path), "NNPLAY_WORKERS": "0"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "terminate called" not in done.stderr, done.stderr[-2000:]
    run_id = done.stdout.split()[-1]
    [record] = [r for r in open_store(tmp_path).list_runs() if r.id == run_id]
    assert record.status == "stopped"  # not "running", nor "interrupted" by the next look at the store


@pytest.mark.slow
def test_a_runs_end_hands_the_freed_heap_back(tmp_path):
    """runs.trim_heap_soon: freed memory under glibc's mmap threshold (a big model's layers, read from a
    checkpoint) stays in the process until malloc_trim; then it goes back (here ~190 MB of 64 kB pieces)."""
    import subprocess
    import sys
    import textwrap

    from nnplay import runs

    from .conftest import ROOT

    if runs.cache._MALLOC_TRIM is None:
        pytest.skip("no glibc malloc_trim here")
    script = textwrap.dedent("""
        import time
        from pathlib import Path
        from nnplay import runs

        def rss():
            line = [x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:")][0]
            return int(line.split()[1]) / 1024

        chunks = [bytearray(64 * 1024) for _ in range(3000)]
        last = chunks[-1]  # the heap's top stays in use: freeing the rest alone gives nothing back
        del chunks
        before = rss()
        time.sleep(0.3)
        held = rss()
        assert runs.trim_heap_soon(0.0)
        time.sleep(0.5)
        print(round(before), round(held), round(rss()))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    before, held, after = map(int, out.stdout.split())
    assert held > before - 20, "the freed pieces went back without a trim: this test shows nothing here"
    assert after < held - 100, f"resident {held} MB before the trim, {after} MB after"


@pytest.mark.slow
def test_a_sweep_over_stored_runs_reads_and_stops_them(tiny_data):
    """``Sweep(name, runs)`` over runs already stored (a sweep read back after a reload: no data, no store) tells
    whether they train, how many are done, and stops the one still training."""
    from nnplay.runs import Sweep, find_run
    from nnplay.store import open_store

    store = open_store()
    done = Run("done", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1, batch_size=100))
    done.bind(store, kind="sweep", group="g").start(tiny_data).wait(60)
    live = Run("live", DataConfig(), ModelConfig(hidden=(16,)), TrainConfig(epochs=1000, batch_size=100))
    live.bind(store, kind="sweep", group="g").start(tiny_data)
    try:
        runs = [find_run(store, done.id), find_run(store, live.id)]
        assert runs[1] is live  # the run this process trains, not a copy
        sweep = Sweep("g", runs)
        assert sweep.active and sweep.done == 1 and sweep.created == min(done.created, live.created)
        assert not sweep.wait(0.1)
        sweep.stop()
        assert sweep.wait(60) and not sweep.active and sweep.done == 2
        assert live.status == "stopped" and done.status == "finished"
    finally:
        live.stop()
        live.wait(30)
