"""Exporting a run trained on MNIST and your digits: its training script, its files and its command line.

What lives here: the script of a run on your digits reads them from the digits file exported beside it and mixes
them in exactly as ``data.with_extra_digits`` did (and, run whole, prints the engine's numbers); its docstring
says what it trains on; the Export panel's download is a zip of the script and the digits (a run on MNIST alone
keeps its single ``.py``); ``python -m nnplay export RUN --format script`` writes the digits beside the script and
refuses to overwrite them; digits that are gone are a sentence, never a script that trains on MNIST alone; a
fine-tuned run's script starts from the parent's weights exported beside it (and, run whole, matches the engine).
What does not live here: the script's other settings (test_export_script.py), the CLI line (test_codec.py).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from nnplay.cli import main
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.data import load_mnist, with_extra_digits
from nnplay.engine import seeded_model, train
from nnplay.export import ExportError, run_file, training_script
from nnplay.export.run import download_of, file_name, run_script, script_problem
from nnplay.handwriting.digits_npz import read_digits, save_digits
from nnplay.runs import Run
from nnplay.store import open_store

MODEL = ModelConfig(hidden=(16,))


def digits(tmp_path, n=30, name="mine.npz"):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)
    save_digits(tmp_path / name, images, labels)
    return str(tmp_path / name), images, labels


def test_the_scripts_digits_are_mixed_in_as_the_run_mixed_them(tiny_data, tmp_path):
    path, images, labels = digits(tmp_path)
    cfg = DataConfig(extra_data=path, extra_weight=2.5, replay=300)
    text = training_script(cfg, MODEL, TrainConfig(seed=7), digits_file="x-train-digits.npz", digit_count=30)
    script = tmp_path / "x-train.py"
    script.write_text(text)
    namespace = runpy.run_path(str(script), run_name="not_main")
    assert namespace["DIGITS_FILE"] == str(tmp_path / "x-train-digits.npz")  # beside the script, from any folder
    args = argparse.Namespace(extra_data=path, extra_weight=2.5, replay=300, seed=7)
    x, y = namespace["with_your_digits"](args, tiny_data.train_images, tiny_data.train_labels)
    expected = with_extra_digits(tiny_data, cfg, seed=7)
    assert torch.equal(x, expected.train_images) and torch.equal(y, expected.train_labels)
    assert "on MNIST and your digits" in text.splitlines()[0]
    assert "30 digits in x-train-digits.npz, each counted 2.5 times an epoch, beside 300 MNIST" in " ".join(text.split())
    assert "default=2.5" in text and "default=300" in text


def test_a_script_of_mnist_alone_is_unchanged_by_the_digits_option():
    text = training_script(DataConfig(), MODEL, TrainConfig())
    assert "with_your_digits" not in text and "numpy" not in text and "your digits" not in text


def stored(tiny_data, data_cfg, name="mine run"):
    run = Run(name, data_cfg, MODEL, TrainConfig(epochs=1, batch_size=200, seed=3)).bind(open_store())
    run.start(tiny_data).wait(60)
    assert run.status == "finished", run.message
    return run


def test_the_export_of_a_run_on_your_digits_is_a_zip_of_the_script_and_its_digits(tiny_data, tmp_path):
    path, images, labels = digits(tmp_path)
    run = stored(tiny_data, DataConfig(train_limit=2000, test_limit=500, extra_data=path, extra_weight=3))
    assert file_name(run, "script") == "nnplay-mine-run-train.zip" and download_of(run, "script")[1] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(run_file(run, "script"))) as zf:
        assert zf.namelist() == ["nnplay-mine-run-train.py", "nnplay-mine-run-train-digits.npz"]
        got_images, got_labels = read_digits(zf.read("nnplay-mine-run-train-digits.npz"))
        text = zf.read("nnplay-mine-run-train.py").decode()
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    assert "DIGITS_FILE = os.path.join(HERE, 'nnplay-mine-run-train-digits.npz')" in text and text == run_script(run)
    assert script_problem(run) == ""
    os.remove(path)  # the digits it trained on are gone: a sentence, not a script on MNIST alone
    with pytest.raises(ExportError, match="cannot be read now"):
        run_file(run, "script")
    assert "their file (" in script_problem(run) and "is gone" in script_problem(run)  # the panel's button says so


def test_a_run_on_mnist_alone_still_exports_one_py(tiny_data):
    run = stored(tiny_data, DataConfig(train_limit=2000, test_limit=500), "plain run")
    assert file_name(run, "script") == "nnplay-plain-run-train.py" and download_of(run, "script")[1] == "text/x-python"
    assert run_file(run, "script").decode() == training_script(run.data_cfg, run.model_cfg, run.train_cfg,
                                                                run.data_source)


def test_the_cli_writes_the_digits_beside_the_script_and_keeps_an_existing_file(tiny_data, tmp_path, capsys):
    path, images, _ = digits(tmp_path)
    run = stored(tiny_data, DataConfig(train_limit=2000, test_limit=500, extra_data=path, replay=500))
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", run.id, "--format", "script", "--out", str(out / "train.py")]) == 0
    written = json.loads(capsys.readouterr().out)["written"]
    assert written == [str(out / "train.py"), str(out / "train-digits.npz")]
    assert np.array_equal(read_digits(out / "train-digits.npz")[0], images)
    assert "--replay', type=int, default=500" in (out / "train.py").read_text()
    (out / "train.py").unlink()
    assert main(["export", run.id, "--format", "script", "--out", str(out / "train.py")]) == 2  # the digits are there
    assert "train-digits.npz already exists" in capsys.readouterr().err and not (out / "train.py").exists()
    assert main(["export", run.id, "--format", "script", "--out", str(out / "train.py"), "--force"]) == 0


@pytest.fixture(scope="module")
def torchvision_root(mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("torchvision")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (mnist_dir / "MNIST" / "raw").glob("*.gz"):
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    return root


@pytest.mark.slow
def test_the_exported_script_trains_on_the_digits_like_the_engine(mnist_dir, torchvision_root, tmp_path):
    path, _, _ = digits(tmp_path, n=50)
    data_cfg = DataConfig(data_dir=str(mnist_dir), download=False, train_limit=600, test_limit=300, extra_data=path,
                          extra_weight=2.5, replay=400)
    train_cfg = TrainConfig(epochs=2, batch_size=64, seed=5)
    text = training_script(data_cfg, MODEL, train_cfg, digits_file="s-digits.npz", digit_count=50)
    (tmp_path / "s.py").write_text(text)
    save_digits(tmp_path / "s-digits.npz", *read_digits(path))
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    done = subprocess.run([sys.executable, str(tmp_path / "s.py"), "--no-cuda", "--no-download", "--data-dir",
                           str(torchvision_root)], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "training on 525 images" in done.stdout  # 400 replayed MNIST images and 50 digits 2.5 times
    data = with_extra_digits(load_mnist(data_cfg), data_cfg, train_cfg.seed)
    result = train(seeded_model(MODEL, train_cfg.seed), data, train_cfg)
    accuracies = re.findall(r"Accuracy: (\d+)/300", done.stdout)
    assert [int(a) for a in accuracies] == [round(e.test_accuracy * 300) for e in result.history.epochs]


def test_a_fine_tuned_runs_export_brings_the_weights_it_started_from(tiny_data, tmp_path, capsys):
    from nnplay.handwriting.finetune import start_finetune
    from nnplay.jobs import thread_backend
    from nnplay.runs import find_run

    parent = stored(tiny_data, DataConfig(train_limit=2000, test_limit=500), "parent run")
    _, images, labels = digits(tmp_path, n=40)
    child, _ = start_finetune(open_store(), parent.id, images, labels, "local", epochs=1, replay=200,
                              data=tiny_data, backend=thread_backend())
    child.wait(60)
    assert child.status == "finished", child.message
    start = (open_store().run_dir(child.id) / "start.pt").read_bytes()
    with zipfile.ZipFile(io.BytesIO(run_file(find_run(open_store(), child.id), "script"))) as zf:
        names = zf.namelist()
        assert names[1:] == [names[0][:-3] + "-digits.npz", names[0][:-3] + "-start.pt"]
        assert zf.read(names[2]) == start
        text = zf.read(names[0]).decode()
    assert "--init-from" in text and "it started from its parent run's weights" in " ".join(text.split())
    assert main(["export", child.id, "--format", "script", "--out", str(tmp_path / "ft.py")]) == 0
    assert json.loads(capsys.readouterr().out)["written"][2] == str(tmp_path / "ft-start.pt")
    assert (tmp_path / "ft-start.pt").read_bytes() == start
    (open_store().run_dir(child.id) / "start.pt").unlink()
    with pytest.raises(ExportError, match="fine-tuned from its parent's weights, and they cannot be read now"):
        run_file(find_run(open_store(), child.id), "script")
    assert "they are gone" in script_problem(find_run(open_store(), child.id))


@pytest.mark.slow
def test_an_exported_fine_tune_starts_from_its_parents_weights_like_the_engine(mnist_dir, torchvision_root, tmp_path):
    from nnplay.checkpoint import read_checkpoint, save_checkpoint

    path, _, _ = digits(tmp_path, n=40)
    save_digits(tmp_path / "f-digits.npz", *read_digits(path))
    save_checkpoint(seeded_model(MODEL, 99), MODEL, tmp_path / "f-start.pt")  # the parent's weights
    data_cfg = DataConfig(data_dir=str(mnist_dir), download=False, train_limit=600, test_limit=300, extra_data=path,
                          extra_weight=2, replay=300)
    train_cfg = TrainConfig(epochs=1, batch_size=64, seed=4)
    (tmp_path / "f.py").write_text(training_script(data_cfg, MODEL, train_cfg, digits_file="f-digits.npz",
                                                   start_file="f-start.pt"))
    done = subprocess.run([sys.executable, str(tmp_path / "f.py"), "--no-cuda", "--no-download", "--data-dir",
                           str(torchvision_root)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    model = seeded_model(MODEL, train_cfg.seed)
    model.load_state_dict(read_checkpoint(tmp_path / "f-start.pt").model.state_dict())  # as run_loop.start_from
    result = train(model, with_extra_digits(load_mnist(data_cfg), data_cfg, train_cfg.seed), train_cfg)
    accuracies = re.findall(r"Accuracy: (\d+)/300", done.stdout)
    assert [int(a) for a in accuracies] == [round(e.test_accuracy * 300) for e in result.history.epochs]
