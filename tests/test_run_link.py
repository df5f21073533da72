"""AppTest for a run's link and what the Train page does with a run record (``nnplay.ui.run_link``).

What lives here: ``/train?run=<id>`` opens the run (the controls show its configs, its view and its
link are on the page, its model becomes the picked one); the same link in another workspace is
read-only (no Stop, rename, delete or download of the owner's run, none of the owner's other runs)
with a "Copy to my runs" button that copies it; a link to a missing run says so; Start pressed again
from a page drawn before a run started (another tab, a reload in between) starts no second run;
``start_refusal``'s rules; a reloaded tab shares the run's live feed; deleting a training run stops it first and removes its files; the page
shows the runs' disk space; the Experiments and Activations pages read their last sweep back from
the store after a reload. Runs train on the built-in sample for one epoch. What does not live here:
the store itself (test_store.py), the picker on its own (test_store_pages.py), the browser
(tests/browser/test_store_browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.handwriting.digits_npz import save_digits
from nnplay.runs import Run, Sweep, workspace_runs
from nnplay.store import open_store
from nnplay.ui import FEEDS_KEY
from nnplay.ui.run_link import start_refusal

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "train.py")
APP = str(ROOT / "app.py")


def kept_run(tiny_data, name: str, hidden: int, workspace: str = "local") -> Run:
    run = Run(name, DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(hidden,)),
              TrainConfig(epochs=1, batch_size=500, device="cpu", lr=0.05))
    run.bind(open_store(), workspace)
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


def train_page(**query) -> AppTest:
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.info, at.warning, at.success, at.caption, at.code) for e in kind)


@pytest.mark.slow
def test_a_run_link_opens_its_settings_view_and_model(tiny_data):
    older = kept_run(tiny_data, "older", 8)
    kept_run(tiny_data, "newer", 12)
    at = train_page(run=older.id)
    assert at.text_input(key="train_hidden").value == "8"  # the controls show its configs
    assert at.text_input(key="train_train_limit").value == "2000"
    assert at.select_slider(key="train_lr").value == 0.05
    assert at.selectbox(key="train_pick").value == older.id  # the runs list selects it
    assert open_store().setting("local", "model") == older.id  # and its model is the picked one
    assert f"/train?run={older.id}" in texts(at)  # its link, copyable
    assert at.query_params["run"] == older.id  # the settings written to the address bar keep the link
    assert "belongs to another workspace" not in texts(at)
    assert "Finished 1 epoch in" in texts(at)


def test_a_link_to_a_missing_run_says_so():
    at = train_page(run="nosuchrun2")
    assert any("No run has the id nosuchrun2" in w.value for w in at.warning)


@pytest.mark.slow
def test_another_workspaces_run_is_read_only_and_can_be_copied(tiny_data, monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")
    theirs = kept_run(tiny_data, "their run", 8, workspace="their-workspace-token-1234")
    kept_run(tiny_data, "their other run", 12, workspace="their-workspace-token-1234")
    at = train_page(run=theirs.id)
    mine = at.session_state["nnplay_workspace"]
    assert mine != "their-workspace-token-1234"
    assert "belongs to another workspace" in texts(at)
    assert at.text_input(key="train_hidden").value == "8"  # its settings
    keys = {b.key for b in at.button}
    assert not keys & {"train_stop", "train_pause", "train_rename_btn", "train_delete"}
    # nothing of the owner's to download (the script beside Start is the controls' settings, shown anyway)
    assert [b.key for b in at.get("download_button")] == ["train_script_download"]
    assert "their other run" not in texts(at) and not workspace_runs(open_store(), mine)
    assert open_store().setting(mine, "model") is None  # not in this workspace's picker
    at.button(key="train_copy_run").click().run()
    assert not at.exception
    copies = workspace_runs(open_store(), mine)
    assert [c.name for c in copies] == ["their run"] and copies[0].id != theirs.id
    assert copies[0].usable and len(copies[0].history.steps) == len(theirs.history.steps)
    assert at.query_params["run"] == copies[0].id  # the link now names the copy, which is mine
    assert "belongs to another workspace" not in texts(at) and "now one of your runs" in texts(at)
    assert open_store().setting(mine, "model") == copies[0].id
    assert workspace_runs(open_store(), "their-workspace-token-1234")[0].id == theirs.id  # theirs is untouched



@pytest.mark.slow
def test_another_workspaces_run_on_their_digits_names_no_server_path(tiny_data, monkeypatch, tmp_path):
    monkeypatch.setenv("NNPLAY_WORKSPACES", "browser")
    digits = tmp_path / "private-folder" / "digits.npz"
    digits.parent.mkdir()
    save_digits(digits, tiny_data.train_images[:40].numpy(), tiny_data.train_labels[:40].numpy().astype("uint8"))
    theirs = Run("theirs", DataConfig(train_limit=2000, test_limit=500, extra_data=str(digits)),
                 ModelConfig(hidden=(8,)), TrainConfig(epochs=1, batch_size=500, device="cpu"))
    theirs.bind(open_store(), "their-workspace-token-1234")
    theirs.start(tiny_data).wait()
    at = train_page(run=theirs.id)
    at.session_state["train_link_cli_open"] = True
    at.run()
    assert not at.exception, at.exception
    line = next(c.value for c in at.code if c.language == "bash" and "--extra-data" in c.value)
    assert "private-folder" not in line and "--extra-data their-digits.npz" in line


def _long_run_settings(at: AppTest) -> None:
    at.toggle(key="train_quick").set_value(True).run()
    for key, value in (("train_train_limit", "5000"), ("train_test_limit", "500"), ("train_epochs", "50"),
                       ("train_batch_size", "8")):
        at.text_input(key=key).set_value(value)
    at.run()


@pytest.mark.slow
def test_start_pressed_again_from_a_stale_page_starts_no_second_run():
    first_tab = AppTest.from_file(TRAIN, default_timeout=60).run()
    _long_run_settings(first_tab)
    second_tab = AppTest.from_file(TRAIN, default_timeout=60).run()  # drawn before the run started
    _long_run_settings(second_tab)
    first_tab.button(key="train_start").click().run()
    try:
        runs = workspace_runs(open_store())
        assert len(runs) == 1 and runs[0].active
        assert first_tab.query_params["run"] == runs[0].id  # a reload of this tab opens the run again
        second_tab.button(key="train_start").click().run()  # its Start was enabled: no run trained then
        assert not second_tab.exception
        assert len(workspace_runs(open_store())) == 1 and runs[0].active
        assert any("did not begin a second one" in i.value for i in second_tab.info)
        reloaded = AppTest.from_file(TRAIN, default_timeout=60)
        reloaded.query_params["run"] = runs[0].id
        reloaded.run()  # a reload shows the live run with its Stop and Pause buttons
        assert {"train_stop", "train_pause"} <= {b.key for b in reloaded.button}
        # one feed renders the run's live view for both tabs: a reload adds no second rendering thread
        assert reloaded.session_state[FEEDS_KEY][runs[0].id] is first_tab.session_state[FEEDS_KEY][runs[0].id]
        # …until one of them picks other options: it gets its own feed, and the other's view does not change
        reloaded.slider(key="train_smoothing").set_value(0.9).run()
        mine, theirs = (tab.session_state[FEEDS_KEY][runs[0].id] for tab in (first_tab, reloaded))
        assert theirs is not mine and (mine.options["smoothing"], theirs.options["smoothing"]) == (0.6, 0.9)
        assert "smoothed (0.9)" in theirs.path.read_text() and "smoothed (0.9)" not in mine.path.read_text()
        assert mine.thread.is_alive() and not mine.closed
        reloaded.button(key="train_pause").click().run()
        assert runs[0].status == "paused"
        reloaded.button(key="train_stop").click().run()
        assert runs[0].wait(30) and runs[0].status == "stopped"
    finally:
        for run in workspace_runs(open_store()):
            run.stop()
            run.wait(30)


def test_start_refusal_rules():
    data, model, train = DataConfig(train_limit=1000), ModelConfig(hidden=(8,)), TrainConfig(epochs=1)
    active = Run("a", data, model, train, status="running", created=1000.0)
    assert start_refusal(None, (data, model, train), confirmed=False) is None
    same = start_refusal(active, (data, model, train), confirmed=True, now=1010.0)
    assert same and "same settings" in same  # a double click, even with the box ticked
    assert start_refusal(active, (data, model, TrainConfig(epochs=2)), confirmed=True, now=1010.0) is None
    assert start_refusal(active, (data, model, train), confirmed=True, now=1100.0) is None  # a deliberate restart
    stale = start_refusal(active, (data, model, TrainConfig(epochs=2)), confirmed=False, now=1010.0)
    assert stale and "tick" in stale


@pytest.mark.slow
def test_deleting_a_training_run_stops_it_and_removes_its_files(tiny_data):
    finished = kept_run(tiny_data, "finished one", 8)
    folder = open_store().run_dir(finished.id)
    assert folder.is_dir()
    at = train_page()
    _long_run_settings(at)
    at.button(key="train_start").click().run()
    training = workspace_runs(open_store())[-1]
    assert training.active
    assert any("Your runs take" in c.value and "KB" in c.value for c in at.caption)  # the space used
    at.selectbox(key="train_pick").set_value(training.id).run()
    at.button(key="train_delete").click().run()
    assert any("it stops training" in w.value for w in at.warning)  # asks first
    at.button(key="train_delete_confirm").click().run()
    assert not at.exception
    assert training.status == "stopped" and not training.active
    assert [r.id for r in workspace_runs(open_store())] == [finished.id]
    assert open_store().get(training.id) is None and not open_store().run_dir(training.id).exists()
    assert "run" not in at.query_params  # its link left the address bar
    at.selectbox(key="train_pick").set_value(finished.id).run()
    at.button(key="train_delete").click().run()
    at.button(key="train_delete_confirm").click().run()
    assert not folder.exists() and not workspace_runs(open_store())


@pytest.mark.parametrize("page, group, key", [
    ("activations.py", "activation race (models A-D)", None),
    ("experiments.py", "experiments/lr/quick", "lr"),
])
@pytest.mark.slow
def test_a_reload_shows_the_last_sweep_again(tiny_data, page, group, key):
    runs = [Run(f"sweep run {i}", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(8,)),
                TrainConfig(epochs=1, batch_size=500, device="cpu", lr=lr)) for i, lr in enumerate((0.1, 0.01))]
    sweep = Sweep(group, runs, tiny_data, store=open_store(), workspace="local").start()
    assert sweep.wait(120)
    assert not workspace_runs(open_store())  # sweeps stay out of the Train list
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)  # a new session: a reload
    if key:
        at.session_state["exp_study"] = key
    at.run()
    assert not at.exception
    tables = [df.value for df in at.dataframe]
    names = {str(v) for t in tables for col in t.columns for v in t[col]}
    assert {"sweep run 0", "sweep run 1"} <= names, names
    accuracy = {r.final()["test_accuracy"] for r in runs}
    shown = {round(float(v), 6) for t in tables for col in t.columns if "accuracy" in str(col).lower()
             for v in t[col] if v == v and v is not None and not isinstance(v, str)}
    assert {round(a, 6) for a in accuracy} <= shown, (accuracy, shown)
