"""The Draw page's new parts under AppTest: the network view and one neuron for the drawn digit,
the not-a-digit hint, the saliency class, Undo and Clear.

What lives here: page-level checks (widgets by key, charts through their plotly JSON). The canvas
result is faked as in ``tests/test_pages_draw_inspect.py`` (whose helpers are reused). What does
not: the figures' numbers (``tests/test_network_view.py``), the hint's thresholds
(``tests/test_draw_hints.py``), real strokes in a browser (``tests/browser/test_draw_browser.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnplay.lessons import draw

from .test_pages_draw_inspect import DRAW, array, canvas_value, cnn_run, one_on_canvas, plotly_specs  # noqa: F401


def chart_named(at, *names):
    """The plotly spec whose traces carry all these names."""
    for spec in plotly_specs(at):
        traces = {t.get("name") for t in spec["data"]}
        if set(names) <= traces:
            return spec
    return None


def drawn(drawing, objects=1) -> AppTest:
    at = AppTest.from_file(DRAW, default_timeout=90)
    value = canvas_value(drawing)
    value["drawing"]["raw"]["objects"] = [{"type": "path", "n": i} for i in range(objects)]
    at.session_state["draw_canvas"] = value
    return at.run()


@pytest.mark.slow
def test_a_drawn_digit_flows_through_the_network_view_and_a_neuron_can_be_picked():
    at = drawn(one_on_canvas())
    assert not at.exception
    net = chart_named(at, "input", "hidden 1", "output", "edge weights")
    assert net is not None
    neuron = chart_named(at, "incoming", "top images", "votes")
    assert neuron is not None
    at.number_input(key="draw_neuron_1").set_value(5).run()
    assert not at.exception
    assert any("neuron 5" in c.value for c in at.caption)
    at.slider(key="draw_top_edges").set_value(30).run()
    edges = next(t for t in chart_named(at, "edge weights")["data"] if t["name"] == "edge weights")
    layers = array(edges["customdata"]).reshape(-1, 4)[:, 0]
    assert 0 < len(layers) and all(np.sum(layers == l) <= 30 for l in set(layers.tolist()))


@pytest.mark.slow
def test_a_scribble_gets_a_hint_not_an_answer():
    scribble = draw.example_non_digits(1, seed=0)["scribble"][0]
    at = drawn(scribble)
    assert not at.exception
    assert len(at.metric) == 0
    assert any("covers too much" in w.value for w in at.warning)
    real = drawn(one_on_canvas())
    assert real.metric[0].value == "1" and not any("covers too much" in w.value for w in real.warning)


def test_saliency_for_a_class_the_learner_picks():
    at = drawn(one_on_canvas())
    assert any("Saliency** for class 1" in m.value for m in at.markdown)
    at.selectbox(key="draw_saliency_class").set_value(7).run()
    assert not at.exception
    assert any("Saliency** for class 7" in m.value for m in at.markdown)
    assert any("speak **for** 7" in c.value for c in at.caption)


def test_undo_takes_back_the_last_stroke_and_clear_empties_the_canvas():
    at = drawn(one_on_canvas(), objects=3)
    assert not at.button(key="draw_undo").disabled
    at.button(key="draw_undo").click().run()
    assert not at.exception
    initial = at.session_state["draw_initial"]
    assert [o["n"] for o in initial["objects"]] == [0, 1]
    at.button(key="draw_undo").click().run()  # the canvas has not answered yet: still counts down
    assert [o["n"] for o in at.session_state["draw_initial"]["objects"]] == [0]
    at.button(key="draw_clear").click().run()
    assert not at.exception
    assert at.session_state["draw_canvas_v"] == 1 and at.session_state["draw_initial"] is None
    assert any("Draw a digit" in info.value for info in at.info)  # a fresh, empty canvas
    assert at.button(key="draw_undo").disabled and len(at.metric) == 0


@pytest.mark.slow
def test_a_cnn_is_drawn_as_its_stages_on_draw(cnn_run):
    from nnplay.store import open_store

    cnn_run.bind(open_store())  # kept in this test's store: the newest usable run is the current model
    at = AppTest.from_file(DRAW, default_timeout=90)
    at.session_state["draw_canvas"] = canvas_value(one_on_canvas())
    at.run()
    assert not at.exception
    assert chart_named(at, "input", "conv 1", "conv 2", "fc", "output") is not None
    assert any("works on MLPs" in c.value for c in at.caption)


def test_the_network_view_can_be_switched_off():
    at = drawn(one_on_canvas())
    at.toggle(key="draw_show_network").set_value(False).run()
    assert not at.exception
    assert chart_named(at, "edge weights") is None and chart_named(at, "votes") is None
    assert at.metric[0].value == "1"
