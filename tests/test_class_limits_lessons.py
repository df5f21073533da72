"""Class mode's per-learner limits on what a learner starts besides Train: a sweep (the Activations race, the
Experiments studies, a paper's seeds) starts all of its runs or none, the learning-rate range test and a paper's
study (``runs.call_in_worker``) are refused with the limit's sentence at the library call a crafted request
would reach, count as a run queued while in flight, stop at the minutes per run and see only the visible test
half; the pages (Experiments, Activations, Papers, Draw's quick training) show the same sentences; outside class
mode nothing changes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.classroom.limits import Limits, active_calls, limit_refusal, save_limits
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.lessons import experiments as ex
from nnplay.runs import Run, Sweep, call_in_worker
from nnplay.runs.registry import CALLS
from nnplay.store import open_store

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = str(ROOT / "pages" / "experiments.py")
ACTIVATIONS = str(ROOT / "pages" / "activations.py")
SMALL = ModelConfig(hidden=(16,))
RANGE = "nnplay.lessons.experiments:lr_range_test"


def runs(n: int, epochs: int = 1) -> list[Run]:
    return [Run(f"r{i}", DataConfig(), SMALL, TrainConfig(epochs=epochs, batch_size=100, device="cpu"))
            for i in range(n)]


@pytest.mark.slow
def test_a_sweep_beyond_the_runs_queued_at_once_starts_none_of_its_runs(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 5, 3, 3.0))
    race = Sweep("race", runs(4), tiny_data, store=store, workspace="learner-a").start()
    assert "3 runs queued or training at once" in race.refusal and "these 4 runs" in race.refusal
    assert all(r.job is None and r.status == "error" and r.message == f"not started: {race.refusal}"
               for r in race.runs)
    assert store.get(race.runs[0].id).status == "error"
    long = Sweep("study", runs(2, epochs=6), tiny_data, store=store, workspace="learner-a").start()
    assert "limit of 5 epochs per run" in long.refusal and all(r.job is None for r in long.runs)
    fits = Sweep("race", runs(3), tiny_data, store=store, workspace="learner-a").start()
    assert fits.refusal == "" and all(r.job is not None for r in fits.runs)
    assert fits.wait(120) and all(r.status == "finished" for r in fits.runs)


@pytest.mark.slow
def test_outside_class_mode_a_sweep_starts_every_run(monkeypatch, tiny_data):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    save_limits(open_store(), Limits(100_000, 5, 1, 3.0))  # kept, but only class mode reads them
    sweep = Sweep("race", runs(4), tiny_data, store=open_store(), workspace="learner-a").start()
    assert sweep.refusal == "" and all(r.job is not None for r in sweep.runs)
    assert sweep.wait(120)


@pytest.mark.slow
def test_the_range_test_is_refused_at_the_library_call_with_the_limits_sentence(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 5, 1, 3.0))

    def crafted(model_cfg: ModelConfig, steps: int, batch_size: int):  # what a request bypassing the page reaches
        trains = ex.range_test_run(model_cfg, "adam", batch_size, steps, len(tiny_data.train_images))
        return call_in_worker(RANGE, DataConfig(), tiny_data, workspace="learner-a", trains=[trains], store=store,
                              model_cfg=model_cfg, steps=steps, batch_size=batch_size)

    with pytest.raises(ValueError, match="limit is 100,000 parameters per model"):
        crafted(ex.SEED003_MLP, 20, 100)
    with pytest.raises(ValueError, match="50 epochs is more than the class's limit of 5 epochs per run"):
        crafted(SMALL, 1000, 100)  # 1,000 batches of 100 over 2,000 images: 50 passes
    busy = Run("busy", DataConfig(), SMALL, TrainConfig(epochs=5, batch_size=10)).bind(store, "learner-a")
    busy.start(tiny_data)
    with pytest.raises(ValueError, match="1 run queued or training at once"):
        crafted(SMALL, 20, 100)
    busy.stop()
    assert busy.wait(60)
    lrs, losses, suggested = crafted(SMALL, 20, 100)  # within the limits it runs
    assert len(lrs) == len(losses) and suggested > 0


@pytest.mark.slow
def test_a_range_test_in_flight_counts_as_a_run_queued(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 2_000, 1, 0.02))  # it stops itself after 1.2 s
    trains = ex.range_test_run(SMALL, "adam", 100, 2000, len(tiny_data.train_images))
    outcome = []

    def range_test():
        try:
            call_in_worker(RANGE, DataConfig(), tiny_data, workspace="learner-a", trains=[trains], store=store,
                           model_cfg=SMALL, steps=2000, batch_size=100, start=1e-7, end=1e-6)
        except ValueError as err:
            outcome.append(str(err))

    worker = threading.Thread(target=range_test)
    worker.start()
    for _ in range(600):
        if CALLS:
            break
        time.sleep(0.01)
    assert active_calls("learner-a") == 1 and active_calls("learner-b") == 0
    field, sentence = limit_refusal(store, "learner-a", [(SMALL, TrainConfig(epochs=1))])
    assert field == "train" and "you have 1 run queued or training" in sentence
    assert limit_refusal(store, "learner-b", [(SMALL, TrainConfig(epochs=1))]) is None  # per learner
    worker.join(120)
    assert "0.02 minutes per run" in outcome[0] and active_calls("learner-a") == 0


@pytest.mark.slow
def test_a_range_test_stops_at_the_class_minutes_per_run(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 2_000, 3, 0.0005))  # 0.03 s
    trains = ex.range_test_run(SMALL, "adam", 100, 2000, len(tiny_data.train_images))
    with pytest.raises(ValueError, match=r"the range test stopped after [\d,]+ of 2,000 steps: the class's limit is "
                                         r"0.0005 minutes per run \(set by the teacher\)"):
        call_in_worker(RANGE, DataConfig(), tiny_data, workspace="learner-a", trains=[trains], store=store,
                       model_cfg=SMALL, steps=2000, batch_size=100, start=1e-7, end=1e-6)


@pytest.mark.slow
def test_a_function_job_sees_the_visible_test_half_in_class_mode_only(monkeypatch, tiny_data):
    for on, expected in ((True, 250), (False, 500)):
        if on:
            monkeypatch.setenv("NNPLAY_CLASS", "1")
        else:
            monkeypatch.delenv("NNPLAY_CLASS", raising=False)
        index = call_in_worker("nnplay.handwriting.nearest:index_for", DataConfig(), tiny_data, workspace="a",
                               model=None, space="pixels")
        assert index.test_digits == expected


@pytest.mark.slow
def test_outside_class_mode_the_range_test_is_not_limited(monkeypatch, tiny_data):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    save_limits(open_store(), Limits(100, 1, 1, 0.0001))
    trains = ex.range_test_run(SMALL, "adam", 100, 60, len(tiny_data.train_images))
    lrs, _, _ = call_in_worker(RANGE, DataConfig(), tiny_data, workspace="a", trains=[trains], store=open_store(),
                               model_cfg=SMALL, steps=60, batch_size=100, start=1e-7, end=1e-6)
    assert len(lrs) == 60 and not CALLS


@pytest.mark.slow
def test_the_experiments_page_refuses_the_range_test_with_the_limit(class_mode):
    save_limits(open_store(), Limits(100_000, 20, 3, 3.0))
    at = AppTest.from_file(EXPERIMENTS, default_timeout=120).run()
    at.radio(key="exp_study").set_value("range").run()
    assert not at.exception
    assert at.button(key="exp_range_run").disabled
    assert any("The range test cannot run" in e.value and "limit is 100,000 parameters per model" in e.value
               for e in at.error)


@pytest.mark.slow
def test_the_activations_race_is_refused_with_the_limit(class_mode):
    save_limits(open_store(), Limits(2_000_000, 20, 3, 3.0))
    at = AppTest.from_file(ACTIVATIONS, default_timeout=120).run()
    assert not at.exception
    assert at.button(key="act_race_start").disabled
    assert any("The race cannot start" in e.value and "3 runs queued or training at once" in e.value
               for e in at.error)


@pytest.mark.slow
def test_outside_class_mode_the_pages_start_as_before(monkeypatch):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    save_limits(open_store(), Limits(100, 1, 1, 3.0))
    at = AppTest.from_file(ACTIVATIONS, default_timeout=120).run()
    assert not at.exception and not at.button(key="act_race_start").disabled
    at = AppTest.from_file(EXPERIMENTS, default_timeout=120).run()
    at.radio(key="exp_study").set_value("range").run()
    assert not at.exception and not at.button(key="exp_range_run").disabled


@pytest.mark.slow
def test_draws_quick_training_keeps_to_the_class_limits(in_class):
    from nnplay.runs import REGISTRY

    save_limits(open_store(), Limits(2_000_000, 1, 3, 3.0))  # the quick training's 2 epochs are one too many
    at = AppTest.from_file(str(ROOT / "pages" / "draw.py"), default_timeout=120).run()
    at.button(key="draw_quick_train").click().run()
    assert not at.exception
    refused = [e.value for e in at.error if "The quick training cannot start" in e.value]
    if in_class:
        assert refused and "2 epochs is more than the class's limit of 1 epochs per run" in refused[0]
        assert not REGISTRY
    else:
        assert not refused and len(REGISTRY) == 1
        for run in REGISTRY.values():
            run.stop()
            run.wait(60)


def test_a_crafted_sweep_start_beyond_the_limits_is_refused_before_anything_is_kept(class_mode, tiny_data):
    from nnplay.sweeps import SweepPlan, start_sweep

    store = open_store()
    save_limits(store, Limits(100_000, 5, 3, 3.0))
    plan = SweepPlan(axes=(), model=SMALL, train=TrainConfig(epochs=1), seeds=(0, 1, 2, 3))
    with pytest.raises(ValueError, match="3 runs queued or training at once"):
        start_sweep(plan, store=store, workspace="learner-a", data=tiny_data)  # what the page's button would call
    assert store.list_sweeps("learner-a") == []


@pytest.mark.slow
def test_the_papers_page_refuses_its_rows_and_figures_beyond_the_limits(in_class):
    save_limits(open_store(), Limits(100, 20, 3, 3.0))  # every paper's network is larger
    at = AppTest.from_file(str(ROOT / "pages" / "papers.py"), default_timeout=120).run()
    assert not at.exception
    limited = [e.value for e in at.error if "the class's limit is 100 parameters per model" in e.value]
    buttons = [b for b in at.button if b.key.startswith("papers_run_") or b.key.startswith("papers_fig_run_")]
    assert buttons
    if in_class:
        assert len(limited) == len(buttons) and all(b.disabled for b in buttons)
    else:
        assert not limited and not any(b.disabled for b in buttons)
