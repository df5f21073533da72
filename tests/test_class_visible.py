"""Class mode's held-back half on the learner's pages: Inspect, Draw, Forward, Train's watched probes, Your digits'
MNIST figures, fine-tuning's before and after, Activations' real digits and the nearest digits use only the visible
half of the test set (``heldback.learner_part`` through ``ui.learner_mnist``), and outside class mode they use the
whole test set as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from nnplay.classroom.heldback import hidden_mask, learner_part, visible_part
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.data import load_mnist
from nnplay.engine import evaluate
from nnplay.lessons import neurons
from nnplay.ui.model_picker import default_model

ROOT = Path(__file__).resolve().parent.parent
INSPECT = str(ROOT / "pages" / "inspect.py")
DRAW = str(ROOT / "pages" / "draw.py")
FORWARD = str(ROOT / "pages" / "forward.py")


@pytest.fixture(scope="module")
def whole():
    """The data the pages load (real MNIST where NNPLAY_DATA_DIR has it, else the built-in sample)."""
    return load_mnist(DataConfig(download=False))


def shown(whole, in_class: bool):
    return visible_part(whole) if in_class else whole


def test_the_learners_part_is_the_visible_half_in_class_mode_only(in_class, tiny_data):
    part = learner_part(tiny_data)
    if in_class:
        assert torch.equal(part.test_images, tiny_data.test_images[torch.from_numpy(~hidden_mask(500))])
        assert len(part.test_labels) == 250 and part.train_images is tiny_data.train_images
    else:
        assert part is tiny_data


@pytest.mark.slow
def test_inspect_scores_and_shows_only_the_learners_test_images(in_class, whole):
    at = AppTest.from_file(INSPECT, default_timeout=120).run()
    assert not at.exception
    data = shown(whole, in_class)
    n = len(data.test_labels)
    assert n == (len(whole.test_labels) // 2 if in_class else len(whole.test_labels))
    evaluation = next(iter(at.session_state["inspect_evaluations"].values()))
    model = default_model()[0]
    expected = evaluate(model, data.test_images, data.test_labels)
    assert len(evaluation.predictions) == n and torch.equal(evaluation.predictions, expected.predictions)
    assert any(c.value.startswith(f"Test accuracy **{expected.accuracy:.2%}** on {n:,} images") for c in at.caption)
    # the confusion matrix counts the same images
    at.selectbox(key="inspect_true").set_value("4").run()
    at.selectbox(key="inspect_pred").set_value("9").run()
    cell = int(((data.test_labels.numpy() == 4) & (expected.predictions.numpy() == 9)).sum())
    assert any(md.value.startswith(f"**True 4, predicted 9: {cell:,} images") for md in at.markdown)


def _one_on_canvas() -> dict:
    """A drawn 1 as the canvas component hands it to the page (see tests/test_pages_draw_inspect.py)."""
    from tests.test_pages_draw_inspect import canvas_value, one_on_canvas

    return canvas_value(one_on_canvas())


@pytest.mark.slow
def test_draws_neuron_panel_and_nearest_digits_search_only_the_learners_test_images(in_class, whole, monkeypatch):
    from nnplay.handwriting import nearest as nr

    # a cache of its own (an earlier test's build may still run in the process's) and an index of the first
    # 1,000 training and 200 test images (seconds, not half a minute): which images the page asked for is what
    # this test checks
    monkeypatch.setattr(nr, "CACHE", nr.IndexCache())
    asked, build = [], nr.build_index

    def first_thousand(model, train_images, train_labels, test_images, *args, **kwargs):
        asked.append(test_images)
        return build(model, train_images[:1000], train_labels[:1000], test_images[:200], *args, **kwargs)

    monkeypatch.setattr(nr, "build_index", first_thousand)
    try:
        _draw_searches_only_the_learners_images(in_class, whole, nr)
    finally:  # the background build ends before the patches are undone
        assert nr.CACHE.wait_idle(300)
    assert len(asked) == 1 and torch.equal(asked[0], shown(whole, in_class).test_images)


def _draw_searches_only_the_learners_images(in_class, whole, nr) -> None:
    at = AppTest.from_file(DRAW, default_timeout=120)
    at.session_state["draw_canvas"] = _one_on_canvas()
    at.run()
    assert not at.exception
    model = default_model()[0]
    data, other = shown(whole, in_class), shown(whole, not in_class)
    tops = at.session_state["draw_neuron_tops"][1]
    expected = neurons.top_exciting_all(model, 1, data.test_images)
    assert all(np.array_equal(a, b) for a, b in zip(tops, expected))
    assert not all(np.array_equal(a, b) for a, b in zip(tops, neurons.top_exciting_all(model, 1, other.test_images)))
    # the nearest digits' index is built (or being built) on the learner's test images, never on the whole set
    space = at.session_state["draw_nearest_space"] if "draw_nearest_space" in at.session_state else "features"
    mine, theirs = nr.index_key(model, data, space), nr.index_key(model, other, space)
    assert nr.CACHE.get(mine) is not None or nr.CACHE.building(mine)
    assert nr.CACHE.get(theirs) is None and not nr.CACHE.building(theirs)


@pytest.mark.slow
def test_forwards_test_image_browser_has_only_the_learners_images(in_class, whole):
    at = AppTest.from_file(FORWARD, default_timeout=120).run()
    assert not at.exception
    data = shown(whole, in_class)
    assert at.number_input(key="fw_digit").max == len(data.test_labels) - 1
    at.number_input(key="fw_digit").set_value(3).run()
    assert any(c == f"label {int(data.test_labels[3])}" for c in _captions(at))


def _captions(at) -> list[str]:
    """The captions of the page's pictures (``st.image``)."""
    return [i.caption for element in at.get("image") for i in element.proto.imgs]


@pytest.mark.slow
def test_trains_watched_probe_digits_come_from_the_learners_test_images(in_class, whole):
    from nnplay.ui import watch

    probes = watch.cached_probes("mnist")
    data = shown(whole, in_class)
    assert np.array_equal(probes.images, data.test_images.numpy()[probes.indices])
    assert np.array_equal(probes.labels, data.test_labels.numpy()[probes.indices])


@pytest.mark.slow
def test_your_digits_mnist_figures_are_of_the_learners_test_images(in_class, whole):
    from nnplay.ui import digits_eval

    model, _, meta = default_model()
    data = shown(whole, in_class)
    if in_class:
        assert digits_eval.mnist_test_images() == len(data.test_labels)
        assert digits_eval.default_mnist_accuracy(meta) == evaluate(model, data.test_images, data.test_labels).accuracy
    else:
        assert digits_eval.mnist_test_images() == 10_000
        assert digits_eval.default_mnist_accuracy(meta) == meta["test_accuracy"]



@pytest.mark.slow
def test_activations_real_digits_are_the_learners_test_images(in_class, whole):
    from nnplay.lessons.activations import layer_gradient_norms

    at = AppTest.from_file(str(ROOT / "pages" / "activations.py"), default_timeout=120).run()
    at.toggle(key="act_real").set_value(True).run()
    assert not at.exception
    data = shown(whole, in_class)
    table = at.dataframe[0].value
    sigmoid = table[table["activation"] == "sigmoid"].iloc[0]
    expected = layer_gradient_norms("sigmoid", depth=10, width=100, init="default", images=data.test_images[:64],
                                    labels=data.test_labels[:64])
    assert sigmoid["layer 1"] == pytest.approx(expected[0], rel=1e-6)



@pytest.mark.slow
def test_fine_tunings_before_and_after_score_the_learners_test_images(tmp_path, sample_data, whole, monkeypatch):
    from nnplay.jobs import thread_backend
    from nnplay.runs import Run, find_run
    from nnplay.store import open_store
    from tests.test_finetune_panel import digits, panel

    monkeypatch.setenv("NNPLAY_CLASS", "1")  # outside class mode: tests/test_finetune_panel.py (all 10,000)
    store = open_store()
    parent = Run("run 1", DataConfig(train_limit=2000, test_limit=500), ModelConfig(hidden=(32,)),
                 TrainConfig(epochs=1, batch_size=64)).bind(store)
    parent.start(sample_data.limited(2000, 500), backend=thread_backend()).wait(120)
    at = panel(digits(tmp_path, sample_data, 40))
    at.number_input(key="finetune_epochs").set_value(1)
    at.button(key="finetune_start").click().run()
    child = find_run(store, at.session_state["finetune_child"])
    assert child.wait(120) and child.status == "finished", child.message
    at.run()
    assert not at.exception, at.exception
    data = visible_part(whole)
    table = at.dataframe[0].value
    row = f"MNIST's {len(data.test_labels):,} test digits"
    assert row in list(table.index)
    after = evaluate(find_run(store, child.id).model, data.test_images, data.test_labels).accuracy
    assert float(table.loc[row, "after"]) == pytest.approx(after * 100, abs=1e-4)  # shown in percent



@pytest.mark.slow
def test_the_experiments_page_says_its_studies_test_on_the_visible_half(in_class):
    at = AppTest.from_file(str(ROOT / "pages" / "experiments.py"), default_timeout=120).run()
    assert not at.exception
    said = any("tested on the visible half of these test images" in c.value for c in at.caption)
    assert said == in_class
