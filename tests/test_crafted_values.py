"""Crafted values and live state (issue 27, points 8-12): each test reproduces a fault of the code before it.

What lives here: a seed the Seed box cannot hold disables Start with a sentence (point 8); run ids and
names with URLs show as plain text, a long ``?run=`` value cut (point 9); ``export --out`` and ``runs
export --csv`` refuse an existing file without ``--force`` (point 10); a time-limited run's outcome says
once that its model is kept (point 11); after Start the address bar names the new run even when a rerun
the browser sent before it heard of it arrives, and a renamed run shows its new name at once (point 12).
What does not live here: the store under faults, admission (other tests of issue 27).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.cli import main
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import RunControl
from nnplay.jobs import JobSpec
from nnplay.jobs.run_loop import run_job
from nnplay.runs import Run, workspace_runs
from nnplay.store import open_store
from nnplay.ui.outcome import outcome

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "train.py")
APP = str(ROOT / "app.py")


def kept_run(tiny_data, name: str, hidden: int = 8) -> Run:
    run = Run(name, DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(hidden,)),
              TrainConfig(epochs=1, batch_size=500, device="cpu", lr=0.05))
    run.bind(open_store(), "local")
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


# -- point 11: the time limit's sentence says "kept" once -------------------------------------------------


@pytest.mark.slow
def test_a_time_limited_run_says_once_that_its_model_is_kept(tiny_data):
    spec = JobSpec("capped", "ws", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(16,)),
                   TrainConfig(epochs=1000, batch_size=100, device="cpu"), name="capped")
    end = run_job(spec, lambda batch: None, RunControl(), max_seconds=0.5, data=tiny_data)
    assert end.status == "stopped" and end.message.startswith("time limit: the operator caps a run at")
    said = outcome(SimpleNamespace(status=end.status, message=end.message, usable=True)).text
    assert said.startswith("Time limit: the operator caps a run at 0.00833333 minutes (NNPLAY_MAX_RUN_MINUTES); "
                           "stopped at step ")
    assert said.endswith("; the model so far is kept and is now the current model."), said
    assert said.lower().count("kept") == 1 and ".." not in said


# -- point 10: an export never overwrites a file silently -----------------------------------------------


@pytest.mark.parametrize("fmt", ["script", "checkpoint", "safetensors"])
@pytest.mark.slow
def test_export_refuses_an_existing_file_unless_forced(tiny_data, tmp_path, capsys, fmt):
    run = kept_run(tiny_data, "exported")
    out = tmp_path / f"mine.{ {'script': 'py', 'checkpoint': 'pt', 'safetensors': 'safetensors'}[fmt] }"
    # the file the user already has: for safetensors, the .json beside the weights is theirs too
    kept = out.with_suffix(".json") if fmt == "safetensors" else out
    kept.write_text("my own file")
    capsys.readouterr()
    assert main(["export", run.id, "--format", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{kept} already exists; nothing was written" in err and "--force" in err
    assert kept.read_text() == "my own file"
    assert main(["export", run.id, "--format", fmt, "--out", str(out), "--force"]) == 0
    assert kept.read_bytes() != b"my own file"


@pytest.mark.slow
def test_runs_export_csv_refuses_an_existing_file_unless_forced(tiny_data, tmp_path, capsys):
    run = kept_run(tiny_data, "exported")
    out = tmp_path / "metrics.csv"
    out.write_text("my own file")
    capsys.readouterr()
    assert main(["runs", "export", run.id, "--csv", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} already exists; nothing was written. Choose another file, or add --force" in err
    assert out.read_text() == "my own file"
    assert main(["runs", "export", run.id, "--csv", str(out), "--force"]) == 0
    assert out.read_text() != "my own file" and "steps of" in capsys.readouterr().err


# -- point 8: a seed the page cannot take disables Start and says why ------------------------------------


def test_a_seed_of_2_to_the_53_or_more_disables_start_with_a_sentence():
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    assert not at.exception and not at.button(key="train_start").disabled
    # a number box in the browser drops 2**53 and more (JavaScript's safe integers) and keeps the old seed: the
    # Seed box must hand the page whatever was typed
    box = at.text_input(key="train_seed")
    assert box.value == "0"
    box.set_value(str(2**53 + 1)).run()
    assert not at.exception
    said = [e.value for e in at.error]
    assert "The seed must be a whole number from 0 to 4,294,967,295; got 9007199254740993." in said, said
    assert at.button(key="train_start").disabled and at.button(key="train_step_start").disabled
    assert "train" not in at.session_state["_train_configs"]
    at.text_input(key="train_seed").set_value("seven").run()
    assert "Seed: write a whole number, e.g. 10; got 'seven'." in [e.value for e in at.error]
    at.text_input(key="train_seed").set_value("1" * 5000).run()  # a pasted page of digits: a short sentence
    assert any(e.value.startswith("Seed: write a whole number") and len(e.value) < 120 for e in at.error)
    at.text_input(key="train_seed").set_value(" 42 ").run()
    assert not at.error and not at.button(key="train_start").disabled
    assert at.session_state["_train_configs"]["train"].seed == 42 and at.query_params["seed"] == "42"


# -- point 9: ids and names are plain text, cut when long ------------------------------------------------

# how Streamlit's markdown (remark-gfm) finds a bare link in text, escapes read: http(s)://, www., an e-mail's @
AUTOLINK = re.compile(r"(?i)(https?://|www\.)|[-.\w+]@[-\w]")


def bare_links(markdown: str) -> list[str]:
    return AUTOLINK.findall(re.sub(r"\\(.)", r"\1", markdown))


def test_a_crafted_run_link_is_printed_as_cut_plain_text():
    crafted = "http://evil.example/" + "x" * 100_000
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.query_params["run"] = crafted
    at.run()
    assert not at.exception
    (said,) = [w.value for w in at.warning if "No run has the id" in w.value]
    assert not bare_links(said), said[:200]
    shown = said.split("No run has the id ", 1)[1].split(":", 1)[0]  # the id, up to the sentence's colon
    assert len(shown) <= 85 and said.count("x") < 100 and "…" in said


@pytest.mark.slow
def test_a_run_name_with_urls_is_no_link(tiny_data):
    run = kept_run(tiny_data, "kept")
    run.name = "see http://evil.example/a, www.evil.example and me@evil.example"
    run.message = "its message"  # the runs list's caption says the picked run's name and message
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    (caption,) = [c.value for c in at.caption if "its message" in c.value]
    assert "evil.example" in caption and not bare_links(caption), caption


# -- point 12: a run's link and name are right at once ---------------------------------------------------


def _quick_settings(at: AppTest, seed: str) -> None:
    at.toggle(key="train_quick").set_value(True).run()
    for key, value in (("train_train_limit", "1000"), ("train_test_limit", "200"), ("train_epochs", "1"),
                       ("train_batch_size", "100")):
        at.text_input(key=key).set_value(value)
    at.text_input(key="train_seed").set_value(seed)
    at.run()
    assert not at.exception


def _wait_ended(at: AppTest, run) -> None:
    assert run.wait(120)
    at.run()
    assert not at.exception


@pytest.mark.slow
def test_after_start_the_link_names_the_new_run_even_after_a_stale_rerun():
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    _quick_settings(at, "1")
    before = dict(at.query_params)  # the address bar when Start is pressed
    at.button(key="train_start").click().run()
    (first,) = workspace_runs(open_store())
    assert at.query_params["run"] == first.id
    # a rerun the browser sent before it heard of the new link (the previous view ending, another click)
    # carries the old address: the session's own link stands
    at.query_params.clear()
    at.query_params.update(before)
    at.text_input(key="train_epochs").set_value("2")  # a change sent with the stale address is kept
    at.run()
    assert not at.exception and at.query_params["run"] == first.id
    assert at.text_input(key="train_epochs").value == "2" and at.query_params["epochs"] == "2"
    _wait_ended(at, first)
    assert at.query_params["run"] == first.id
    _quick_settings(at, "2")
    before = dict(at.query_params)
    assert before["run"] == first.id
    at.button(key="train_start").click().run()
    second = workspace_runs(open_store())[-1]
    assert second.id != first.id and at.query_params["run"] == second.id
    at.query_params.clear()
    at.query_params.update(before)  # a stale rerun that names the previous run
    at.run()
    assert not at.exception and at.query_params["run"] == second.id
    assert at.text_input(key="train_seed").value == "2"  # the controls keep the new run's settings
    _wait_ended(at, second)
    assert at.query_params["run"] == second.id


@pytest.mark.slow
def test_a_link_opened_in_the_session_still_opens_its_run(tiny_data):
    """The session's link stands against stale reruns, not against a link the user opens: a new session (a
    reload, a pasted link) opens what its address names."""
    older, newer = kept_run(tiny_data, "older", 8), kept_run(tiny_data, "newer", 12)
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.query_params["run"] = older.id
    at.run()
    assert at.query_params["run"] == older.id and at.text_input(key="train_hidden").value == "8"
    reload = AppTest.from_file(TRAIN, default_timeout=60)
    reload.query_params["run"] = newer.id
    reload.run()
    assert reload.query_params["run"] == newer.id and reload.text_input(key="train_hidden").value == "12"


@pytest.mark.slow
def test_a_renamed_run_shows_its_new_name_in_the_same_rerun(tiny_data):
    run = kept_run(tiny_data, "old name")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.selectbox(key="train_pick").options == ["old name"]
    at.text_input(key="train_rename").set_value("new name")
    at.button(key="train_rename_btn").click().run()
    assert not at.exception
    assert at.selectbox(key="train_pick").options == ["new name"]
    assert at.sidebar.selectbox(key="nnplay_model_pick").options[0] == "new name (finished)"
    assert open_store().get(run.id).name == "new name"
    # a select box's choice travels as its label: the browser shows the new one only when it is sent the value
    # again (else it keeps the old label until the next rerun); tests/browser/test_crafted_browser.py sees it
    for box, label in ((at.selectbox(key="train_pick"), "new name"),
                       (at.sidebar.selectbox(key="nnplay_model_pick"), "new name (finished)")):
        assert box.proto.set_value and box.proto.raw_value == label, box.proto


@pytest.mark.parametrize("key, typed, said", [
    ("train_epochs", str(2**53 + 1), "At most 1000 epochs; got 9007199254740993."),
    ("train_batch_size", str(2**53), "Batch size 9,007,199,254,740,992 is larger than the training set"),
    ("train_epochs", "1e3", "Epochs: write a whole number, e.g. 10; got '1e3'."),
    ("train_weight_decay", "1e400", "Weight decay: write a finite number, e.g. 0.001; got '1e400'."),
    ("train_max_loss", "inf", "Max loss: write a finite number, e.g. 0.001; got 'inf'."),
    ("train_log_every", "nan", "Log every: write a whole number, e.g. 10; got 'nan'."),
    ("train_train_limit", "-5", "Train_limit must be at least 1 image (or empty for all); got -5."),
])
def test_every_number_box_of_the_train_page_hands_the_page_what_was_typed(key, typed, said):
    """A number box in the browser drops what it cannot hold (2**53 and more, 1e400, a value above its max) and
    keeps the old value with Start enabled: every number of the Train page is a text box the page checks."""
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    if key.endswith("_limit"):
        at.toggle(key="train_quick").set_value(True).run()
    assert not at.exception and not at.button(key="train_start").disabled
    at.text_input(key=key).set_value(typed).run()
    assert not at.exception
    assert any(e.value.startswith(said) for e in at.error), [e.value for e in at.error]
    assert at.button(key="train_start").disabled and at.button(key="train_step_start").disabled


@pytest.mark.slow
def test_the_train_page_has_no_number_box_left():
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    for family, schedule, init in (("mlp", "step", "normal"), ("cnn", "step", "constant")):
        at.radio(key="train_family").set_value(family).run()
        at.selectbox(key="train_schedule").set_value(schedule).run()
        at.selectbox(key="train_init").set_value(init).run()
        at.toggle(key="train_quick").set_value(True).run()
        assert not at.exception
        assert not at.number_input, [n.key for n in at.number_input]


def test_read_number_refuses_what_a_number_box_would_drop():
    from nnplay.ui.number_box import read_number

    assert read_number("Steps", " 40 ", 10, 1000) == 40 and read_number("Images", "", 100, 500, optional=True) is None
    assert read_number("Rate", "0.5", 0, 1, whole=False) == 0.5
    for typed, got in ((str(2**53 + 1), "'9007199254740993'"), ("5000", "'5000'"), ("4.5", "'4.5'"),
                       ("", "''"), ("1" * 5000, "'" + "1" * 39 + "…'")):
        with pytest.raises(ValueError) as err:
            read_number("Steps", typed, 10, 1000)
        assert str(err.value) == f"Steps: write a whole number from 10 to 1,000; got {got}.", str(err.value)
    for typed in ("1e400", "inf", "nan"):
        with pytest.raises(ValueError, match="Rate: write a number from 0 to 1; got"):
            read_number("Rate", typed, 0, 1, whole=False)


@pytest.mark.slow
def test_the_experiments_and_race_buttons_wait_for_a_number_they_can_take():
    at = AppTest.from_file(str(ROOT / "pages" / "experiments.py"), default_timeout=60).run()
    assert not at.exception and not at.button(key="exp_run_lr").disabled
    at.text_input(key="exp_train_limit").set_value(str(2**53)).run()  # a number box kept the old count silently
    assert not at.exception and at.button(key="exp_run_lr").disabled
    assert any(e.value.startswith("Training images (empty: the study's default): write a whole number from 100 to")
               and "got '9007199254740992'" in e.value for e in at.error), [e.value for e in at.error]
    at.text_input(key="exp_train_limit").set_value("").run()  # empty: the study's default
    assert not at.error and not at.button(key="exp_run_lr").disabled
    at.radio(key="exp_study").set_value("range").run()
    at.text_input(key="exp_range_steps").set_value("5000").run()
    assert at.button(key="exp_range_run").disabled
    assert "Steps: write a whole number from 10 to 1,000; got '5000'." in [e.value for e in at.error]
    at.text_input(key="exp_range_steps").set_value("40").run()
    assert not at.error and not at.button(key="exp_range_run").disabled

    race = AppTest.from_file(str(ROOT / "pages" / "activations.py"), default_timeout=60).run()
    assert not race.exception and not race.button(key="act_race_start").disabled
    race.text_input(key="act_race_epochs").set_value("21").run()
    assert race.button(key="act_race_start").disabled
    assert "Epochs: write a whole number from 1 to 20; got '21'." in [e.value for e in race.error]
