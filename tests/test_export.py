"""Export: ONNX and TorchScript give the torch model's logits, safetensors round-trips, TensorBoard
files read back with tensorboard's own reader, the CLI writes each format, and bad input gets a
sentence with nothing half-written left behind."""

import json
import os
import sys
import zipfile

import pytest
import torch
from torch import nn

from nnplay.checkpoint import load_checkpoint, save_checkpoint
from nnplay.cli import main
from nnplay.config import PRESETS, DataConfig, ModelConfig, TrainConfig, to_dict
from nnplay.data import normalise
from nnplay.engine import seeded_model, train
from nnplay.export import (ExportError, atomic_write, export_model, export_onnx, export_safetensors,
                           export_torchscript, load_safetensors, model_bytes, onnx_logits, tensorboard_zip,
                           training_script, write_tensorboard)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")

MLP = ModelConfig(hidden=(64, 32), activation=("relu", "tanh"), init="he", dropout=0.2)
CNN = PRESETS["seed-cnn"].model


@pytest.fixture(scope="module")
def trained(sample_data):
    """An MLP and a CNN trained briefly on the sample (so the weights are not just their init)."""
    runs = {}
    for name, cfg, limit in (("mlp", MLP, 2000), ("cnn", CNN, 300)):
        model = seeded_model(cfg, 1)
        result = train(model, sample_data.limited(limit, 200),
                       TrainConfig(epochs=1, batch_size=100, device="cpu", seed=1))
        runs[name] = (model.eval(), cfg, result.history)
    return runs


@pytest.fixture(scope="module")
def images(sample_data):
    return normalise(sample_data.test_images[:1000])  # (1000, 1, 28, 28) in [0, 1]


def reference_logits(model, images):
    with torch.no_grad():
        return model.eval()(images)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_onnx_matches_torch(trained, images, tmp_path, family):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    model, _, _ = trained[family]
    path = export_onnx(model, tmp_path / "model.onnx")
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["image"] and [o.name for o in graph.output] == ["logits"]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [1, 28, 28]  # a dynamic batch
    got = onnx_logits(path, images)
    assert got.shape == (1000, 10)
    assert (got - reference_logits(model, images)).abs().max().item() < 1e-5
    assert model.training is False and next(model.parameters()).device.type == "cpu"


@pytest.mark.slow
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_torchscript_matches_torch(trained, images, tmp_path, family):
    model, _, _ = trained[family]
    path = export_torchscript(model, tmp_path / "model.pt")
    loaded = torch.jit.load(str(path))
    with torch.no_grad():
        got = loaded(images)
    assert (got - reference_logits(model, images)).abs().max().item() < 1e-5


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_safetensors_round_trip(trained, tmp_path, family):
    safetensors = pytest.importorskip("safetensors")
    model, cfg, _ = trained[family]
    weights, config_json = export_safetensors(model, cfg, tmp_path / "model.safetensors",
                                              extra={"train": {"lr": 0.001}})
    assert config_json.name == "model.json"
    assert json.loads(config_json.read_text()) == {"model": to_dict(cfg), "train": {"lr": 0.001}}
    with safetensors.safe_open(str(weights), framework="pt") as f:
        assert json.loads(f.metadata()["nnplay_model_config"]) == to_dict(cfg)
    loaded, loaded_cfg = load_safetensors(weights)
    assert loaded_cfg == cfg
    original, back = model.state_dict(), loaded.state_dict()
    assert original.keys() == back.keys()
    assert all(torch.equal(original[k], back[k]) for k in original)


