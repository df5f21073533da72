"""Watch it learn and step mode on the Train page's path: ``Run.step/set_rate/watch_model``, the engine's
losses in step mode, ``figures.watch`` (what the live feed publishes) and the page's Step buttons.

What lives here: a real tiny run (2,000 sample images, batch 100, the default ``log_every`` of 10) started
in step mode: each step call trains exactly one batch and its loss is reported at once; ``watch_model``
copies the live weights (equal to them, not copied again when nothing changed); the feed's file holds the
probe panel, the first layer and the network view, and the probe answers equal ``probe_predictions`` of the
model; the page's Step (before and during a run) advances exactly one step per click. What does not: the
figure builders themselves (tests/test_network_view.py), the engine's step mode with ``log_every=1``
(tests/test_step_mode.py), the browser (tests/browser/test_watch_browser.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.figures.network import first_layer_figure, network_figure
from nnplay.figures.train import live_view_content
from nnplay.figures.watch import WATCH_FIGURES, probe_spec, typed_array_values, watch_is_cheap
from nnplay.lessons.neurons import probe_predictions, probe_set
from nnplay.runs import Run, workspace_runs
from nnplay.runs.live_view import WatchView
from nnplay.store import open_store
from nnplay.ui import feed as feed_module
from nnplay.ui.feed import LiveFeed
from nnplay.ui.live import FEEDS_KEY
from nnplay.ui.watch import NO_PROBE

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "train.py")


def wait_for(condition, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


def reported(run: Run) -> list[int]:
    return [s.step for s in run.history.steps]


@pytest.fixture(scope="module")
def probes(tiny_data):
    return probe_set(tiny_data.test_images.numpy(), tiny_data.test_labels.numpy())


def new_run(**train) -> Run:
    return Run("watched", DataConfig(), ModelConfig(hidden=(16,)),
               TrainConfig(**{"epochs": 1, "batch_size": 100, "seed": 0, **train}))


@pytest.mark.slow
def test_step_mode_trains_one_batch_per_step_and_reports_its_loss_at_once(tiny_data):
    run = new_run()  # log_every 10: at full speed the losses come ten at a time
    assert run.watch_model() is None  # no model before it starts
    run.step()  # before the start: starts paused, one batch let through
    run.start(tiny_data)
    try:
        assert run.job.caught_up(30)  # at rest at its pause, every step it took delivered
        assert reported(run) == [1] and run.status == "paused"  # exactly one, and its loss is there
        for expected in (2, 3):
            run.step()
            assert run.job.caught_up(30)
            assert reported(run) == list(range(1, expected + 1))
        loss = run.history.steps[-1].loss
        assert np.isfinite(loss) and loss > 0
        run.set_rate(None)
        run.resume()
        run.wait(60)
        assert run.status == "finished" and reported(run) == list(range(1, 21))
    finally:
        run.stop()
        run.wait(30)


@pytest.mark.slow
def test_watch_model_copies_the_live_weights_only_when_they_changed(tiny_data):
    run = new_run()
    run.step()
    run.start(tiny_data)
    try:
        wait_for(lambda: reported(run) == [1])
        first = run.watch_model()
        # the weights the run's job sent after its one step, not the initial ones
        from nnplay.checkpoint import load_checkpoint
        from nnplay.engine import seeded_model

        assert run._weights.step == 1
        live = load_checkpoint(run._weights.data)[0].state_dict()
        initial = seeded_model(run.model_cfg, run.train_cfg.seed).state_dict()
        for name, value in first.state_dict().items():
            assert value.device.type == "cpu"
            assert torch.equal(value, live[name].cpu())
        assert not torch.equal(first.state_dict()["lin_1.weight"], initial["lin_1.weight"])
        assert run.watch_model() is first  # nothing changed: no new copy
        run.step()
        wait_for(lambda: len(reported(run)) == 2)
        second = run.watch_model()
        assert second is not first
        assert not torch.equal(second.state_dict()["lin_1.weight"], first.state_dict()["lin_1.weight"])
        run.resume()
        run.wait(60)
        assert run.watch_model() is run.model  # an ended run: its own model
    finally:
        run.stop()
        run.wait(30)


@pytest.mark.slow
def test_the_feed_publishes_the_watch_figures_of_the_model(tiny_data, probes, tmp_path, monkeypatch):
    run = new_run()
    run.step()
    run.start(tiny_data)
    view = WatchView(probes, tiny_data.classes)
    feed = LiveFeed(run, tmp_path, view)
    try:
        wait_for(lambda: reported(run) == [1])
        feed.options = {"watch": True, "smoothing": 0.6}
        feed.publish()
        # the pictures are files of their own, fetched only when drawn: each poll reads the small rest
        raw = json.loads(feed.path.read_text())
        assert all(isinstance(f, str) for f in raw["figures"][:2])
        refs = [f["url"] for f in raw["figures"][2:]]
        assert all(f["heavy"] for f in raw["figures"][2:]) and len(set(refs)) == len(WATCH_FIGURES)
        assert all(name.startswith(feed.token + "-") and (tmp_path / name).exists() for name in refs)
        assert feed.path.stat().st_size < sum((tmp_path / name).stat().st_size for name in refs)
        snap = feed.snapshot()
        assert len(snap["figures"]) == 2 + len(WATCH_FIGURES)
        probe, first, network = (json.loads(f) for f in snap["figures"][2:])
        model = run.watch_model()
        predicted, probability = probe_predictions(model, probes)
        assert probe["layout"]["meta"]["predicted"] == predicted.tolist()
        np.testing.assert_allclose(probe["layout"]["meta"]["probability"], probability, atol=1e-6)
        assert probe["layout"]["meta"]["labels"] == probes.labels.tolist()
        texts = [a["text"] for a in probe["layout"]["annotations"]]
        assert len(texts) == 16 and all(f"{probability[i]:.0%}" in t for i, t in enumerate(texts))
        # the first layer: what training changed in each neuron's weights (minus the run's seeded start, as Inspect
        # shows them: raw weights are still mostly the random start), each scaled to its own max |Δw|
        from nnplay.engine import seeded_model

        start = seeded_model(run.model_cfg, run.train_cfg.seed)
        expected = np.asarray(first_layer_figure(model, start=start).data[0].z, dtype=float)
        np.testing.assert_allclose(typed_array_values(first["data"][0]["z"]), expected, atol=1e-6)
        assert "what training changed" in first["layout"]["title"]["text"]
        assert not np.allclose(expected, np.asarray(first_layer_figure(model).data[0].z, dtype=float), atol=1e-3)
        assert [t["name"] for t in network["data"]] == [t.name for t in network_figure(model).data]
        assert network["layout"]["meta"]["wide"] is True
        # the three pictures are heavy (redrawn less often while the run is busy), the loss charts are not
        assert [json.loads(f)["layout"].get("meta", {}).get("heavy", False) for f in snap["figures"]] == \
            [False, False, True, True, True]
        assert snap["busy"] is False  # in step mode
        builds = view.builds
        assert not feed.publish()  # nothing changed: same file, figures not rebuilt
        assert view.builds == builds
        run.step()  # one step: the next snapshot shows the new model's answers
        wait_for(lambda: len(reported(run)) == 2)
        assert feed.publish()
        probe = json.loads(feed.snapshot()["figures"][2])
        assert probe["layout"]["meta"]["predicted"] == probe_predictions(run.watch_model(), probes)[0].tolist()
        assert view.builds == builds + 1
        renamed = [f["url"] for f in json.loads(feed.path.read_text())["figures"][2:]]
        assert renamed[1] != refs[1] and all((tmp_path / name).exists() for name in refs)  # the old: kept a while
        monkeypatch.setattr(feed_module, "DETACH_KEEP_S", 0.0)
        time.sleep(0.01)
        feed.options = {"watch": False, "smoothing": 0.6}  # the toggle off: the loss charts only
        feed.publish()
        assert len(json.loads(feed.path.read_text())["figures"]) == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == [feed.path.name]  # no figure file named: gone
        feed.remove()
        assert list(tmp_path.iterdir()) == []
    finally:
        run.stop()
        run.wait(30)
        feed.remove()


@pytest.mark.slow
def test_the_snapshot_is_busy_only_while_the_run_trains_at_full_speed(tiny_data):
    run = new_run(epochs=200)
    run.start(tiny_data)
    try:
        wait_for(lambda: len(reported(run)) > 0)
        assert live_view_content(run, {})["busy"] is True
        run.set_rate(5.0)  # slowed: every picture is worth drawing
        assert live_view_content(run, {})["busy"] is False
        run.set_rate(None)
        assert live_view_content(run, {})["busy"] is True
        run.pause()
        assert live_view_content(run, {})["busy"] is False
        run.resume()
        assert live_view_content(run, {})["busy"] is True
    finally:
        run.stop()
        run.wait(30)
    assert live_view_content(run, {})["busy"] is False


def test_probe_spec_marks_wrong_answers(probes):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    torch.nn.init.zeros_(model[1].weight)
    with torch.no_grad():
        model[1].bias.copy_(torch.arange(10.0))  # always answers 9
    spec = probe_spec(model, probes)
    texts = [a["text"] for a in spec["layout"]["annotations"]]
    right = [int(y) == 9 for y in probes.labels]
    assert [not t.startswith("✗") for t in texts] == right
    assert spec["layout"]["title"]["text"].startswith(f"Probe digits: {sum(right)} of 16 right")


def test_the_network_view_runs_the_chosen_probe_digit_and_shows_the_chosen_page(probes):
    from nnplay.engine import seeded_model
    from nnplay.figures.train import figure_json
    from nnplay.figures.watch import network_spec
    from nnplay.lessons import neurons

    class Held:  # a finished run's model, as WatchView sees it
        id = 7
        model = seeded_model(ModelConfig(hidden=(100, 16)), 0)
        busy = calm = False

        def watch_model(self):
            return self.model

    run, view = Held(), WatchView(probes)

    def network(**options):
        return json.loads(view.figures(run, options.get("net_probe"), options.get("net_page", 0))[2])

    assert network()["data"] == json.loads(figure_json(network_spec(run.model, "watch-7")))["data"]  # weights only
    digit = network(net_probe=3, net_page=1)
    expected = network_spec(run.model, "watch-7", image_u8=probes.images[3], page=1)
    assert digit["data"] == json.loads(figure_json(expected))["data"]
    # the hidden-1 neurons shown are page 2 of 100 ranked by importance for this digit, each coloured by
    # its activation (a numpy forward pass of the digit)
    hidden = next(t for t in digit["data"] if t["name"] == "hidden 1")
    values = neurons.mlp_forward(run.model, probes.images[3]).values[1]
    shown = typed_array_values(hidden["customdata"])[:, 0].astype(int)
    assert len(shown) == 100 - neurons.MAX_SHOWN
    np.testing.assert_allclose(typed_array_values(hidden["marker"]["color"]), values[shown], atol=1e-5)
    builds = view.builds
    network(net_probe=3, net_page=1)
    assert view.builds == builds  # same model, same choices: not rebuilt
    network(net_probe=3, net_page=0)
    assert view.builds == builds + 1


def test_watching_is_on_by_default_for_small_models_only():
    assert watch_is_cheap(ModelConfig())
    assert watch_is_cheap(ModelConfig(family="cnn"))
    assert not watch_is_cheap(ModelConfig(hidden=(4096, 4096)))


@pytest.mark.slow
def test_page_step_buttons_advance_one_step_per_click():
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    app.toggle(key="train_quick").set_value(True).run()
    app.text_input(key="train_train_limit").set_value("2000").run()
    app.text_input(key="train_test_limit").set_value("500").run()
    app.text_input(key="train_epochs").set_value("1").run()
    try:
        app.button(key="train_step_start").click().run()
        assert not app.exception
        run = workspace_runs(open_store())[-1]
        assert run.job.caught_up(30)
        assert reported(run) == [1] and run.status == "paused"
        app.run()
        assert app.toggle(key=f"train_watch_{run.id}").value is True
        # the network view's input and page (256 neurons: 4 pages of 64) reach the run's live feed
        app.selectbox(key="train_net_probe").set_value(2).run()
        app.number_input(key="train_net_page").set_value(2).run()
        assert not app.exception and app.number_input(key="train_net_page").label == "Neurons page (of 4)"
        feed = app.session_state[FEEDS_KEY][run.id]
        assert (feed.options["net_probe"], feed.options["net_page"]) == (2, 1)
        app.slider(key="train_smoothing").set_value(0.8).run()
        # a reload (a new session of the same workspace) starts with the digit and the smoothing chosen last
        reloaded = AppTest.from_file(PAGE, default_timeout=60)
        reloaded.query_params["run"] = run.id
        reloaded.run()
        assert reloaded.selectbox(key="train_net_probe").value == 2 and reloaded.slider(key="train_smoothing").value == 0.8
        shown = reloaded.session_state[FEEDS_KEY][run.id].options  # the neurons page starts again at 1
        assert (shown["smoothing"], shown["net_probe"], shown["net_page"]) == (0.8, 2, 0)
        store = open_store()  # a kept value the page cannot use: the default, not an error
        store.set_setting("local", "train_smoothing", "7")
        store.set_setting("local", "train_net_probe", "99")
        odd = AppTest.from_file(PAGE, default_timeout=60)
        odd.query_params["run"] = run.id
        odd.run()
        assert not odd.exception and odd.slider(key="train_smoothing").value == 0.6
        assert odd.selectbox(key="train_net_probe").value == NO_PROBE  # shown as "none: weights only", not blank
        assert odd.session_state[FEEDS_KEY][run.id].options["net_probe"] is None
        for expected in (2, 3):
            app.button(key="train_step").click().run()
            assert not app.exception
            assert run.job.caught_up(30)
            assert reported(run) == list(range(1, expected + 1))
        app.selectbox(key="train_speed").set_value("full speed").run()
        app.button(key="train_pause").click().run()  # Resume: full speed to the end
        run.wait(60)
        assert run.status == "finished"
    finally:
        for run in workspace_runs(open_store()):
            run.stop()
            run.wait(30)


def test_watch_figures_of_a_cnn_show_its_filters_and_stages(probes):
    from nnplay.engine import seeded_model
    from nnplay.figures.watch import watch_figures

    model = seeded_model(ModelConfig(family="cnn", channels=(4, 8), fc_width=16), 0)
    probe, first, network = (json.loads(f) for f in watch_figures(model, probes, uirevision="r"))
    assert probe["layout"]["meta"]["predicted"] == probe_predictions(model, probes)[0].tolist()
    assert "filters" in first["layout"]["title"]["text"]
    conv = model.conv_1.weight.detach().numpy()[:, 0]
    z = typed_array_values(first["data"][0]["z"])
    assert np.nanmax(np.abs(z)) == pytest.approx(1.0)  # each filter scaled to its own max |w|
    assert z.size >= conv.size
    assert {"conv 1", "conv 2", "fc", "output"} <= {t["name"] for t in network["data"]}
    assert all(f["layout"]["uirevision"] == "r" for f in (probe, first, network))
    assert all(isinstance(t.get("colorscale", []), list) for f in (probe, first, network) for t in f["data"])


def test_a_calm_runs_pictures_are_rebuilt_every_few_seconds_only(probes, monkeypatch):
    """Calm (busy while training takes every core): the view redraws them every 3–4 s anyway, so the server builds
    them (and fetches the weights) at most every CALM_WATCH_S; a new choice of digit is built at once."""
    from nnplay.engine import seeded_model
    from nnplay.runs import live_view as watch

    class Training:  # a run whose every watch_model() call hands out newer weights
        id, busy, calm, calls = 8, True, True, 0

        def watch_model(self):
            self.calls += 1
            return seeded_model(ModelConfig(hidden=(16,)), self.calls)

    run, view = Training(), WatchView(probes)
    first = view.figures(run)
    assert view.figures(run) is first and (view.builds, run.calls) == (1, 1)  # calm: the same pictures
    view.figures(run, probe=2)
    assert (view.builds, run.calls) == (2, 2)  # another digit: built now
    monkeypatch.setattr(watch, "CALM_WATCH_S", 0.0)
    view.figures(run, probe=2)
    assert (view.builds, run.calls) == (3, 3)  # its time is up: the newest weights
    monkeypatch.setattr(watch, "CALM_WATCH_S", 60.0)
    run.calm = False  # not calm: every newer model is built
    view.figures(run, probe=2)
    view.figures(run, probe=2)
    assert (view.builds, run.calls) == (5, 5)
