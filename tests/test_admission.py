"""Admission: a run is accepted only if it fits in memory beside the runs already queued or starting here.

What lives here: ``runs.start_refusals`` counting what this process's runs (any workspace) will take and the
measurement does not hold yet, with the memory limit injected (no big run is built), and the Train page
refusing Start with a sentence when another workspace started a run after the page was drawn;
``runs.refusal_for`` admitting several runs at once (a study, a sweep) and the Experiments page refusing a
study or the range test that does not fit, with nothing of it queued. What does not live here: the estimate
itself (test_models.py), the per-run refusals (test_runs.py).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from nnplay import models, runs
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import StepEvent
from nnplay.models import estimate_memory
from nnplay.lessons import experiments as ex
from nnplay.runs import Run, refusal_for, start_refusals
from nnplay.store import open_store

from .conftest import ROOT

TRAIN = str(ROOT / "pages" / "train.py")
EXPERIMENTS = str(ROOT / "pages" / "experiments.py")
BILLION = ModelConfig(hidden=(8192,) * 16)  # 1.01 billion parameters: about 16.5 GB to train with Adam
RAM = (21 * 10**9, "available RAM")  # the machine of the report: 21 GB available


def queued(name: str, workspace: str, model_cfg: ModelConfig = BILLION) -> Run:
    """A run of another workspace, accepted and waiting (or starting): in this process's registry, no step yet."""
    return Run(name, DataConfig(), model_cfg, TrainConfig(device="cpu")).bind(open_store(), workspace)


def test_a_second_billion_parameter_run_does_not_fit_beside_the_first():
    assert 16.4e9 < estimate_memory(BILLION, TrainConfig()).total < 16.6e9
    assert start_refusals(BILLION, TrainConfig(device="cpu"), 60000, memory_limit=RAM) == {}  # alone it fits
    first = queued("first billion", "workspace-a")
    refused = start_refusals(BILLION, TrainConfig(device="cpu"), 60000, memory_limit=RAM)
    assert list(refused) == ["hidden"]
    assert refused["hidden"].startswith("This network needs about 16.5 GB to train (")
    assert refused["hidden"].endswith(
        "but of the 21.0 GB of available RAM, 16.5 GB is held for the run already queued or starting (first "
        "billion), which leaves 4.5 GB. Wait until it has ended (or stop it), or use fewer or narrower layers (or "
        "channels), or a smaller batch."), refused["hidden"]
    small = ModelConfig(hidden=(32,))
    assert start_refusals(small, TrainConfig(device="cpu"), 60000, memory_limit=RAM) == {}  # a small one fits beside
    # the run this Start replaces (the workspace's own, stopped first) is not counted
    assert start_refusals(BILLION, TrainConfig(device="cpu"), 60000, memory_limit=RAM, replacing=first.id) == {}
    # once it trains its memory is taken, and the measured memory holds it: not counted twice
    first.history(StepEvent(1, 0, 2.3, 0.001))
    assert start_refusals(BILLION, TrainConfig(device="cpu"), 60000, memory_limit=RAM) == {}
    first.status = "stopped"  # an ended run holds nothing
    first.history.steps.clear()
    assert start_refusals(BILLION, TrainConfig(device="cpu"), 60000, memory_limit=RAM) == {}


@pytest.mark.slow
def test_the_train_page_refuses_start_when_another_workspace_took_the_memory_meanwhile(monkeypatch):
    default = estimate_memory(ModelConfig(hidden=(256,)), TrainConfig()).total
    other = ModelConfig(hidden=(1024,))
    room = estimate_memory(other, TrainConfig()).total + default // 2  # room for one of the two, not both
    monkeypatch.setattr(models, "available_memory", lambda device="cpu": (room, "available RAM"))
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    assert not at.exception
    assert not at.button(key="train_start").disabled  # drawn while nothing else was queued
    queued("someone's run", "workspace-b", other)  # another browser presses Start first
    at.button(key="train_start").click().run()
    assert not at.exception
    assert not [r for r in runs.REGISTRY.values() if r.workspace == "local"], "no run was started"
    said = " ".join(i.value for i in at.info).replace("\\", "")
    assert said.startswith("Start did not begin the run. This network needs about") and \
        "is held for the run already queued or starting (someone's run)" in said, said
    # drawn again, the page marks the field and keeps Start disabled
    assert at.button(key="train_start").disabled
    assert any("is held for the run already queued or starting" in e.value for e in at.error)


def test_several_runs_are_admitted_together_or_refused_with_one_sentence():
    small, half = ModelConfig(hidden=(32,)), ModelConfig(hidden=(8192,) * 8)  # half: about 7.8 GB with Adam
    cpu = TrainConfig(device="cpu")
    assert refusal_for([(small, cpu)] * 3, memory_limit=RAM) is None
    assert refusal_for([(half, cpu), (half, cpu)], memory_limit=RAM) is None  # 15.5 GB of 21: they fit together
    said = refusal_for([(half, cpu)] * 3, memory_limit=RAM)
    assert said.startswith("These 3 runs need about 23.3 GB") and "together to train (the largest, MLP 784-" in said
    assert said.endswith("more than the 21.0 GB of available RAM; start fewer runs, or use fewer or narrower layers "
                         "(or channels), or a smaller batch."), said
    first = queued("first billion", "workspace-a")  # another workspace's run, queued
    said = refusal_for([(half, cpu), (small, cpu)], memory_limit=RAM)
    assert said.endswith("but of the 21.0 GB of available RAM, 16.5 GB is held for the run already queued or "
                         "starting (first billion), which leaves 4.5 GB. Wait until it has ended (or stop it), or "
                         "start fewer runs, or use fewer or narrower layers (or channels), or a smaller batch."), said
    assert refusal_for([(small, cpu)], memory_limit=RAM) is None
    # Run objects about to start are taken as they are and never counted twice (once bound, they are registered)
    about = [queued(f"sweep {i}", "workspace-b", half) for i in range(2)]
    assert refusal_for(about, memory_limit=RAM, replacing=first.id) is None
    assert "is held for the run already queued or starting (first billion)" in refusal_for(about, memory_limit=RAM)
    assert refusal_for([(small, TrainConfig(device="mps"))]) == \
        "Device 'mps' is not available on this machine; choose auto or cpu."


