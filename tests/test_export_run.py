"""Exporting a run of the run store: the Train page's Export panel and ``python -m nnplay export RUN``.

What lives here: the page offers every format for a finished run; the ONNX and TorchScript bytes its
download callables build give the run's logits (1e-5); the code download is ``training_script`` of the
run's configs; the TensorBoard zip reads back with tensorboard's own reader; a missing onnx says what
to install; a run that diverged at step 1 or lost its model file says so instead of a button. The CLI
exports by run id (and its unique start) in each format, ``runs export --tensorboard`` writes one
subfolder per run, and a run without a model is refused with a sentence, leaving nothing behind.
What does not live here: the writers' own checks (tests/test_export.py, tests/test_export_script.py).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.checkpoint import load_checkpoint
from nnplay.cli import main
from nnplay.config import DataConfig, ModelConfig, TrainConfig, to_dict
from nnplay.data import normalise
from nnplay.export import load_safetensors, onnx_logits, training_script
from nnplay.runs import MODELS, REGISTRY, Run
from nnplay.store import open_store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")
DATA = DataConfig(train_limit=2000, test_limit=500)


def stored_run(tiny_data, name: str = "run 1", model_cfg: ModelConfig | None = None, **train) -> Run:
    """A run trained on 2,000 images and kept in this test's run store (local workspace)."""
    train_cfg = TrainConfig(**{"epochs": 1, "batch_size": 200, "seed": 3, **train})
    run = Run(name, DATA, model_cfg or ModelConfig(hidden=(16,)), train_cfg).bind(open_store())
    run.start(tiny_data).wait()
    return run


@pytest.fixture
def finished(tiny_data) -> Run:
    run = stored_run(tiny_data, "cnn run", ModelConfig(family="cnn", channels=(4,), fc_width=8))
    assert run.status == "finished"
    return run


@pytest.fixture
def diverged(tiny_data) -> Run:
    # weights of 1e30: the first batch's loss is not a number
    run = stored_run(tiny_data, "diverged run", ModelConfig(hidden=(16,), init="constant", init_value=1e30))
    assert run.status == "diverged" and "step 1" in run.message
    return run


@pytest.fixture
def images(tiny_data) -> torch.Tensor:
    return normalise(tiny_data.test_images[:50])


def reference_logits(run: Run, images: torch.Tensor) -> torch.Tensor:
    model = run.model.cpu().eval()
    with torch.no_grad():
        return model(images)


def page() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def export_buttons(app: AppTest) -> dict:
    return {b.proto.label: b for b in app.get("download_button") if b.key and b.key.startswith("train_export_")}


# ---------------------------------------------------------------------------------------------
# the Train page


@pytest.mark.slow
def test_a_finished_run_offers_every_format_and_the_bytes_are_the_run(finished, images, downloads, tmp_path):
    pytest.importorskip("onnxruntime")
    at = page()
    buttons = export_buttons(at)
    assert set(buttons) == {"ONNX (.onnx)", "TorchScript (.pt)", "safetensors (.zip)", "Code (.py)",
                            "TensorBoard (.zip)"}
    assert not any(b.proto.disabled for b in buttons.values())
    ref = reference_logits(finished, images)

    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(downloads["nnplay-cnn-run.onnx"]())
    assert (onnx_logits(onnx_file, images) - ref).abs().max() < 1e-5

    scripted = torch.jit.load(io.BytesIO(downloads["nnplay-cnn-run-torchscript.pt"]()))
    assert (scripted(images) - ref).abs().max() < 1e-5

    assert downloads["nnplay-cnn-run-train.py"]().decode() == training_script(finished.data_cfg, finished.model_cfg,
                                                                              finished.train_cfg, finished.data_source)

    with zipfile.ZipFile(io.BytesIO(downloads["nnplay-cnn-run-safetensors.zip"]())) as zf:
        assert sorted(zf.namelist()) == ["nnplay-cnn-run.json", "nnplay-cnn-run.safetensors"]
        zf.extractall(tmp_path / "st")
        config = json.loads(zf.read("nnplay-cnn-run.json"))
    assert config["model"] == to_dict(finished.model_cfg) and config["train"] == to_dict(finished.train_cfg)
    model, model_cfg = load_safetensors(tmp_path / "st" / "nnplay-cnn-run.safetensors")
    assert model_cfg == finished.model_cfg and torch.equal(model(images), ref)


