"""The command line's ``train --extra-data mine.npz [--extra-weight W] [--replay N]``: a run on MNIST plus your own
digits, a bad digits file refused with exit 2 and a sentence before anything trains."""

import json

import numpy as np

from nnplay.cli import main
from nnplay.handwriting.digits_npz import save_digits
from nnplay.store import open_store


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    return code, (json.loads(lines[-1]) if lines else None), err


def test_train_with_extra_data_trains_on_the_digits_and_records_the_file(capsys, tmp_path, monkeypatch, sample_data):
    monkeypatch.chdir(tmp_path)
    save_digits(tmp_path / "mine.npz", sample_data.test_images[:40].numpy(), np.full(40, 3, np.uint8))
    code, summary, err = run_cli(capsys, "train", "--extra-data", "mine.npz", "--extra-weight", "2", "--replay", "100",
                                 "--train-limit", "500", "--test-limit", "100", "--hidden", "16", "--epochs", "1",
                                 "--quiet")
    assert code == 0, err
    assert summary["config"]["data"]["extra_data"] == str(tmp_path / "mine.npz")  # absolute: found from anywhere
    assert summary["config"]["data"]["extra_weight"] == 2 and summary["config"]["data"]["replay"] == 100
    assert open_store().history(summary["run"]).start.train_size == 100 + 2 * 40


def test_a_bad_digits_file_exits_2_with_the_sentence(capsys, tmp_path):
    (tmp_path / "photo.npz").write_bytes(b"\x89PNG not digits")
    code, summary, err = run_cli(capsys, "train", "--extra-data", str(tmp_path / "photo.npz"), "--quiet")
    assert code == 2 and summary is None
    assert "is not an .npz file" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "train", "--extra-data", str(tmp_path / "missing.npz"), "--quiet")
    assert code == 2 and "does not exist" in err


def test_extra_weight_without_extra_data_is_a_sentence(capsys):
    code, summary, err = run_cli(capsys, "train", "--extra-weight", "3", "--quiet")
    assert code == 2 and summary is None and "give extra_data" in err


def test_help_names_the_extra_data_flags(capsys):
    try:
        main(["train", "--help"])
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    assert "--extra-data" in text and "--extra-weight" in text and "--replay" in text


def test_runs_list_and_show_say_a_run_trained_on_your_digits(capsys, tmp_path):
    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.runs import Run

    store = open_store()
    ids = {}
    for name, data_cfg in (("mine", DataConfig(extra_data=str(tmp_path / "mine.npz"), extra_weight=3)),
                           ("plain", DataConfig())):
        run = Run(name, data_cfg, ModelConfig(hidden=(8,)), TrainConfig(epochs=1))
        run.data_source = "full"
        ids[name] = run.bind(store).id
    assert main(["runs", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "mnist + your digits" in rows[ids["mine"]] and "your digits" not in rows[ids["plain"]]
    assert main(["runs", "show", ids["mine"]]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == "mnist + your digits"
    assert main(["runs", "show", ids["plain"]]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == "mnist"