def test_a_study_that_does_not_fit_beside_a_queued_run_is_refused_and_nothing_is_queued(monkeypatch):
    study = ex.STUDIES["lr"].runs("quick", None, None)
    need = sum(estimate_memory(r.model, r.train).total for r in study)
    other = ModelConfig(hidden=(1024,))
    room = need + estimate_memory(other, TrainConfig()).total // 2  # room for the study, not for it and the other
    monkeypatch.setattr(models, "available_memory", lambda device="cpu": (room, "available RAM"))
    at = AppTest.from_file(EXPERIMENTS, default_timeout=60).run()
    assert not at.exception and not at.button(key="exp_run_lr").disabled  # nothing else queued yet
    blocker = queued("someone's run", "workspace-b", other)  # another browser queues a run first
    at.button(key="exp_run_lr").click().run()
    assert not at.exception
    assert list(runs.REGISTRY) == [blocker.id], "nothing of the study was queued"
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert said.startswith(f"The study cannot start: These {len(study)} runs need about") and \
        "is held for the run already queued or starting (someone's run)" in said, said
    at.run()  # drawn again: the button stays disabled while the sentence says why
    assert at.button(key="exp_run_lr").disabled
    assert any("is held for the run already queued or starting (someone's run)" in e.value.replace("\\", "")
               for e in at.error)


def test_the_range_test_that_does_not_fit_beside_a_queued_run_is_refused(monkeypatch):
    other = ModelConfig(hidden=(1024,))
    mine = estimate_memory(ex.SEED003_MLP, TrainConfig(batch_size=100)).total
    room = mine + estimate_memory(other, TrainConfig()).total // 2
    monkeypatch.setattr(models, "available_memory", lambda device="cpu": (room, "available RAM"))
    at = AppTest.from_file(EXPERIMENTS, default_timeout=60).run()
    at.radio(key="exp_study").set_value("range").run()
    assert not at.exception and not at.button(key="exp_range_run").disabled
    queued("someone's run", "workspace-b", other)
    at.button(key="exp_range_run").click().run()
    assert not at.exception and "exp_range_result" not in at.session_state  # it did not run
    said = " ".join(e.value for e in at.error).replace("\\", "")
    assert said.startswith("The range test cannot run: This network needs about") and \
        "(someone's run)" in said, said
    assert at.button(key="exp_range_run").disabled


def test_a_queued_sweep_counts_only_the_runs_that_train_at_once(monkeypatch):
    import nnplay.jobs
    import nnplay.sweeps.estimate as estimate

    mid, cpu = ModelConfig(hidden=(4096,) * 4), TrainConfig(device="cpu")
    each = estimate_memory(mid, cpu).total
    for i in range(10):  # a sweep of another workspace, queued on a pool of 2 workers
        queued(f"sweep run {i}", "workspace-a", mid)
    room = (int(each * 3.5), "available RAM")
    monkeypatch.setattr(nnplay.jobs, "threads_enabled", lambda: False)
    monkeypatch.setattr(estimate, "worker_count", lambda: 2)
    # Train's Start: beside the 2 that train at once it fits, the 8 waiting for a worker hold nothing yet
    assert start_refusals(mid, cpu, 60000, memory_limit=room) == {}
    said = refusal_for([(mid, cpu)] * 2, memory_limit=room)  # 2 + 2 runs of 3.5 runs' room: refused
    assert "is held for the 2 runs already queued or starting (sweep run" in said, said
    monkeypatch.setattr(nnplay.jobs, "threads_enabled", lambda: True)  # this process's threads train all at once
    assert "is held for the 10 runs already queued or starting" in refusal_for([(mid, cpu)], memory_limit=room)


@pytest.mark.slow
def test_the_activation_race_that_does_not_fit_beside_a_queued_run_is_refused_and_nothing_is_queued(monkeypatch):
    from nnplay.config import PRESETS

    race = [(PRESETS[k].model, PRESETS[k].train) for k in ("model-a", "model-b", "model-c", "model-d")]
    need = sum(estimate_memory(m, t).total for m, t in race)
    other = ModelConfig(hidden=(1024,))
    room = need + estimate_memory(other, TrainConfig()).total // 2  # room for the race, not for it and the other
    monkeypatch.setattr(models, "available_memory", lambda device="cpu": (room, "available RAM"))
    at = AppTest.from_file(str(ROOT / "pages" / "activations.py"), default_timeout=60).run()
    assert not at.exception and not at.button(key="act_race_start").disabled  # nothing else queued yet
    blocker = queued("someone's run", "workspace-b", other)  # another browser queues a run first
    at.button(key="act_race_start").click().run()
    assert not at.exception
    assert list(runs.REGISTRY) == [blocker.id], "nothing of the race was queued"
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "The race did not start: These 4 runs need about" in said and \
        "is held for the run already queued or starting (someone's run)" in said, said
    at.run()  # drawn again: Start stays disabled while the sentence says why
    assert at.button(key="act_race_start").disabled
    assert any(e.value.replace("\\", "").startswith("The race cannot start: These 4 runs") for e in at.error)
