"""AppTest tests for the Train page, ``pages/train.py``.

What lives here: the page run headless by Streamlit's AppTest, widgets found by key: the controls
build the configs they show (and the link), presets, invalid settings disable Start with a
sentence, the link reproduces a configuration and a bad link falls back with a note, a one-epoch
run on a small subset finishes and is listed, Stop ends a run and keeps its model, a diverging
learning rate is reported as such, one run at a time, and uploads: bad files are refused with
a sentence and change nothing, a good one becomes a run; presets set every field they name, a seed
out of range and a network too large for the memory are refused beside their controls, an empty
rename says why, delete asks first, run names carry their start time, accuracies show two decimals
and the live view's file goes once its view is gone. Trainings use a few thousand images
and one epoch. What does not live here: the figures and the URL codec (their own tests), the
real browser (tests/browser).
"""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.checkpoint import checkpoint_bytes
from nnplay.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from nnplay.engine import seeded_model
from nnplay.runs import workspace_runs
from nnplay.store import open_store
from nnplay.ui import FEEDS_KEY

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


@pytest.fixture
def at():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    yield app
    for run in runs(app):
        run.stop()
        run.wait(30)


def configs(app: AppTest) -> dict:
    return app.session_state["_train_configs"]


def runs(app: AppTest) -> list:
    """The runs the page shows: the local workspace's, from the run store (this test's own, see conftest)."""
    return workspace_runs(open_store())


def errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error]


def quick(app: AppTest, train: int = 2000, test: int = 500, epochs: int = 1) -> AppTest:
    app.toggle(key="train_quick").set_value(True).run()
    app.text_input(key="train_train_limit").set_value(str(train))
    app.text_input(key="train_test_limit").set_value(str(test))
    app.text_input(key="train_epochs").set_value(str(epochs))
    return app.run()


def show_tab(app: AppTest, label: str) -> AppTest:
    """Open one of the tabs under the run (Runs, Compare, Load a model): only the open one is drawn."""
    if app.session_state["train_tab"] != label:
        app.session_state["train_tab"] = label
        app.run()
    return app


def runs_table(app: AppTest):
    """The runs list (AppTest does not expose a dataframe's key: it is the one with a training column)."""
    show_tab(app, "Runs")
    return next(df.value for df in app.dataframe if "training" in df.value.columns)


def start_long_run(app: AppTest) -> AppTest:
    """Start a run long enough (50 epochs of 5,000 images, batch 8) to act on while it trains."""
    quick(app, train=5000, epochs=50)
    app.text_input(key="train_batch_size").set_value("8").run()
    return app.button(key="train_start").click().run()


def live_views(app: AppTest) -> list[dict]:
    """The data of the page's live run views (nnplay.live_run components)."""
    return [json.loads(c.proto.json) for c in app.get("bidi_component")
            if c.proto.component_name == "nnplay.live_run"]