def test_model_bytes_are_the_written_file(trained, images, tmp_path):
    model, cfg, _ = trained["mlp"]
    data = model_bytes(model, cfg, "torchscript")
    (tmp_path / "m.pt").write_bytes(data)
    with torch.no_grad():
        assert torch.equal(torch.jit.load(str(tmp_path / "m.pt"))(images[:50]), reference_logits(model, images[:50]))
    loaded, loaded_cfg, meta = load_checkpoint(model_bytes(model, cfg, "checkpoint", meta={"dataset": "mnist"}))
    assert loaded_cfg == cfg and meta == {"dataset": "mnist"}


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"the old file")

    def half_then_fail(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    atomic_write(target, lambda tmp: open(tmp, "wb").write(b"new"))
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_missing_folder_and_folder_target_are_sentences(tmp_path, trained):
    model, cfg, _ = trained["mlp"]
    with pytest.raises(ExportError, match="does not exist"):
        export_torchscript(model, tmp_path / "nope" / "m.pt")
    with pytest.raises(ExportError, match="is a folder"):
        export_torchscript(model, tmp_path)


class Unexportable(nn.Module):
    """An activation neither exporter can take: an FFT (no ONNX op) with *args (TorchScript refuses)."""

    def forward(self, x, *rest):
        return x + torch.fft.fft2(x).real


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.slow
def test_a_failing_cnn_export_names_the_layer(fmt, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnx")
    model = seeded_model(CNN, 0)
    model.act_2 = Unexportable()
    with pytest.raises(ExportError, match=r"failed at layer 'act_2' \(Unexportable\)"):
        export_model(model, CNN, fmt, tmp_path / "m.out")
    assert list(tmp_path.iterdir()) == []


def test_no_model_says_so(tmp_path):
    for fmt in ("onnx", "torchscript", "safetensors", "checkpoint"):
        with pytest.raises(ExportError, match="no model to export"):
            export_model(None, MLP, fmt, tmp_path / "m.out")
    assert list(tmp_path.iterdir()) == []


def test_onnx_missing_names_what_to_install(monkeypatch, tmp_path, trained):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    with pytest.raises(ExportError, match=r"'onnx'.*pip install -r requirements-export.txt"):
        export_onnx(trained["mlp"][0], tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_unknown_format(tmp_path, trained):
    with pytest.raises(ExportError, match="unknown model format 'keras'"):
        export_model(trained["mlp"][0], MLP, "keras", tmp_path / "m")


# ---------------------------------------------------------------------------------------------
# TensorBoard


def _accumulator(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_tensorboard_reads_back(trained, tmp_path):
    pytest.importorskip("tensorboard")
    _, cfg, history = trained["mlp"]
    folder = write_tensorboard(history, (DataConfig(), cfg, TrainConfig()), tmp_path / "tb")
    acc = _accumulator(folder)
    tags = acc.Tags()
    assert {"loss/step", "lr", "loss/train", "loss/test", "accuracy/train", "accuracy/test"} <= set(tags["scalars"])
    steps = acc.Scalars("loss/step")
    assert [s.step for s in steps] == [s.step for s in history.steps]
    assert [s.value for s in steps] == pytest.approx([s.loss for s in history.steps], rel=1e-6)
    (epoch,) = history.epochs
    (acc_test,) = acc.Scalars("accuracy/test")
    assert acc_test.step == epoch.step and acc_test.value == pytest.approx(epoch.test_accuracy)
    assert set(tags["histograms"]) == {f"{kind}/{name}" for kind in ("weights", "gradients")
                                        for name in ("lin_1", "lin_2", "lin_3")}
    stats = next(s for s in history.layer_stats if s.layer == "lin_1")
    (hist,) = acc.Histograms("weights/lin_1")
    assert hist.step == epoch.step
    assert list(hist.histogram_value.bucket) == stats.weight_hist[0]
    assert hist.histogram_value.num == 784 * 64
    assert hist.histogram_value.sum / hist.histogram_value.num == pytest.approx(stats.weight_mean, abs=1e-6)
    assert "config/model/text_summary" in tags["tensors"]


def test_tensorboard_zip_and_bad_folders(trained, tmp_path):
    pytest.importorskip("tensorboard")
    _, cfg, history = trained["cnn"]
    data = tensorboard_zip(history, {"model": cfg}, name="run-7")
    unpacked = tmp_path / "unzipped"
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
        names = zf.namelist()
        zf.extractall(unpacked)
    assert names and all(n.startswith("run-7/events.out.tfevents") for n in names)
    acc = _accumulator(unpacked / "run-7")
    assert len(acc.Scalars("loss/step")) == len(history.steps)
    assert "weights/conv_1" in acc.Tags()["histograms"]

    full = tmp_path / "full"
    full.mkdir()
    (full / "other").write_text("x")
    with pytest.raises(ExportError, match="not an empty folder"):
        write_tensorboard(history, None, full)
    with pytest.raises(ExportError, match="no history"):
        write_tensorboard(type(history)(), None, tmp_path / "empty-run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "unzipped"]


# ---------------------------------------------------------------------------------------------
# the CLI


@pytest.fixture
def checkpoint_file(trained, tmp_path):
    model, cfg, _ = trained["cnn"]
    path = tmp_path / "run.pt"
    train_cfg = TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, batch_size=64, epochs=3, seed=4)
    save_checkpoint(model, cfg, path, data_cfg=DataConfig(dataset="fashion-mnist"), train_cfg=train_cfg)
    return path, model, cfg, train_cfg


@pytest.mark.parametrize("fmt,out", [("onnx", "m.onnx"), ("torchscript", "m.ts"),
                                     ("safetensors", "m.safetensors"), ("checkpoint", "copy.pt"),
                                     ("script", "train_mnist.py")])
def test_cli_export_writes_each_format(checkpoint_file, images, tmp_path, capsys, fmt, out):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    source, model, cfg, train_cfg = checkpoint_file
    target = tmp_path / out
    assert main(["export", str(source), "--format", fmt, "--out", str(target)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == fmt and report["written"][0] == str(target)
    ref = reference_logits(model, images[:200])
    if fmt == "onnx":
        assert (onnx_logits(target, images[:200]) - ref).abs().max() < 1e-5
    elif fmt == "torchscript":
        assert (torch.jit.load(str(target))(images[:200]) - ref).abs().max() < 1e-5
    elif fmt == "safetensors":
        assert json.loads(target.with_suffix(".json").read_text())["train"] == to_dict(train_cfg)
        assert torch.equal(load_safetensors(target)[0](images[:200]), ref)
    elif fmt == "checkpoint":
        loaded, loaded_cfg, meta = load_checkpoint(target)
        assert loaded_cfg == cfg and meta["train"] == to_dict(train_cfg)
    else:
        text = target.read_text()
        assert text == training_script(DataConfig(dataset="fashion-mnist"), cfg, train_cfg)
        assert "optim.SGD(" in text and "default=0.05" in text and "default='fashion-mnist'" in text


@pytest.mark.parametrize("args,message", [
    (["missing.pt", "--format", "onnx"], "does not exist"),
    (["run.pt", "--format", "tensorboard"], "without its training history"),
])
def test_cli_export_bad_input(checkpoint_file, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["export", *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnplay export: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_export_to_a_folder_it_cannot_write(checkpoint_file, tmp_path, capsys, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("nnplay.export.formats.tempfile.mkstemp", denied)  # as in a read-only folder
    assert main(["export", str(checkpoint_file[0]), "--format", "script", "--out", str(tmp_path / "s.py")]) == 2
    err = capsys.readouterr().err
    assert "cannot write in" in err and "Permission denied" in err and "Traceback" not in err
    assert not (tmp_path / "s.py").exists()


def test_cli_export_refuses_junk_file(tmp_path, capsys):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    assert main(["export", str(junk), "--format", "torchscript", "--out", str(tmp_path / "m.ts")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnplay export: cannot export") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.pt"]
