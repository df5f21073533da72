"""Issue 25's knobs on the pages, under AppTest: the Train page's controls build the configs and the link
(augmentation's ranges only while it is on, pooling only for a CNN), a link sets them, the LeNet-5 preset
loads; Inspect shows a run's augmented training images.

What does not live here: the knobs themselves (tests/test_knobs.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.config import PRESETS, DataConfig, ModelConfig, TrainConfig
from nnplay.runs import Run
from nnplay.store import open_store

ROOT = Path(__file__).resolve().parent.parent
TRAIN = str(ROOT / "pages" / "train.py")
INSPECT = str(ROOT / "pages" / "inspect.py")


def keys(at: AppTest) -> set[str]:
    return {w.key for kind in ("checkbox", "selectbox", "slider", "text_input") for w in at.get(kind) if w.key}


def test_the_train_page_sets_every_knob_and_its_link_carries_them():
    at = AppTest.from_file(TRAIN, default_timeout=60).run()
    assert not at.exception
    assert {"train_batch_norm", "train_loss", "train_max_norm", "train_augment"} <= keys(at)
    assert not {"train_shift", "train_elastic_alpha", "train_pool"} & keys(at)  # augmentation off, an MLP
    at.checkbox(key="train_batch_norm").check()
    at.selectbox(key="train_loss").set_value("mse")
    at.text_input(key="train_max_norm").input("3")
    at.selectbox(key="train_augment").set_value("affine").run()
    assert {"train_shift", "train_rotate", "train_scale", "train_shear"} <= keys(at)
    assert "train_elastic_alpha" not in keys(at)
    at.slider(key="train_rotate").set_value(25.0).run()
    assert not at.exception and not at.error
    configs = at.session_state["_train_configs"]
    assert configs["model"].batch_norm is True
    train = configs["train"]
    assert (train.loss, train.max_norm, train.augment, train.rotate) == ("mse", 3.0, "affine", 25.0)
    query = at.query_params
    assert {k: query[k][0] if isinstance(query[k], list) else query[k]
            for k in ("batch_norm", "loss", "max_norm", "augment", "rotate")} == {
        "batch_norm": "true", "loss": "mse", "max_norm": "3", "augment": "affine", "rotate": "25"}
    at.selectbox(key="train_augment").set_value("affine+elastic").run()
    assert {"train_shift", "train_elastic_alpha", "train_elastic_sigma"} <= keys(at)


def test_a_link_sets_the_knobs_and_the_lenet_preset_loads():
    at = AppTest.from_file(TRAIN, default_timeout=60)
    at.query_params.update({"family": "cnn", "pool": "avg", "fc_width": "120,84", "fc_activation": "tanh",
                            "augment": "elastic", "elastic_alpha": "20"})
    at.run()
    assert not at.exception
    model, train = at.session_state["_train_configs"]["model"], at.session_state["_train_configs"]["train"]
    assert (model.pool, model.fc_width, model.fc_activation) == ("avg", (120, 84), "tanh")
    assert (train.augment, train.elastic_alpha) == ("elastic", 20.0)
    assert at.selectbox(key="train_pool").value == "avg" and at.slider(key="train_elastic_alpha").value == 20.0
    next(b for b in at.button if b.key == "train_preset_lenet-5").click().run()
    assert not at.exception
    assert at.session_state["_train_configs"]["model"] == PRESETS["lenet-5"].model
    table = at.table[0].value
    assert "61,706" in " ".join(m.value for m in at.metric)
    assert "AvgPool 2×2" in set(table["type"])


@pytest.fixture
def augmented_run(tiny_data) -> Run:
    run = Run("augmented MLP", DataConfig(), ModelConfig(hidden=(16,)),
              TrainConfig(epochs=1, batch_size=200, device="cpu", augment="affine", rotate=20.0))
    run.start(tiny_data.limited(600, 200)).wait()
    assert run.status == "finished"
    return run


@pytest.mark.slow
def test_inspect_shows_the_runs_augmented_training_images(augmented_run):
    augmented_run.bind(open_store())
    at = AppTest.from_file(INSPECT, default_timeout=60).run()
    assert not at.exception
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    shown = [s for s in specs if s["layout"].get("meta", {}).get("copies")]
    assert len(shown) == 1 and shown[0]["layout"]["meta"]["images"] == 6
    assert "affine" in shown[0]["layout"]["title"]["text"]
    assert any("never distorted" in c.value for c in at.caption)


def test_a_max_norm_the_config_refuses_is_said_beside_its_box():
    at = AppTest.from_file(str(TRAIN), default_timeout=60).run()
    at.text_input(key="train_max_norm").input("1e400").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Max norm: write a finite number, e.g. 0.001; got '1e400'."]