def poll(app: AppTest, done, timeout: float = 120) -> AppTest:
    """Rerun the page until ``done(app)`` holds; the run trains in its thread meanwhile."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        app.run()
        assert not app.exception
        if done(app):
            # the state may have changed while the page was drawn: draw it once more, now settled
            app.run()
            assert not app.exception
            return app
        time.sleep(0.3)
    raise AssertionError("the page did not reach the expected state in time")


# -- controls → configs --------------------------------------------------------------------------


def test_defaults_are_the_seed_mlp(at):
    c = configs(at)
    seed = PRESETS["seed-mlp"]
    assert c["model"] == seed.model
    assert c["train"] == TrainConfig(epochs=seed.train.epochs) == seed.train
    assert c["data"] == DataConfig()
    assert at.metric[0].value == "203,530"
    assert not errors(at)
    assert not at.button(key="train_start").disabled
    assert at.query_params == {}


@pytest.mark.slow
def test_controls_build_the_config_and_the_link(at):
    at.text_input(key="train_hidden").set_value("128, 64").run()
    at.radio(key="train_act_mode").set_value("per layer").run()
    at.selectbox(key="train_act_1").set_value("tanh")
    at.selectbox(key="train_act_2").set_value("gelu")
    at.selectbox(key="train_init").set_value("xavier")
    at.slider(key="train_dropout").set_value(0.2)
    at.selectbox(key="train_optimizer").set_value("sgd").run()
    at.select_slider(key="train_lr").set_value(0.05)
    at.slider(key="train_momentum").set_value(0.9)
    at.checkbox(key="train_nesterov").set_value(True)
    at.text_input(key="train_batch_size").set_value("100")
    at.text_input(key="train_epochs").set_value("3")
    at.text_input(key="train_weight_decay").set_value("0.0005")
    at.text_input(key="train_seed").set_value("7")
    at.selectbox(key="train_schedule").set_value("step").run()
    at.text_input(key="train_step_size").set_value("2")
    at.selectbox(key="train_dataset").set_value("fashion-mnist")
    at.run()
    assert not at.exception and not errors(at)
    c = configs(at)
    assert c["model"] == ModelConfig(hidden=(128, 64), activation=("tanh", "gelu"), init="xavier", dropout=0.2)
    assert c["train"] == TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, batch_size=100,
                                     epochs=3, weight_decay=0.0005, seed=7, schedule="step", step_size=2)
    assert c["data"].dataset == "fashion-mnist"
    assert at.query_params["hidden"] == "128,64"
    assert at.query_params["activation"] == "tanh,gelu"
    assert at.query_params["lr"] == "0.05"
    # 784·128+128 + 128·64+64 + 64·10+10
    assert at.metric[0].value == f"{784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10:,}"


def test_cnn_controls_and_a_cnn_that_leaves_no_pixels(at):
    at.radio(key="train_family").set_value("cnn").run()
    at.text_input(key="train_channels").set_value("16,32")
    at.text_input(key="train_kernel_size").set_value("5")
    at.text_input(key="train_padding").set_value("2")
    at.text_input(key="train_fc_width").set_value("128")
    at.run()
    assert not errors(at)
    assert configs(at)["model"] == ModelConfig(family="cnn", channels=(16, 32), kernel_size=5, padding=2,
                                               fc_width=128)
    at.text_input(key="train_kernel_size").set_value("9").run()
    at.text_input(key="train_stride").set_value("3").run()
    assert any("leaves no pixels" in e for e in errors(at))
    assert at.button(key="train_start").disabled
    assert "model" not in configs(at)


@pytest.mark.parametrize("key, value, words", [
    ("train_hidden", "256,0", "width 0"),
    ("train_hidden", "256,x", "whole numbers"),
    ("train_epochs", "0", "at least 1 epoch"),
    ("train_batch_size", "60001", "larger than the training set"),
])
def test_invalid_settings_say_why_and_disable_start(at, key, value, words):
    widget = at.text_input(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert any(words in e for e in errors(at)), errors(at)
    assert at.button(key="train_start").disabled
    # fixing it enables Start again
    widget.set_value({"train_hidden": "256", "train_epochs": "1", "train_batch_size": "256"}[key]).run()
    assert not errors(at)
    assert not at.button(key="train_start").disabled


def test_batch_larger_than_the_quick_subset_is_refused(at):
    quick(at, train=500)
    at.text_input(key="train_batch_size").set_value("512").run()
    assert any("larger than the training set (500 images)" in e for e in errors(at))
    assert at.button(key="train_start").disabled


def test_presets_fill_the_controls(at):
    at.button(key="train_preset_model-d").click().run()
    c = configs(at)
    assert c["model"] == PRESETS["model-d"].model
    assert c["train"] == PRESETS["model-d"].train
    assert at.text_input(key="train_hidden").value == "100,100"
    at.button(key="train_preset_seed-cnn").click().run()
    assert configs(at)["model"] == PRESETS["seed-cnn"].model
    assert not errors(at)


# -- the link --------------------------------------------------------------------------------------


def test_a_link_reproduces_the_configuration():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update({"hidden": "100,100", "activation": "tanh", "optimizer": "sgd", "lr": "0.1",
                             "batch_size": "100", "epochs": "2", "train_limit": "3000", "test_limit": "600"})
    app.run()
    assert not app.exception and not errors(app)
    c = configs(app)
    assert c["model"] == ModelConfig(hidden=(100, 100), activation="tanh")
    assert c["train"] == TrainConfig(optimizer="sgd", lr=0.1, batch_size=100, epochs=2)
    assert c["data"] == DataConfig(train_limit=3000, test_limit=600)
    assert app.toggle(key="train_quick").value is True
    assert app.text_input(key="train_hidden").value == "100,100"


def test_a_bad_link_falls_back_with_a_note():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.query_params.update({"hidden": "lots", "lr": "fast", "optimizer": "sgd", "nesterov": "true"})
    app.run()
    assert not app.exception
    notes = " ".join(w.value for w in app.warning)
    assert "hidden='lots'" in notes and "lr='fast'" in notes and "refused" in notes
    c = configs(app)
    # only the bad fields fall back: nesterov (it needs momentum), not the optimizer the link chose
    assert c["model"] == ModelConfig() and c["train"] == TrainConfig(optimizer="sgd")
    assert "refused for nesterov" in notes


# -- training --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_one_epoch_run_finishes_and_is_listed(at):
    quick(at)
    at.text_input(key="train_batch_size").set_value("64").run()  # 32 steps: enough to learn something real
    at.button(key="train_start").click().run()
    assert not at.exception
    assert len(runs(at)) == 1
    poll(at, lambda a: runs(a)[0].status == "finished")
    run = runs(at)[0]
    assert run.data_cfg == DataConfig(train_limit=2000, test_limit=500)
    assert run.train_cfg.batch_size == 64 and run.train_cfg.epochs == 1
    assert run.final()["test_accuracy"] > 0.8
    assert any(re.search(r"Finished 1 epoch in (?!0\.0 s)", s.value) for s in at.success)  # one epoch; a time
    table = runs_table(at)
    assert list(table["run"]) == [run.name]
    assert list(table["status"]) == ["finished"]
    assert table["test acc"][0] == pytest.approx(run.final()["test_accuracy"])
    # the finished run's view is drawn once from its snapshot: status, progress, both charts
    (view,) = live_views(at)
    assert "url" not in view and view["run"] == run.id
    snap = view["snapshot"]
    assert snap["active"] is False and snap["status"] == "finished" and snap["fraction"] == 1.0
    assert snap["progress"].startswith("epoch 1/1 · step 32/32")
    hint, times = snap["caption"].split(" · ", 1)  # a run this quick is too fast to watch: the speed hint first
    assert "Speed under Start" in hint and times.startswith("Epoch training times (s): ")
    assert len(snap["figures"]) == 5  # and "Watch it learn" (on for this small model): probes, first layer, network
    loss, per_epoch = (json.loads(f) for f in snap["figures"][:2])
    assert loss["layout"]["title"]["text"] == "Loss per step"
    assert loss["data"][0]["x"] == [s.step for s in run.history.steps]
    assert loss["data"][0]["y"] == pytest.approx([s.loss for s in run.history.steps])
    assert per_epoch["data"][1]["y"] == pytest.approx([run.final()["test_loss"]])


@pytest.mark.slow
def test_stop_ends_the_run_and_keeps_the_model(at):
    start_long_run(at)
    run = runs(at)[0]
    poll(at, lambda a: len(run.history.steps) >= 10)
    # while it trains, the view polls a file the feed rewrites: no rerun of the page is needed
    (view,) = live_views(at)
    feed = at.session_state[FEEDS_KEY][run.id]
    assert "snapshot" not in view and view["url"].endswith("/component/nnplay.ui.live.feeds/" + feed.path.name)
    assert view["period_ms"] <= 500  # at least twice a second
    # the page carries the feed's snapshot as it was drawn, so the view shows at once (then fetches)
    drawn = json.loads(view["initial"])
    assert drawn["active"] is True and drawn["title"] == run.name and drawn["version"] <= feed.version
    first = json.loads(feed.path.read_text())
    assert first["active"] is True and first["status"] == "running" and first["title"] == run.name
    deadline = time.time() + 30
    while json.loads(feed.path.read_text())["version"] == first["version"] and time.time() < deadline:
        time.sleep(0.1)
    later = json.loads(feed.path.read_text())
    assert later["version"] > first["version"] and later["progress"] != first["progress"]
    at.slider(key="train_smoothing").set_value(0.9).run()  # the view moves to a feed with the new smoothing
    smoothed = at.session_state[FEEDS_KEY][run.id]
    assert smoothed is not feed and "smoothed (0.9)" in smoothed.path.read_text()  # written as it started
    assert live_views(at)[0]["url"].endswith(smoothed.path.name)
    feed.thread.join(10)  # the old one had no other viewer: it stops while the run goes on
    assert not feed.thread.is_alive() and feed.closed and run.active
    feed = smoothed
    at.button(key="train_stop").click().run()
    poll(at, lambda a: not run.active)
    feed.thread.join(10)
    assert json.loads(feed.path.read_text())["active"] is False  # the view's last fetch reruns the page
    assert run.status == "stopped"
    assert run.model is not None and run.usable
    assert any("model trained so far is kept" in i.value for i in at.info)
    assert list(runs_table(at)["status"]) == ["stopped"]


@pytest.mark.slow
def test_a_diverging_learning_rate_is_reported(at):
    quick(at)
    at.selectbox(key="train_optimizer").set_value("sgd").run()
    at.select_slider(key="train_lr").set_value(10.0).run()
    at.button(key="train_start").click().run()
    run = runs(at)[0]
    poll(at, lambda a: not run.active)
    assert run.status == "diverged"
    step = run.history.end.step
    assert step <= 20
    text = " ".join(w.value for w in at.warning)
    assert f"diverged at step {step}" in text and "lower the learning rate" in text
    assert len(run.history.steps) == step - 1  # the curve up to the bad step is kept
    assert list(runs_table(at)["status"]) == [f"diverged at step {step}"]


@pytest.mark.slow
def test_one_run_at_a_time_start_asks_first(at):
    start_long_run(at)
    first = runs(at)[0]
    assert first.active
    assert at.button(key="train_start").disabled  # asks first
    assert any("still training" in w.value for w in at.warning)
    # changing a control does not stop or restart the run
    at.text_input(key="train_seed").set_value("3").run()
    assert first.active and len(runs(at)) == 1
    at.checkbox(key="train_confirm").check().run()
    assert not at.button(key="train_start").disabled
    at.button(key="train_start").click().run()
    assert len(runs(at)) == 2
    assert first.status == "stopped"
    second = runs(at)[1]
    assert second.train_cfg.seed == 3
    second.stop()
    poll(at, lambda a: not second.active)


# -- uploads -------------------------------------------------------------------------------------


class NotWeights:
    """Pickled with torch.save, loading this needs code: weights_only refuses it."""

    def __reduce__(self):
        return (print, ("this would run on load",))


def _upload(app: AppTest, name: str, data: bytes) -> AppTest:
    show_tab(app, "Load a model")
    return app.file_uploader(key="train_upload").set_value((name, data, "application/octet-stream")).run()


def _pickle_with_code() -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": "nnplay-checkpoint/1", "evil": NotWeights()}, buffer)
    return buffer.getvalue()


def _good_checkpoint() -> bytes:
    cfg = ModelConfig(hidden=(32,))
    return checkpoint_bytes(seeded_model(cfg, 0), cfg, meta={"name": "tiny", "test_accuracy": 0.5})


@pytest.mark.parametrize("name, data, words", [
    ("notes.txt", b"hello, not a model", "not a PyTorch checkpoint"),
    ("other.pt", b"not a model at all", "only plain nnplay checkpoints"),
    ("empty.pt", b"", "empty"),
    ("code.pt", _pickle_with_code(), "Python objects other than weights"),
    ("cut.pt", _good_checkpoint()[:2000], "damaged"),
])
def test_an_invalid_upload_is_refused_and_changes_nothing(at, name, data, words):
    _upload(at, name, data)
    assert not at.exception
    assert any(name in e and words in e for e in errors(at)), errors(at)
    assert not any("weights_only" in e for e in errors(at))  # no advice to switch the safety off
    assert runs(at) == []


def test_a_good_upload_becomes_the_current_model(at):
    _upload(at, "tiny.pt", _good_checkpoint())
    assert not at.exception and not errors(at)
    assert len(runs(at)) == 1
    run = runs(at)[0]
    assert run.status == "loaded" and run.usable
    assert run.model_cfg == ModelConfig(hidden=(32,))
    assert any("Loaded tiny.pt" in s.value for s in at.success)


@pytest.mark.slow
def test_pause_and_resume(at):
    start_long_run(at)
    run = runs(at)[0]
    poll(at, lambda a: len(run.history.steps) >= 10)
    at.button(key="train_pause").click().run()
    assert run.status == "paused" and run.job.status == "paused"
    assert at.button(key="train_pause").label == "Resume"
    assert run.job.caught_up(30)  # every step trained before the pause has been delivered (Pause waits 1 s at most)
    steps = len(run.history.steps)
    time.sleep(1.0)
    assert len(run.history.steps) <= steps + run.train_cfg.log_every  # at most the burst in flight
    at.button(key="train_pause").click().run()
    assert run.status == "running"
    at.button(key="train_stop").click().run()
    poll(at, lambda a: not run.active)
    assert run.status == "stopped"


@pytest.mark.slow
def test_the_speed_is_chosen_before_start_and_the_run_starts_at_it(at):
    speed = at.selectbox(key="train_speed")  # under Start, labelled, before any run
    assert speed.value == "full speed" and speed.label == "Speed" and speed.proto.label_visibility.value == 0
    speed.set_value("2 steps/s").run()
    quick(at, train=5000, epochs=50)
    at.button(key="train_start").click().run()
    assert not at.exception
    (run,) = runs(at)
    assert run.rate == 2.0 and run.active  # it starts at the speed chosen
    speed = at.selectbox(key="train_speed")  # now beside its Stop and Pause (one menu), with the same choice
    assert speed.value == "2 steps/s" and speed.proto.label_visibility.value != 0
    speed.set_value("full speed").run()
    assert run.rate is None  # and a change reaches the run at once
    at.button(key="train_stop").click().run()
    poll(at, lambda a: not run.active)
    assert at.selectbox(key="train_speed").value == "full speed"  # back under Start, the choice kept


def _status_page():
    import streamlit as st

    from nnplay.config import DataConfig, ModelConfig, TrainConfig
    from nnplay.figures.train import live_view_content
    from nnplay.runs import Run
    from nnplay.ui.live import live_run_view, sidebar_status

    run = st.session_state.setdefault("run", Run("r", DataConfig(), ModelConfig(hidden=(8,)), TrainConfig()))
    run.status = "queued"
    st.sidebar.caption(f"Training: r ({sidebar_status(run)})")  # as app.py does, before the page
    run.status = st.session_state.get("next", "running")  # its start (or its end) arrives while the page is drawn
    live_run_view(run, live_view_content, key="view")
    run.status = "stopped"  # and its feed ends


def test_the_view_compares_its_news_with_what_the_sidebar_said():
    """The sidebar is drawn first; a status that changed before the view was drawn still makes the view rerun
    the page (its snapshot says "running", the page was drawn saying something else), so the sidebar follows."""
    at = AppTest.from_function(_status_page, default_timeout=60).run()
    assert not at.exception
    said = at.sidebar.caption[0].value
    (view,) = live_views(at)
    assert said == f"Training: r ({view['run_status']})" and view["run_status"] != "running"
    # a run that ended after the sidebar said it trains: its view, drawn once, still says what the sidebar said
    at.session_state["next"] = "stopped"
    at.run()
    (view,) = live_views(at)
    assert view["snapshot"]["status"] == "stopped"
    assert at.sidebar.caption[0].value == f"Training: r ({view['run_status']})"


def _two_runs(app: AppTest) -> list:
    quick(app, train=1000, test=200)
    app.text_input(key="train_batch_size").set_value("100").run()
    app.button(key="train_start").click().run()
    poll(app, lambda a: not runs(a)[-1].active)
    app.text_input(key="train_seed").set_value("1").run()
    app.button(key="train_start").click().run()
    poll(app, lambda a: len(runs(a)) == 2 and not runs(a)[-1].active)
    return runs(app)


@pytest.mark.slow
def test_compare_rename_delete_and_metrics(at):
    first, second = _two_runs(at)
    assert first.status == second.status == "finished"
    # compare: both runs chosen by default; the table shows the one setting in which they differ
    show_tab(at, "Compare")
    assert at.multiselect(key="train_compare").value == [first.id, second.id]
    table = next(df.value for df in at.dataframe if "test accuracy" in df.value.columns)
    assert list(table["run"]) == [first.name, second.name]
    assert list(table["seed"]) == ["0", "1"]
    assert "batch_size" not in table.columns and "lr" not in table.columns
    assert list(table["test accuracy"]) == [r.final()["test_accuracy"] for r in (first, second)]
    # the metrics CSV: one row per step, the epoch's numbers on its last step
    from nnplay.runs import metrics_csv

    lines = metrics_csv(first).strip().splitlines()
    assert lines[0].startswith("step,epoch,loss,lr,train_loss,train_accuracy,test_loss,test_accuracy")
    assert len(lines) == 1 + 10  # 1,000 images / 100 per step
    assert lines[-1].split(",")[7] == str(first.final()["test_accuracy"])
    # rename, then delete the first run
    show_tab(at, "Runs")
    at.selectbox(key="train_pick").set_value(first.id).run()
    at.text_input(key="train_rename").set_value("baseline").run()
    at.button(key="train_rename_btn").click().run()
    assert first.name == "baseline"
    assert "baseline" in list(runs_table(at)["run"])
    at.button(key="train_delete").click().run()
    assert runs(at) == [first, second]  # delete asks first
    assert any(f"Delete {first.name}?" in w.value for w in at.warning)
    at.button(key="train_delete_confirm").click().run()
    assert not at.exception
    assert runs(at) == [second]
    assert list(runs_table(at)["run"]) == [second.name]


def test_an_oversized_upload_is_refused(at, monkeypatch):
    import nnplay.checkpoint

    monkeypatch.setattr(nnplay.checkpoint, "MAX_BYTES", 10_000)  # the real limit is 200 MB
    _upload(at, "big.pt", _good_checkpoint())
    assert any("big.pt was not loaded" in e and "nnplay models are at most" in e for e in errors(at)), errors(at)
    assert runs(at) == []


# -- rough edges -----------------------------------------------------------------------------------


def test_a_preset_sets_every_field_it_names_and_says_which_it_left(at):
    quick(at, train=5000)
    at.text_input(key="train_seed").set_value("7").run()
    at.button(key="train_preset_model-a").click().run()
    c = configs(at)
    assert c["data"] == DataConfig()  # the quick subset is gone: the seeds train on all of it
    assert at.toggle(key="train_quick").value is False
    assert c["model"] == PRESETS["model-a"].model
    assert c["train"] == TrainConfig(**{**vars(PRESETS["model-a"].train), "seed": 7})  # the seed stays
    note = " ".join(i.value for i in at.info)
    assert "left these as they were: dataset mnist, seed 7, device auto" in note


def test_a_seed_out_of_range_is_refused_beside_its_control(at):
    at.text_input(key="train_seed").set_value(str(2**40)).run()
    assert not at.exception
    assert any("seed must be a whole number from 0 to 4,294,967,295" in e for e in errors(at))
    assert at.button(key="train_start").disabled and "train" not in configs(at)


def test_a_network_too_large_for_the_memory_disables_start(at, monkeypatch):
    import nnplay.models

    monkeypatch.setattr(nnplay.models, "available_memory", lambda device: (2 * 10**9, "available RAM"))
    at.text_input(key="train_hidden").set_value("8192,8192,8192,8192").run()
    assert not at.exception
    (sentence,) = [e for e in errors(at) if "needs about" in e]
    assert "3.4 GB" in sentence and "more than the 2.0 GB of available RAM" in sentence
    assert at.button(key="train_start").disabled
    assert "model" in configs(at)  # the settings are valid: the network is shown, it just does not fit
    at.text_input(key="train_hidden").set_value("256").run()
    assert not errors(at) and not at.button(key="train_start").disabled


@pytest.mark.slow
def test_an_empty_rename_says_why_and_delete_can_be_cancelled(at):
    _upload(at, "tiny.pt", _good_checkpoint())
    (run,) = runs(at)
    name = run.name
    show_tab(at, "Runs")
    at.text_input(key="train_rename").set_value("   ").run()
    at.button(key="train_rename_btn").click().run()
    assert run.name == name
    assert any("A run needs a name" in e for e in errors(at))
    at.button(key="train_delete").click().run()
    at.button(key="train_delete_cancel").click().run()
    assert runs(at) == [run] and not any("Delete" in w.value for w in at.warning)


def _column_format(app: AppTest, column: str) -> dict:
    """How the runs table tells the browser to show a column (its column config)."""
    frame = next(df for df in show_tab(app, "Runs").dataframe if column in df.value.columns)
    return json.loads(frame.proto.columns)[f"{column}"]


@pytest.mark.slow
def test_a_finished_run_names_its_numbers_and_its_files_go(at, monkeypatch):
    import nnplay.ui.feed

    monkeypatch.setattr(nnplay.ui.feed, "LINGER_S", 0.2)
    quick(at, train=1000, test=200)
    at.text_input(key="train_batch_size").set_value("100").run()
    at.button(key="train_start").click().run()
    (run,) = runs(at)
    assert re.fullmatch(r"run 1 · \d\d:\d\d:\d\d · MLP 784-256-10 relu", run.name)  # told apart by time
    view = live_views(at)[0]
    assert view.get("scroll") is True  # brought into the window as it starts
    poll(at, lambda a: not run.active)
    assert "scroll" not in live_views(at)[0]
    # the table: every accuracy with two decimals; the sentence says why train trails test
    # (the browser formats: a percentage with as many decimals as the step's beyond two, so 0.0001 → 91.23%)
    for column in ("test acc", "train acc"):
        assert _column_format(at, column) == {"label": column, "type_config": {"type": "number", "format": "percent",
                                                                               "step": 0.0001}}, column
        assert 0 < runs_table(at)[column].iloc[0] <= 1  # a fraction, which "percent" multiplies by 100
    assert _column_format(at, "time (s)")["type_config"]["format"] == "%.2f"  # seconds too: 3.58, not 3.580000
    assert any("measured on each batch while the network was still learning" in s.value for s in at.success)
    # the live view's file is deleted once its view has read it (here after 0.2 s)
    feed = at.session_state[FEEDS_KEY][run.id]
    deadline = time.time() + 10
    while feed.path.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not feed.path.exists()


@pytest.mark.slow
def test_the_learning_rate_can_be_typed_as_well_as_slid(at):
    at.text_input(key="train_lr_typed").input("0.1").run()
    assert not at.exception
    assert configs(at)["train"].lr == 0.1 and at.select_slider(key="train_lr").value == 0.1
    at.text_input(key="train_lr_typed").input("0.07").run()  # between the slider's stops: a stop of its own
    assert configs(at)["train"].lr == 0.07 and at.select_slider(key="train_lr").value == 0.07
    assert at.query_params["lr"] in ("0.07", ["0.07"])  # the link keeps it
    at.select_slider(key="train_lr").set_value(0.003).run()  # the box follows the slider
    assert at.text_input(key="train_lr_typed").value == "0.003" and configs(at)["train"].lr == 0.003
    at.text_input(key="train_lr_typed").input("0").run()
    assert at.button(key="train_start").disabled  # refused with a sentence beside it
    assert any("Learning rate must be in (0, 10]" in e for e in errors(at)), errors(at)
    at.text_input(key="train_lr_typed").input("fast").run()
    assert any('"fast" is not a number' in e and "stays 0" in e for e in errors(at)), errors(at)
    at.text_input(key="train_lr_typed").input("3e-4").run()
    assert configs(at)["train"].lr == 0.0003 and not errors(at)


@pytest.mark.slow
def test_the_two_step_buttons_say_which_run_they_step(at):
    assert at.button(key="train_step_start").label == "Start step by step"
    start_long_run(at)
    run = runs(at)[0]
    poll(at, lambda a: len(run.history.steps) >= 1)
    labels = {b.key: b.label for b in at.button}
    assert labels["train_step"] == "Next step" and labels["train_step_start"] == "Start step by step"
    assert at.button(key="train_step").help.startswith("train this run one batch")
    assert at.button(key="train_step_start").help.startswith("start a new run in step mode")


@pytest.mark.slow
def test_the_view_the_runs_list_and_the_feed_say_one_status(at):
    start_long_run(at)
    run = runs(at)[0]
    poll(at, lambda a: len(run.history.steps) >= 10)
    (view,) = live_views(at)
    assert view["run_status"] == "running" and list(runs_table(at)["status"]) == ["running"]
    feed = at.session_state[FEEDS_KEY][run.id]
    at.button(key="train_pause").click().run()
    (view,) = live_views(at)
    assert view["run_status"] == "paused" and list(runs_table(at)["status"]) == ["paused"]
    deadline = time.time() + 30  # the feed's file says it too: the view compares it with the page's and reruns it
    while json.loads(feed.path.read_text()).get("status") != "paused" and time.time() < deadline:
        time.sleep(0.1)
    assert json.loads(feed.path.read_text())["status"] == "paused"
