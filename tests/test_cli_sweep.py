"""``python -m nnplay sweep``: list flags become a plan, one JSON line per run, the runs kept where the app shows
them, bad input a sentence and exit 2 with nothing queued."""

import json

import pytest

from nnplay.cli import main
from nnplay.store import open_store
from nnplay.sweeps import LIVE

TINY = ("--train-limit", "300", "--test-limit", "100", "--hidden", "8", "--device", "cpu", "--download", "false")


@pytest.fixture(autouse=True)
def sample_only(tmp_path, monkeypatch):
    """The built-in sample (an empty data folder, no download) and no sweep left behind."""
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path / "no-data"))
    LIVE.clear()
    yield
    for sweep in LIVE.values():
        sweep.stop()
        sweep.wait(30)
    LIVE.clear()


def sweep(capsys, *argv) -> tuple[int, list[dict], str]:
    code = main(["sweep", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


@pytest.mark.slow  # trains several runs end to end (the fast lane keeps the unit tests of the same code)
def test_a_sweep_prints_one_line_per_run_and_keeps_them_for_the_app(capsys):
    code, lines, err = sweep(capsys, "--lr", "1e-3,1e-2", "--batch-size", "50,100", "--seeds", "2", "--epochs", "1",
                             "--name", "cli sweep", *TINY)
    assert code == 0, err
    assert len(lines) == 8 and {line["status"] for line in lines} == {"finished"}
    names = {line["name"] for line in lines}
    assert "lr=0.001 bs=50 seed=0" in names and "lr=0.01 bs=100 seed=1" in names
    for line in lines:
        assert line["test_accuracy"] is not None and line["epochs"] == 1
        assert line["config"]["train"]["lr"] == line["settings"]["lr"]
        assert line["config"]["model"]["hidden"] == [8] and line["config"]["data"]["train_limit"] == 300
    assert "sweep" in err and "8 finished" in err  # the progress bar and the summary on stderr
    # the best setting over its seeds, and how much the seed alone moves it, as the Sweeps page says it
    by = {}
    for line in lines:
        by.setdefault((line["settings"]["lr"], line["settings"]["batch_size"]), []).append(100 * line["test_accuracy"])
    # the best mean, and of equal means the narrower spread over the seeds (the runs print as they finish, so
    # settings still tied after that may be named in either order)
    rank = {setting: (round(sum(accs) / 2, 2), -round(max(accs) - min(accs), 2)) for setting, accs in by.items()}
    best = [(setting, by[setting]) for setting in by if rank[setting] == max(rank.values())]
    assert any(f"Best so far: Learning rate {lr:g}, Batch size {bs}: {sum(accs) / 2:.2f}% test accuracy (mean of 2 "
               f"seeds; the seed alone moves it from {min(accs):.2f}% to {max(accs):.2f}%)." in err
               for (lr, bs), accs in best), err
    # the same store and workspace as `train`: the app lists the sweep and its runs
    store = open_store()
    (record,) = store.list_sweeps("local")
    assert record.name == "cli sweep" and record.planned == 8 and record.counts == {"finished": 8}
    assert {r.id for r in store.sweep_runs(record.id)} == {line["run"] for line in lines}
    assert all(line["sweep"] == record.id for line in lines)


@pytest.mark.slow  # trains several runs end to end (the fast lane keeps the unit tests of the same code)
def test_one_value_flags_set_every_run_and_ranges_and_random_draws(capsys):
    code, lines, err = sweep(capsys, "--lr", "1e-3", "--seeds", "3", "--epochs", "1", "--quiet", *TINY)
    assert code == 0, err
    assert sorted(line["name"] for line in lines) == ["seed=0", "seed=1", "seed=2"]  # in the order they ended
    assert {line["config"]["train"]["lr"] for line in lines} == {1e-3}
    code, lines, err = sweep(capsys, "--lr", "1e-4:1e-2:3", "--activation", "relu", "--epochs", "1", "--quiet", *TINY)
    assert code == 0, err
    assert sorted(line["settings"]["lr"] for line in lines) == [1e-4, 1e-3, 1e-2]
    assert {line["config"]["model"]["activation"] for line in lines} == {"relu"}
    code, lines, err = sweep(capsys, "--lr", "1e-4:1e-1:2:log", "--width", "4,8,16", "--random", "3",
                             "--draw-seed", "5", "--epochs", "1", "--quiet", "--no-store", *TINY)
    assert code == 0, err
    assert len(lines) == 3 and all(1e-4 <= line["settings"]["lr"] <= 1e-1 for line in lines)
    assert all(line["sweep"] is not None for line in lines)
    assert len(open_store().list_sweeps("local")) == 2  # --no-store kept nothing


@pytest.mark.slow  # trains several runs end to end (the fast lane keeps the unit tests of the same code)
def test_halving_from_the_command_line_says_why(capsys, paced_runs):
    # the good rates first: listed worst first, each run may beat the ones before it at its rung and none stops
    code, lines, err = sweep(capsys, "--lr", "1e-2,2e-2,3e-2,1e-5,2e-5,5e-5", "--epochs", "9", "--batch-size", "10",
                             "--halving", "--quiet", *TINY)
    assert code == 0, err
    stopped = [line for line in lines if line["status"] == "stopped"]
    assert stopped and all(line["message"].startswith("Stopped early by successive halving") for line in stopped)
    assert {line["settings"]["lr"] for line in stopped} & {1e-5, 2e-5, 5e-5}, lines


@pytest.mark.parametrize("argv, sentence", [
    (("--lr", "1e-5:1:100", "--width", "100:8000:100"), "This sweep would be 10,000 runs"),
    (("--lr", ""), "Learning rate: no values given"),
    (("--batch-size", "64,abc"), "Batch size: 'abc' is not a whole number."),
    (("--lr", "1e-3,0"), "Learning rate: 0 is not above 0."),
    (("--lr", "1e-1:1e-3:3"), "Learning rate: the range's ends are swapped"),
    (("--lr", "1e-3,1e-3"), "Learning rate: 0.001 is given twice"),
    (("--lr", "1e-3", "--seeds", "0"), "Seeds: give how many seeds per setting"),
    (("--lr", "1e-3,1e-2", "--batch-size", "500"), "Batch size: 500 (run lr=0.001) is larger than the training set"),
    (("--lr", "1e-3,1e-2", "--hidden", "0"), "hidden layer 1 has width 0"),
    (("--lr", "1e-3"), "A sweep needs a setting with two or more values, or two or more seeds."),
])
def test_bad_input_exits_2_with_a_sentence_and_queues_nothing(capsys, argv, sentence):
    code, lines, err = sweep(capsys, *TINY, *argv)
    assert code == 2 and lines == []
    assert sentence in err and "Traceback" not in err
    assert open_store().list_sweeps("local") == [] and open_store().list_runs("local", kinds=None) == []
