"""What a run's message says is kept can be used: the model picker, the Model (.pt) download, export and Inspect.

What lives here: a run whose worker died after an epoch ("error", its ``epoch.pt`` kept), a run whose
``final.pt`` holds weights that are not numbers beside a good ``epoch.pt``, and a run whose folder was deleted
by hand. The runs are trained for one epoch on the sample in this process, then their files and records are
crafted to the fault (one test kills a real pool worker). What does not live here: the worker pool itself
(test_jobs.py, test_runs_jobs.py), the store's own reading of files (test_store.py).
"""

from __future__ import annotations

import os
import shutil
import signal

import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay import runs
from nnplay.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from nnplay.cli import main as cli_main
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.devtools import wait_until
from nnplay.export import no_model_reason, run_file
from nnplay.jobs.local import death_sentence
from nnplay.runs import Run, find_run, run_checkpoint_bytes
from nnplay.store import open_store

from .conftest import ROOT
from .store_helpers import kept_run, picker_page, shown

TRAIN = str(ROOT / "pages" / "train.py")


def forget() -> None:
    """As after a restart: this process holds no run object and no model."""
    runs.REGISTRY.clear()
    runs.MODELS.clear()


def as_killed(run: Run) -> None:
    """The record a worker killed during epoch 2 leaves: "error", its curves, epoch 1's epoch.pt, no final.pt."""
    store = open_store()
    (store.run_dir(run.id) / "final.pt").unlink()
    message = death_sentence(-9, 4242) + " Epoch 1's model is kept: pick it in the model picker, download it or export it."
    store.write(lambda db: db.execute("UPDATE runs SET status='error', message=?, has_final=0 WHERE id=?",
                                      (message, run.id)))
    forget()


def with_nan_final(run: Run) -> None:
    """final.pt holds weights that are not numbers; epoch.pt is the good last epoch's."""
    path = open_store().run_dir(run.id) / "final.pt"
    model, cfg, meta = load_checkpoint(path)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    save_checkpoint(model, cfg, path, meta=meta)
    forget()


@pytest.mark.slow
def test_a_killed_workers_kept_epoch_can_be_picked_downloaded_and_exported(tiny_data, tmp_path, capsys):
    older, killed = kept_run(tiny_data, "older", 12), kept_run(tiny_data, "killed", 8)
    as_killed(killed)
    run = find_run(open_store(), killed.id)
    assert run.usable and run.model is not None and run.why_not_usable() == ""
    assert no_model_reason(run) == ""
    assert read_checkpoint(run_checkpoint_bytes(run)).model_cfg.hidden == (8,)  # the Model (.pt) download
    assert run_file(run, "safetensors")
    out = tmp_path / "killed.pt"
    assert cli_main(["export", killed.id, "--format", "checkpoint", "--out", str(out)]) == 0, capsys.readouterr().err
    assert load_checkpoint(out)[1].hidden == (8,)
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    picker = at.selectbox(key="nnplay_model_pick")
    assert picker.options[0] == "killed (error)", picker.options
    picker.set_value(older.id).run()
    at.selectbox(key="nnplay_model_pick").set_value(killed.id).run()  # chosen: it stays chosen
    assert at.selectbox(key="nnplay_model_pick").value == killed.id
    assert shown(at) == "model: killed / default: False / hidden: (8,)"
    assert not at.warning


@pytest.mark.slow
def test_the_train_page_offers_a_killed_runs_kept_model(tiny_data):
    killed = kept_run(tiny_data, "killed", 8)
    as_killed(killed)
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    assert not at.exception
    download = next(b for b in at.get("download_button") if b.proto.label == "Model (.pt)")
    assert not download.proto.disabled


@pytest.mark.slow
def test_a_final_file_that_is_not_numbers_falls_back_to_the_last_epoch(tiny_data, tmp_path, capsys):
    run = kept_run(tiny_data, "nan final", 8)
    with_nan_final(run)
    again = find_run(open_store(), run.id)
    assert again.usable and again.model is not None
    assert all(torch.isfinite(p).all() for p in again.model.parameters())
    assert again.model_note.startswith("final.pt could not be read") and "epoch.pt" in again.model_note
    assert no_model_reason(again) == ""
    out = tmp_path / "nan.pt"
    assert cli_main(["export", run.id, "--format", "checkpoint", "--out", str(out)]) == 0, capsys.readouterr().err
    forget()
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert shown(at) == "model: nan final / default: False / hidden: (8,)"
    assert any("final.pt could not be read" in c.value for c in at.caption), [c.value for c in at.caption]


