"""Class mode's per-learner limits: the teacher's values are kept for the class, every Start beyond them is refused
with a sentence naming the limit, on the Train page and at the library call a crafted request would reach
(``Run.start``), a learner's run carries the minutes cap to its worker, and nothing changes outside class mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.classroom.limits import Limits, limit_refusal, read_limits, save_limits
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.jobs import JobSpec, thread_backend
from nnplay.runs import Run, refusal_for, start_refusals
from nnplay.store import open_store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
SMALL = ModelConfig(hidden=(16,))


def test_the_teachers_limits_are_kept_for_the_class_over_the_settings_defaults(monkeypatch):
    store = open_store()
    assert read_limits(store) == Limits(2_000_000, 20, 3, 15.0)
    monkeypatch.setenv("NNPLAY_CLASS_MAX_EPOCHS", "8")
    assert read_limits(store).max_epochs == 8
    save_limits(store, Limits(100_000, 5, 2, 3.0))
    assert read_limits(open_store()) == Limits(100_000, 5, 2, 3.0)
    with pytest.raises(ValueError, match="epochs per run must be a number of at least 1"):
        Limits(100_000, 0, 2, 3.0)


def test_outside_class_mode_nothing_is_limited(monkeypatch):
    monkeypatch.delenv("NNPLAY_CLASS", raising=False)
    big = ModelConfig(hidden=(4096, 4096))
    assert limit_refusal(open_store(), "a", [(big, TrainConfig(epochs=1000))]) is None


def test_each_limit_refuses_with_a_sentence_that_names_it(class_mode):
    store = open_store()
    save_limits(store, Limits(100_000, 5, 1, 3.0))
    field, sentence = limit_refusal(store, "a", [(ModelConfig(hidden=(256,)), TrainConfig())])
    assert field == "hidden" and "203,530 parameters" in sentence
    assert "limit is 100,000 parameters per model" in sentence
    field, sentence = limit_refusal(store, "a", [(SMALL, TrainConfig(epochs=6))])
    assert field == "epochs" and "limit of 5 epochs per run" in sentence
    field, sentence = limit_refusal(store, "a", [(SMALL, TrainConfig(epochs=1))] * 2)
    assert field == "train" and "1 run queued or training at once" in sentence
    assert limit_refusal(store, "a", [(SMALL, TrainConfig(epochs=1))]) is None
    # the pages' paths say the same
    assert "limit of 5 epochs per run" in start_refusals(SMALL, TrainConfig(epochs=6), None, workspace="a",
                                                         store=store)["epochs"]
    assert "limit of 5 epochs per run" in refusal_for([(SMALL, TrainConfig(epochs=6))], workspace="a", store=store)


@pytest.mark.slow
def test_a_start_beyond_the_limits_is_refused_at_the_library_call(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 5, 1, 3.0))
    crafted = Run("too long", DataConfig(), SMALL, TrainConfig(epochs=50)).bind(store, "learner-a")
    crafted.start(tiny_data)  # what a request that bypassed the page would reach
    assert crafted.job is None and crafted.status == "error"
    assert "limit of 5 epochs per run" in crafted.message and store.get(crafted.id).status == "error"
    first = Run("first", DataConfig(), SMALL, TrainConfig(epochs=5, batch_size=10)).bind(store, "learner-a")
    first.start(tiny_data)
    assert first.job is not None
    second = Run("second", DataConfig(), SMALL, TrainConfig(epochs=1)).bind(store, "learner-a")
    second.start(tiny_data)
    assert second.job is None and "1 run queued or training at once" in second.message
    other = Run("other learner", DataConfig(), SMALL, TrainConfig(epochs=1)).bind(store, "learner-b")
    other.start(tiny_data)  # the limit is per learner
    assert other.job is not None and other.wait(60) and other.status == "finished"


def test_a_learners_run_carries_the_class_minutes_cap(class_mode, tiny_data):
    store = open_store()
    save_limits(store, Limits(100_000, 5, 3, 0.001))  # 0.06 s
    run = Run("capped", DataConfig(), SMALL, TrainConfig(epochs=5, batch_size=10)).bind(store, "learner-a")
    run.start(tiny_data, backend=thread_backend())
    assert run.job.spec.max_minutes == 0.001
    assert run.wait(60) and run.status == "stopped"
    assert run.message.startswith("time limit: the class's limit is 0.001 minutes per run (set by the teacher)")


def test_the_job_spec_takes_the_smaller_of_the_two_caps(tiny_data):
    from nnplay.engine import RunControl
    from nnplay.jobs.run_loop import run_job

    spec = JobSpec("x", "a", DataConfig(), SMALL, TrainConfig(epochs=5, batch_size=10), max_minutes=0.001)
    end = run_job(spec, lambda batch: None, RunControl(), max_seconds=600, data=tiny_data)
    assert end.status == "stopped" and "the class's limit is 0.001 minutes" in end.message


def test_the_train_page_refuses_beyond_the_limits_beside_the_field(class_mode):
    save_limits(open_store(), Limits(100_000, 5, 3, 3.0))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key="train_epochs").set_value("6").run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert any("limit of 5 epochs per run" in e for e in shown)
    assert any("203,530 parameters" in e for e in shown)  # the default MLP 784-256-10
    assert at.button(key="train_start").disabled
    at.text_input(key="train_epochs").set_value("5").run()
    assert [e.value for e in at.error] == [next(e for e in shown if "203,530" in e)]
    at.text_input(key="train_hidden").set_value("64").run()
    assert not at.error and not at.button(key="train_start").disabled


def test_a_sweep_beyond_the_runs_queued_at_once_is_refused_on_the_sweeps_path(class_mode):
    from nnplay.sweeps import SweepPlan
    from nnplay.sweeps.live import refusal

    store = open_store()
    save_limits(store, Limits(100_000, 5, 3, 3.0))
    plan = SweepPlan(axes=(), model=SMALL, train=TrainConfig(epochs=1), seeds=(0, 1, 2, 3))
    sentence = refusal(plan, plan.expand(), None, "learner-a", store)
    assert "3 runs queued or training at once" in sentence and "these 4 runs" in sentence
    assert refusal(plan, plan.expand(), None) is None  # (no learner named: the page's old call)
    small = SweepPlan(axes=(), model=SMALL, train=TrainConfig(epochs=1), seeds=(0, 1, 2))
    assert refusal(small, small.expand(), None, "learner-a", store) is None
