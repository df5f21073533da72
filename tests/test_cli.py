"""The headless CLI: flags become configs, one JSON line at the end, checkpoints load back, bench runs."""

import json

import pytest

from nnplay.checkpoint import load_checkpoint
from nnplay.cli import main


def run_cli(capsys, *argv) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    return code, (json.loads(lines[-1]) if lines else None), err


def test_train_prints_one_json_line_and_saves(capsys, tmp_path):
    path = tmp_path / "model.pt"
    code, summary, err = run_cli(capsys, "train", "--preset", "seed-mlp", "--epochs", "2", "--seed", "0",
                                 "--train-limit", "1000", "--test-limit", "200", "--hidden", "64,32",
                                 "--activation", "tanh,relu", "--save", str(path))
    assert code == 0 and "epoch 2" in err
    for key in ("device", "epochs", "epoch_seconds", "test_accuracy", "parameters"):
        assert key in summary
    assert summary["epochs"] == 2 and len(summary["epoch_seconds"]) == 2
    assert summary["parameters"] == 784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10
    model, cfg, meta = load_checkpoint(path)
    assert cfg.hidden == (64, 32) and cfg.activation == ("tanh", "relu")
    assert meta["test_accuracy"] == summary["test_accuracy"]
    # the same writer as the Train page's download: the file brings back the run's settings and curves
    from nnplay.runs import run_from_checkpoint

    run, message = run_from_checkpoint("model.pt", path.read_bytes())
    assert run is not None and len(run.history.epochs) == 2 and run.history.steps
    assert run.final()["test_accuracy"] == summary["test_accuracy"]
    assert run.train_cfg.epochs == 2 and run.data_cfg.train_limit == 1000


def test_train_save_to_a_missing_folder_is_a_sentence(capsys, tmp_path):
    code, summary, err = run_cli(capsys, "train", "--epochs", "1", "--train-limit", "300", "--test-limit", "100",
                                 "--hidden", "8", "--quiet", "--save", str(tmp_path / "no" / "such" / "m.pt"))
    assert code == 2 and summary is None
    assert "could not be written to" in err and "Traceback" not in err


def test_bad_flag_values_give_a_sentence_not_a_traceback(capsys):
    code, summary, err = run_cli(capsys, "train", "--hidden", "0", "--quiet")
    assert code == 2 and summary is None and "hidden layer 1 has width 0" in err


def test_diverging_run_exits_1_with_status(capsys):
    code, summary, _ = run_cli(capsys, "train", "--optimizer", "sgd", "--lr", "10", "--epochs", "1",
                               "--train-limit", "2000", "--test-limit", "100", "--quiet")
    assert code == 1 and summary["status"] == "diverged" and summary["message"].startswith("diverged at step")


@pytest.mark.slow
def test_bench_compares_seed_loop_and_engine(capsys, mnist_dir):
    """A short bench (the first 5,000 images, one epoch): the engine beats the seed's DataLoader loop.

    The full benchmark (all 60,000 images, the targets in docs/benchmarks.md) is ``python -m nnplay bench``.
    """
    code, report, err = run_cli(capsys, "bench", "--epochs", "1", "--train-limit", "5000",
                                "--data-dir", str(mnist_dir))
    assert code == 0 and "speed-up" in err and "5,000 training images" in err
    assert report["train_images"] == 5000
    seed, engine = report["seed_epoch_seconds"][0], report["engine_epoch_seconds"][0]
    assert engine < seed, f"the engine ({engine:.2f} s) was not faster than seed 000's loop ({seed:.2f} s)"
    assert report["speedup"] > 1
    # one epoch on 5,000 images: both reach ~85%; their different inits and batch orders differ by ~1 point
    assert abs(report["seed_test_accuracy"] - report["engine_test_accuracy"]) < 0.03
    assert report["engine_test_accuracy"] > 0.7


def test_bench_refuses_a_bad_train_limit(capsys, mnist_dir):
    code, report, err = run_cli(capsys, "bench", "--train-limit", "0", "--data-dir", str(mnist_dir))
    assert code == 2 and report is None and "train_limit must be at least 1" in err


def test_a_network_too_large_for_the_memory_is_refused_before_it_is_built(capsys, monkeypatch):
    import nnplay.models

    monkeypatch.setattr(nnplay.models, "available_memory", lambda device: (2 * 10**9, "available RAM"))
    import nnplay.engine

    monkeypatch.setattr(nnplay.engine, "build_model", lambda cfg: pytest.fail("the model was built"))
    code, summary, err = run_cli(capsys, "train", "--hidden", "8192,8192,8192,8192", "--quiet")
    assert code == 2 and summary is None
    assert "needs about 3.4 GB" in err and "more than the 2.0 GB of available RAM" in err