def test_the_tensorboard_zip_reads_back(finished, downloads, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    page()
    with zipfile.ZipFile(io.BytesIO(downloads["nnplay-cnn-run-tensorboard.zip"]())) as zf:
        zf.extractall(tmp_path)
    acc = EventAccumulator(str(tmp_path / "nnplay-cnn-run"), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    history = finished.history
    assert [s.step for s in acc.Scalars("loss/step")] == [s.step for s in history.steps]
    (test_acc,) = acc.Scalars("accuracy/test")
    assert test_acc.value == pytest.approx(history.epochs[-1].test_accuracy)
    assert "weights/conv_1" in acc.Tags()["histograms"]


def test_the_settings_script_is_shown_beside_the_command_line(downloads):
    at = page()
    assert any(e.label == "The same run as a PyTorch script" for e in at.expander)
    # folded, the script is not sent (highlighting it costs the browser on every load); its download is there
    assert not [c for c in at.code if c.language == "python"]
    assert "train_script_download" in [b.key for b in at.get("download_button")]
    at.session_state["train_script_open"] = True  # the learner opens it: the page reruns and shows it
    at.run()
    code = [c.value for c in at.code if c.language == "python"]
    assert len(code) == 1 and code[0].startswith('"""') and "def main():" in code[0]
    assert any(e.label == "The same run as a PyTorch script" for e in at.expander)


def test_without_onnx_the_button_says_what_to_install(finished, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    at = page()
    onnx = export_buttons(at)["ONNX (.onnx)"]
    assert onnx.proto.disabled and "onnxruntime" in onnx.proto.help
    assert "pip install -r requirements-export.txt" in onnx.proto.help
    assert not export_buttons(at)["TorchScript (.pt)"].proto.disabled
    assert any("requirements-export.txt" in c.value for c in at.caption)


@pytest.mark.parametrize("case", ["diverged", "file gone"])
def test_a_run_without_a_model_says_so(case, request, tiny_data):
    if case == "diverged":
        run = request.getfixturevalue("diverged")
        expected = "diverged at step 1"
    else:
        run = stored_run(tiny_data, "lost run")
        for path in open_store().run_dir(run.id).iterdir():
            path.unlink()
        MODELS.clear()
        REGISTRY.clear()
        expected = "model file of lost run is gone"
    at = page()
    buttons = export_buttons(at)
    for label in ("ONNX (.onnx)", "TorchScript (.pt)", "safetensors (.zip)"):
        assert buttons[label].proto.disabled and expected in buttons[label].proto.help
    assert not buttons["Code (.py)"].proto.disabled
    # the step the loss became NaN is not kept: a run that diverged at step 1 has no curve either
    assert buttons["TensorBoard (.zip)"].proto.disabled == (case == "diverged")
    assert any(expected in c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------
# the CLI


@pytest.mark.parametrize("fmt,out", [("onnx", "m.onnx"), ("torchscript", "m.ts"), ("safetensors", "m.safetensors"),
                                     ("checkpoint", "copy.pt"), ("script", "train.py"), ("tensorboard", "tb")])
@pytest.mark.slow
def test_cli_exports_a_run_by_id(fmt, out, finished, images, tmp_path, capsys):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    if fmt == "tensorboard":
        pytest.importorskip("tensorboard")
    target = tmp_path / out
    source = finished.id if fmt != "script" else finished.id[:6]  # its unique start works too
    assert main(["export", source, "--format", fmt, "--out", str(target)]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["written"][0] == str(target)
    ref = reference_logits(finished, images)
    if fmt == "onnx":
        assert (onnx_logits(target, images) - ref).abs().max() < 1e-5
    elif fmt == "torchscript":
        assert (torch.jit.load(str(target))(images) - ref).abs().max() < 1e-5
    elif fmt == "safetensors":
        assert torch.equal(load_safetensors(target)[0](images), ref)
        assert json.loads(target.with_suffix(".json").read_text())["train"] == to_dict(finished.train_cfg)
    elif fmt == "checkpoint":
        model, model_cfg, meta = load_checkpoint(target)
        assert model_cfg == finished.model_cfg and torch.equal(model(images), ref)
    elif fmt == "script":
        assert target.read_text() == training_script(finished.data_cfg, finished.model_cfg, finished.train_cfg,
                                                     finished.data_source)
    else:
        assert list(target.iterdir()) and all(p.name.startswith("events.out.tfevents") for p in target.iterdir())


def test_cli_refuses_a_run_without_a_model(diverged, tmp_path, capsys):
    for fmt in ("onnx", "torchscript", "safetensors", "checkpoint"):
        assert main(["export", diverged.id, "--format", fmt, "--out", str(tmp_path / f"m.{fmt}")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("nnplay export: diverged run diverged at step 1") and "no usable model" in err
        assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    # its code and its curve can still be had
    assert main(["export", diverged.id, "--format", "script", "--out", str(tmp_path / "train.py")]) == 0


def test_cli_refuses_a_run_whose_file_is_gone(tiny_data, tmp_path, capsys):
    run = stored_run(tiny_data, "lost run")
    for path in open_store().run_dir(run.id).iterdir():
        path.unlink()
    MODELS.clear()
    REGISTRY.clear()
    assert main(["export", run.id, "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 2
    assert "the model file of lost run is gone" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_run_or_file(tmp_path, capsys):
    assert main(["export", "zzzzzz", "--format", "script", "--out", str(tmp_path / "s.py")]) == 2
    err = capsys.readouterr().err
    assert "neither a checkpoint file nor a run" in err and "runs list" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_runs_export_tensorboard_writes_one_folder_per_run(tiny_data, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    first = stored_run(tiny_data, "first")
    second = stored_run(tiny_data, "second", lr=0.01)
    logdir = tmp_path / "logs"
    assert main(["runs", "export", first.id, second.id[:5], first.id, "--tensorboard", str(logdir)]) == 0
    assert sorted(p.name for p in logdir.iterdir()) == sorted([f"first-{first.id}", f"second-{second.id}"])
    for run in (first, second):
        acc = EventAccumulator(str(logdir / f"{run.name}-{run.id}"))
        acc.Reload()
        assert [s.value for s in acc.Scalars("loss/step")] == pytest.approx([s.loss for s in run.history.steps])
    assert f"tensorboard --logdir {logdir}" in capsys.readouterr().err
    # again into the same folder: refused before anything is written, nothing changes
    third = stored_run(tiny_data, "third")
    assert main(["runs", "export", third.id, first.id, "--tensorboard", str(logdir)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert len(list(logdir.iterdir())) == 2


@pytest.mark.slow
def test_runs_export_refuses_a_run_without_history_and_two_runs_in_one_csv(tiny_data, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    done = stored_run(tiny_data, "done")
    empty = Run("never trained", DATA, ModelConfig(hidden=(16,)), TrainConfig(epochs=1)).bind(open_store())
    assert main(["runs", "export", done.id, empty.id, "--tensorboard", str(tmp_path / "logs")]) == 2
    assert "has no history to write" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(["runs", "export", done.id, empty.id, "--csv", str(tmp_path / "m.csv")]) == 2
    assert "--csv writes one run" in capsys.readouterr().err
    assert main(["runs", "export", done.id, "--csv", str(tmp_path / "m.csv")]) == 0
    assert (tmp_path / "m.csv").read_text().startswith("step,")


@pytest.mark.slow
def test_runs_export_that_fails_midway_leaves_nothing(tiny_data, tmp_path, capsys, monkeypatch):
    pytest.importorskip("tensorboard")
    from nnplay.export import tensorboard

    first, second = stored_run(tiny_data, "first"), stored_run(tiny_data, "second")
    real = tensorboard._write_events
    calls = []

    def disk_full_on_the_second(history, configs, folder):
        calls.append(folder)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(history, configs, folder)

    monkeypatch.setattr(tensorboard, "_write_events", disk_full_on_the_second)
    assert main(["runs", "export", first.id, second.id, "--tensorboard", str(tmp_path / "logs")]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "nothing was kept" in err and "Traceback" not in err
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []
