"""The Draw and Inspect pages under AppTest, and the figures they are built from.

What lives here: ``nnplay.figures.inspect`` checked against independent computations (the
confusion matrix against a double loop, unit images against the weight rows, feature-map shapes
against ``layer_table``), then both pages run headless with AppTest: the empty canvas shows a
hint and no prediction, a drawing (handed to the canvas through session state, as the component
would) gives a prediction, the quick training replaces the default model; Inspect shows the
seed 000 parameter table, the test grid, the confusion cell's images and, for a trained CNN run,
the filters, feature maps and histograms. What does not live here: the preprocessing and the
saliency themselves (``tests/test_draw.py``) and the real-browser test (``tests/browser/``).
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from nnplay.figures import inspect as fi
from nnplay.figures.layout import TOOLBAR_PX
from nnplay.config import DataConfig, ModelConfig, TrainConfig
from nnplay.engine import seeded_model
from nnplay.models import layer_table
from nnplay.names import escape_markdown
from nnplay.runs import Run, workspace_runs
from nnplay.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DRAW = str(ROOT / "pages" / "draw.py")
INSPECT = str(ROOT / "pages" / "inspect.py")
TINY_CNN = ModelConfig(family="cnn", channels=(4, 8), fc_width=16, init="xavier")


# --- figures -------------------------------------------------------------------------------------


def test_confusion_matrix_counts_every_pair():
    rng = np.random.default_rng(0)
    labels, preds = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    cm = fi.confusion_matrix(labels, preds)
    expected = np.zeros((10, 10), dtype=np.int64)
    for y, p in zip(labels, preds):
        expected[y, p] += 1
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_allclose(fi.per_class_accuracy(cm), np.diag(expected) / expected.sum(axis=1))
    i, j = fi.most_confused(cm)
    assert i != j and cm[i, j] == max(cm[a, b] for a in range(10) for b in range(10) if a != b)
    cell = fi.cell_indices(labels, preds, 3, 5)
    assert len(cell) == cm[3, 5] and all(labels[k] == 3 and preds[k] == 5 for k in cell)
    fig = fi.confusion_figure(cm, [str(d) for d in range(10)], selected=(3, 5))
    np.testing.assert_array_equal(np.asarray(fig.data[0].customdata), cm)
    assert len(fig.data[1].x) == 100  # one clickable marker per cell


def test_unit_weights_are_the_first_layer_rows():
    model = seeded_model(ModelConfig(hidden=(12,)), 0)
    w = fi.unit_weights(model)
    assert w.shape == (12, 28, 28)
    np.testing.assert_array_equal(w[5].ravel(), model.lin_1.weight[5].detach().numpy())
    fig = fi.unit_weights_figure(model, max_units=8, columns=4)
    assert np.asarray(fig.data[0].z).shape == (2 * 30 - 2, 4 * 30 - 2)  # 2×4 tiles of 28 + 2 px gaps
    with pytest.raises(ValueError, match="CNN"):
        fi.unit_weights(seeded_model(TINY_CNN, 0))


def test_feature_maps_match_the_layer_table():
    model = seeded_model(TINY_CNN, 0)
    maps = fi.feature_maps(model, np.zeros((28, 28), dtype=np.uint8))
    shapes = {row.name: row.output_shape for row in layer_table(TINY_CNN)}
    assert list(maps) == ["conv_1", "act_1", "pool_1", "conv_2", "act_2", "pool_2"]
    for name, m in maps.items():
        assert m.shape == shapes[name]
    assert len(fi.feature_maps_figure(maps, "act_2").data) == 1
    assert len(fi.conv_filters_figure(model, "conv_2").data) == 1


def test_prediction_grid_marks_the_wrong_ones():
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    fig = fi.prediction_grid_figure(images, [1, 2, 3, 4], [1, 2, 0, 4], [str(d) for d in range(10)])
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0] == "Pred: 1 / Label: 1" and "Pred: 3 / Label: 0" in titles[2]
    assert [a.font.color for a in fig.layout.annotations].count(fi.WRONG) == 1


def test_probability_bars_are_as_wide_as_the_probabilities_and_highlight_the_top_class():
    p = np.full(10, 0.02)
    p[7] = 0.82
    html = fi.probability_bars_html(p)
    widths = [float(w) for w in re.findall(r"width:([0-9.]+)%", html)]
    np.testing.assert_allclose(widths, p * 100, atol=0.005)
    rows = re.findall(r'data-class="(\d)".*?background:(#[0-9a-f]{6})', html)
    assert [int(i) for i, _ in rows] == list(range(10))
    assert [c for _, c in rows] == [fi.ACCENT if i == 7 else fi.MUTED for i in range(10)]
    assert "prediction: 7 (82.0%)" in html and "82.0%" in html and "2.0%" in html
    # a class name is text, never markup (Fashion-MNIST's names have slashes; a checkpoint could carry anything)
    odd = fi.probability_bars_html(p, ["<b>x</b>", *"123456789"])
    assert "<b>x</b>" not in odd and "&lt;b&gt;x&lt;/b&gt;" in odd


# --- AppTest helpers ---------------------------------------------------------------------------


def canvas_value(drawing: np.ndarray) -> dict:
    """What the canvas component hands back after a stroke: its JSON and a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(drawing).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}, "backgroundFit": None}


def one_on_canvas() -> np.ndarray:
    """A "1" as the Draw page's canvas returns it: white stroke on opaque black, RGBA."""
    img = np.zeros((280, 280, 4), dtype=np.uint8)
    img[..., 3] = 255
    img[50:230, 130:148, :3] = 255
    return img


def plotly_specs(at) -> list[dict]:
    """Every Plotly figure on the page: ``st.plotly_chart``'s and those the live view's component draws
    (``ui.plotly_figure``)."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    for component in at.get("bidi_component"):
        if component.proto.component_name == "nnplay.live_run":
            data = json.loads(component.proto.json)
            if data.get("bare"):
                specs += [json.loads(f) for f in data["snapshot"]["figures"]]
    return specs


def array(value) -> np.ndarray:
    """A plotly JSON array: a plain list, or plotly's typed-array form {dtype, bdata, shape}."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value)


@pytest.fixture(scope="module")
def cnn_run(tiny_data) -> Run:
    """A tiny CNN trained for two quick epochs, as the Train page would keep it."""
    run = Run("tiny CNN", DataConfig(), TINY_CNN, TrainConfig(epochs=2, batch_size=200, device="cpu"))
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


# --- Draw ----------------------------------------------------------------------------------------


def test_draw_empty_canvas_shows_a_hint_and_no_prediction():
    at = AppTest.from_file(DRAW, default_timeout=60).run()
    assert not at.exception
    assert any("Draw a digit" in info.value for info in at.info)
    assert any("default model" in info.value for info in at.info)
    assert len(at.metric) == 0 and not at.get("plotly_chart")
    assert at.button(key="draw_quick_train").label.startswith("Quick training")


@pytest.mark.slow
def test_draw_a_one_gives_a_prediction_with_bars():
    at = AppTest.from_file(DRAW, default_timeout=60)
    at.session_state["draw_canvas"] = canvas_value(one_on_canvas())
    at.run()
    assert not at.exception
    assert at.metric[0].value == "1"
    (bars,) = [h.value for h in at.get("html") if "nnplay-bars" in h.value]
    assert re.findall(r'data-class="(\d)"', bars) == [str(d) for d in range(10)]
    p = np.array([float(w) for w in re.findall(r"width:([0-9.]+)%", bars)]) / 100
    assert p.sum() == pytest.approx(1.0, abs=1e-3) and int(np.argmax(p)) == 1
    assert not any("Draw a digit" in info.value for info in at.info)
    at.radio(key="draw_saliency").set_value("input gradient").run()
    assert not at.exception and at.metric[0].value == "1"


@pytest.mark.slow
def test_draw_quick_training_replaces_the_default_model():
    at = AppTest.from_file(DRAW, default_timeout=60).run()
    at.button(key="draw_quick_train").click().run()
    assert not at.exception
    run = workspace_runs(open_store())[-1]
    assert run.wait(120) and run.status == "finished", run.message
    at.session_state["draw_canvas"] = canvas_value(one_on_canvas())
    at.run()
    assert not at.exception
    assert any(escape_markdown(run.name) in caption.value for caption in at.caption)  # the name as plain text
    assert not any("default model" in info.value for info in at.info)
    assert at.metric[0].value in [str(d) for d in range(10)]


# --- Inspect -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_inspect_default_model_table_grid_and_confusion_cell():
    at = AppTest.from_file(INSPECT, default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Parameters", "Weights", "Histograms", "Test images", "Confusion matrix"]
    table = at.dataframe[0].value
    assert list(table["name"]) == ["lin_1.weight", "lin_1.bias", "lin_2.weight", "lin_2.bias"]
    assert list(table["shape"]) == ["256 × 784", "256", "10 × 256", "10"]
    assert any("203,530" in md.value for md in at.markdown)
    assert any("no training history" in info.value for info in at.info)

    grid_titles = lambda: [a["text"] for a in plotly_specs(at)[1]["layout"]["annotations"]]  # noqa: E731
    first = grid_titles()
    assert len(first) == 25 and all("Pred: " in t and " / Label: " in t for t in first)
    at.button(key="inspect_another").click().run()
    assert not at.exception and grid_titles() != first

    at.selectbox(key="inspect_true").set_value("4").run()
    at.selectbox(key="inspect_pred").set_value("9").run()
    assert not at.exception
    cm = array(plotly_specs(at)[2]["data"][0]["customdata"])
    assert cm.shape == (10, 10)
    assert any(md.value.startswith(f"**True 4, predicted 9: {cm[4, 9]:,} images") for md in at.markdown)
    # each mistake thumbnail: the probability of the predicted class, then of the true one
    evaluation = next(iter(at.session_state["inspect_evaluations"].values()))
    probs = evaluation.probabilities.numpy()
    cell_titles = [a["text"] for a in plotly_specs(at)[-1]["layout"]["annotations"]]
    assert len(cell_titles) == min(50, cm[4, 9]) > 0
    k = int(re.search(r"#(\d+):", cell_titles[0]).group(1))
    assert int(evaluation.predictions[k]) == 9
    assert cell_titles[0] == f"<b>✗ #{k}: 9 {probs[k, 9]:.0%}<br>true 4: {probs[k, 4]:.0%}</b>"
    assert probs[k, 9] >= probs[k, 4]


def test_cell_titles_give_the_predicted_and_the_true_probability():
    probs = np.zeros((3, 10))
    probs[2, [4, 9]] = [0.3, 0.62]
    classes = [str(d) for d in range(10)]
    assert fi.cell_titles([2], probs, 4, 9, classes) == ["#2: 9 62%<br>true 4: 30%"]
    assert fi.cell_titles([2], probs, 9, 9, classes) == ["#2: 9 62%"]  # a correct one: one probability
    fig = fi.image_grid_figure(np.zeros((1, 28, 28)), fi.cell_titles([2], probs, 4, 9, classes), [True])
    assert fig.layout.margin.t == 45 + TOOLBAR_PX  # two lines of title, under the toolbar's band


@pytest.mark.slow
def test_inspect_a_trained_cnn_run(cnn_run):
    cnn_run.bind(open_store())  # kept in this test's store, as the Train page keeps its runs
    at = AppTest.from_file(INSPECT, default_timeout=60)
    at.run()
    assert not at.exception
    picker = at.selectbox(key="inspect_model")
    assert picker.options[picker.index].startswith("tiny CNN")
    assert at.selectbox(key="inspect_conv").options == ["conv_1", "conv_2"]
    at.selectbox(key="inspect_conv").set_value("conv_2").run()
    at.selectbox(key="inspect_fmap_layer").set_value("pool_2").run()
    assert not at.exception
    assert at.select_slider(key="inspect_epoch").value == 2
    at.select_slider(key="inspect_epoch").set_value(1).run()
    assert not at.exception
    stats = at.dataframe[1].value
    assert list(stats["layer"]) == ["conv_1", "conv_2", "fc_1", "fc_2"]
    expected = [s.weight_std for s in cnn_run.history.layer_stats if s.epoch == 1]
    np.testing.assert_allclose(stats["weight std"], expected, rtol=1e-3)


def test_draw_shows_the_offline_sample_notice(monkeypatch, tmp_path):
    import nnplay.data

    def no_download(*_args, **_kwargs):
        raise OSError("tests do not download")

    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))  # no MNIST here: the built-in sample
    monkeypatch.setattr(nnplay.data, "_download", no_download)
    at = AppTest.from_file(DRAW, default_timeout=60).run()
    assert not at.exception
    assert any("built-in sample" in c.value for c in at.caption)  # one line, no box


# --- Inspect: mistakes only, what the first layer learned (issue 22, point 16) --------------------


@pytest.fixture(scope="module")
def mlp_run(tiny_data) -> Run:
    """A small MLP trained for one quick epoch, as the Train page would keep it."""
    cfg = ModelConfig(hidden=(32,))
    run = Run("small MLP", DataConfig(), cfg, TrainConfig(epochs=1, batch_size=100, lr=0.1, seed=3, device="cpu"))
    run.start(tiny_data).wait()
    assert run.status == "finished"
    return run


@pytest.mark.slow
def test_first_layer_pictures_can_show_what_training_changed(mlp_run):
    start = seeded_model(mlp_run.model_cfg, mlp_run.train_cfg.seed)
    model = mlp_run.model
    figure = fi.unit_weights_figure(model, max_units=4, start=start)
    change = (model.lin_1.weight - start.lin_1.weight).detach().numpy()[0].reshape(28, 28)
    z = np.asarray(figure.data[0].z, dtype=float)[:28, :28]
    np.testing.assert_allclose(z, change / np.abs(change).max(), atol=1e-5)
    assert "what training changed" in figure.layout.title.text
    border = np.abs(change[0, :]).max()  # MNIST has no ink in the top row: no gradient reaches its weights
    assert border < 1e-6 < np.abs(change).max()


@pytest.mark.slow
def test_inspect_draws_mistakes_only_and_the_first_layers_changes(mlp_run):
    mlp_run.bind(open_store())
    at = AppTest.from_file(INSPECT, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.radio(key="inspect_weights_change").value is True
    weights = next(s for s in plotly_specs(at) if "units" in s["layout"]["title"]["text"])
    assert "what training changed" in weights["layout"]["title"]["text"]
    assert any("random values they started from" in c.value for c in at.caption)
    at.radio(key="inspect_weights_change").set_value(False).run()
    assert any("still the random start" in c.value for c in at.caption)

    at.toggle(key="inspect_mistakes_only").set_value(True).run()
    assert not at.exception
    grid = next(s for s in plotly_specs(at) if any("Pred: " in a["text"] for a in s["layout"].get("annotations", [])))
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    assert len(titles) == 25 and all(t.startswith("<b>✗") for t in titles)  # every one a mistake
    assert any("mistakes, at random" in c.value for c in at.caption)