def test_a_seed_out_of_range_is_a_sentence(capsys):
    code, summary, err = run_cli(capsys, "train", "--seed", "99999999999999999999999", "--quiet")
    assert code == 2 and summary is None and "the seed must be a whole number from 0 to 4,294,967,295" in err


@pytest.mark.slow
def test_the_json_line_names_a_preset_only_when_one_was_chosen(capsys):
    flags = ("--epochs", "1", "--train-limit", "300", "--test-limit", "100", "--quiet", "--no-store")
    code, summary, _ = run_cli(capsys, "train", "--hidden", "8", *flags)
    assert code == 0 and summary["preset"] is None
    assert summary["config"]["model"]["hidden"] == [8] and summary["config"]["train"]["batch_size"] == 256
    code, summary, _ = run_cli(capsys, "train", "--preset", "model-a", *flags)
    assert code == 0 and summary["preset"] == "model-a" and summary["config"]["model"]["activation"] == "sigmoid"


def test_runs_export_all_writes_one_row_per_run(capsys, tmp_path):
    """``runs export --all --csv FILE`` (and ``--parquet``): every run of the workspace, sweeps too, with its
    settings and each metric's summaries; --force as for one run's CSV."""
    import pandas as pd

    from nnplay.config import ModelConfig, TrainConfig
    from nnplay.store import open_store
    from tests.test_compare import add_run

    store = open_store()
    trained = add_run(store, (0.5, 0.9), train=TrainConfig(lr=1e-2, epochs=2))
    swept = [add_run(store, (0.6, 0.7), model=ModelConfig(hidden=(32,), activation="tanh"),
                     train=TrainConfig(epochs=2, seed=s), kind="sweep", group="widths") for s in (0, 1)]
    out = tmp_path / "runs.csv"
    assert main(["runs", "export", "--all", "--csv", str(out)]) == 0
    assert "wrote 3 runs" in capsys.readouterr().err
    table = pd.read_csv(out).set_index("id")
    assert list(table.index) == [trained, *swept]
    assert table.loc[trained, "lr"] == 1e-2 and table.loc[swept[1], "activation"] == "tanh"
    assert table.loc[swept[1], "sweep"] == "widths" and table.loc[swept[1], "seed"] == 1
    assert table.loc[trained, "test_accuracy_best"] == 0.9 and table.loc[trained, "test_accuracy_min"] == 0.5
    before = out.read_bytes()
    assert main(["runs", "export", "--all", "--csv", str(out), "--workspace", "other"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["runs", "export", "--all", "--csv", str(out), "--force", "--sweep", "widths"]) == 0
    assert list(pd.read_csv(out)["id"]) == swept
    parquet = tmp_path / "runs.parquet"
    assert main(["runs", "export", "--all", "--parquet", str(parquet)]) == 0
    assert list(pd.read_parquet(parquet)["id"]) == [trained, *swept]


@pytest.mark.parametrize("argv, words", [
    (["--csv", "X"], "or add --all"),
    (["--all", "RUN", "--csv", "X"], "leave out the run ids"),
    (["--parquet", "X"], "add --all"),
    (["--all", "--tensorboard", "X"], "not TensorBoard files"),
    (["--all", "--csv", "X", "--workspace", "empty"], "workspace 'empty' has no runs"),
])
def test_runs_export_all_refuses_what_it_cannot_do_with_a_sentence(capsys, tmp_path, argv, words):
    argv = [str(tmp_path / a) if a == "X" else a for a in argv]
    assert main(["runs", "export", *argv]) == 2
    assert words in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_counts_read_one_run_one_step_not_1_runs(capsys, tmp_path, tiny_data):
    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.runs import Run
    from nnplay.store import open_store

    run = Run("one", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(8,)),
              TrainConfig(epochs=1, batch_size=2000, device="cpu")).bind(open_store(), "local")
    run.start(tiny_data).wait()
    assert run.status == "finished" and len(run.history.steps) == 1
    assert main(["runs", "list"]) == 0
    assert capsys.readouterr().out.startswith("1 run in workspace 'local'")
    assert main(["runs", "export", run.id, "--csv", str(tmp_path / "one.csv")]) == 0
    assert f"wrote 1 step of {run.id}" in capsys.readouterr().err