@pytest.mark.slow
def test_a_run_with_only_an_unreadable_file_says_why_and_is_not_listed(tiny_data):
    older, broken = kept_run(tiny_data, "older", 12), kept_run(tiny_data, "broken", 8)
    with_nan_final(broken)
    (open_store().run_dir(broken.id) / "epoch.pt").unlink()
    again = find_run(open_store(), broken.id)
    assert again.model is None and not again.usable
    assert "cannot be read" in again.why_not_usable() and "not numbers" in again.why_not_usable()
    assert "has no model to export" in no_model_reason(again) or "gone" in no_model_reason(again)
    forget()
    at = AppTest.from_function(picker_page, default_timeout=60).run()  # the newest is tried, found unreadable
    assert at.selectbox(key="nnplay_model_pick").options == ["older (finished)", "nnplay's default model"]
    assert shown(at) == "model: older / default: False / hidden: (12,)"
    assert any(c.value.startswith("Not in this list: broken.") for c in at.caption), [c.value for c in at.caption]


@pytest.mark.slow
def test_a_run_whose_folder_was_deleted_is_not_listed_and_its_pick_says_why(tiny_data):
    older, gone = kept_run(tiny_data, "older", 12), kept_run(tiny_data, "gone", 8)
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    at.selectbox(key="nnplay_model_pick").set_value(older.id).run()
    at.selectbox(key="nnplay_model_pick").set_value(gone.id).run()  # picked, not just the newest
    assert shown(at) == "model: gone / default: False / hidden: (8,)"
    shutil.rmtree(open_store().run_dir(gone.id))
    forget()
    at = AppTest.from_function(picker_page, default_timeout=60).run()  # a reload: the pick is kept in the store
    assert not at.exception
    picker = at.selectbox(key="nnplay_model_pick")
    assert picker.options == ["older (finished)", "nnplay's default model"]
    assert shown(at) == "model: older / default: False / hidden: (12,)"
    [warning] = at.warning
    said = warning.value.replace("\\", "")  # as shown: the markdown escapes left out
    assert said.startswith(f"The model files of gone are gone (its folder {open_store().run_dir(gone.id)} was "
                           "deleted), so it cannot be picked; its curves and settings are still on the Train page. "
                           "Instead the newest usable run, older, is used."), said
    # said once: the workspace follows the newest usable run again, and a reload names it under the list
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    assert not at.warning and shown(at) == "model: older / default: False / hidden: (12,)"
    assert any(c.value.startswith("Not in this list: gone.") for c in at.caption), [c.value for c in at.caption]


@pytest.mark.pool
def test_a_real_killed_worker_leaves_a_model_that_can_be_used(tiny_data):
    from nnplay.jobs.local import LocalPool

    pool = LocalPool(1)
    try:
        run = Run("killed", DataConfig(), ModelConfig(hidden=(8,)),
                  TrainConfig(epochs=50, batch_size=100, device="cpu", log_every=1)).bind(open_store())
        run.start(tiny_data, backend=pool)
        wait_until(lambda: len(run.history.epochs) >= 1, 120, "the run to finish an epoch")
        [pid] = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        assert run.wait(30) and run.status == "error"
        assert run.message.endswith("model is kept: pick it in the model picker, download it or export it.")
        assert "checkpoint are kept" not in run.message
        forget()
        again = find_run(open_store(), run.id)
        assert again.usable and again.model is not None and no_model_reason(again) == ""
    finally:
        pool.close()


@pytest.mark.slow
def test_inspect_opens_a_killed_runs_kept_model(tiny_data):
    older, killed = kept_run(tiny_data, "older", 12), kept_run(tiny_data, "killed", 8)
    at = AppTest.from_function(picker_page, default_timeout=60).run()
    at.selectbox(key="nnplay_model_pick").set_value(killed.id).run()  # picked while it was whole
    as_killed(killed)
    inspect = AppTest.from_file(str(ROOT / "pages" / "inspect.py"), default_timeout=120).run()
    assert not inspect.exception
    assert inspect.selectbox(key="inspect_model").value == killed.id
    assert any(m.value == f"**Total: {sum(p.numel() for p in killed.model.parameters()):,} parameters**"
               for m in inspect.markdown)
    assert not inspect.warning
