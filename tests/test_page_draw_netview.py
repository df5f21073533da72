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


@pytest.mark.slow
def test_saliency_for_a_class_the_learner_picks():
    at = drawn(one_on_canvas())
    assert any("Saliency** for class 1" in m.value for m in at.markdown)
    at.selectbox(key="draw_saliency_class").set_value(7).run()
    assert not at.exception
    assert any("Saliency** for class 7" in m.value for m in at.markdown)
    assert any("speak **for** 7" in c.value for c in at.caption)


@pytest.mark.slow
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


# -- labels that fit (issue 22, point 15) -----------------------------------------------------------

CHAR_PX = 8.0  # a generous width of one character of Streamlit's 14-16 px font
MAIN_PX = 880  # the main column at a 1280 px window with the sidebar open


def _fits(text: str, share: float, chrome_px: float) -> bool:
    """Whether ``text`` fits a column of ``share`` of the main width beside ``chrome_px`` of widget chrome."""
    return len(text) * CHAR_PX + chrome_px <= share * MAIN_PX


def _row_holding(block, key: str):
    """The row of columns (``st.columns``) one of whose columns holds the widget ``key``."""
    for child in getattr(block, "children", {}).values():
        if getattr(child, "type", None) == "column" and any(getattr(w, "key", None) == key
                                                           for w in child.children.values()):
            return block
        found = _row_holding(child, key)
        if found is not None:
            return found
    return None


@pytest.mark.slow
def test_the_ink_box_reads_width_by_height():
    line = np.zeros((280, 280, 4), dtype=np.uint8)
    line[..., 3] = 255
    line[130:150, 20:262, :3] = 255  # a horizontal stroke: 242 px wide, 20 px high
    at = drawn(line)
    assert not at.exception
    (text,) = [c.value for c in at.caption if c.value.startswith("ink box")]
    assert text.startswith("ink box 242 × 20 px (width × height)")
    assert "→ 20 × " in text  # the scaled crop: 20 px wide, a few px high


def test_the_neuron_pickers_and_panel_keep_their_labels_whole():
    at = drawn(one_on_canvas())
    layer = at.selectbox(key="draw_neuron_layer")
    row = _row_holding(at.main, "draw_neuron_layer")
    weights = [c.weight for c in row.children.values()]
    share = weights[0] / sum(weights)
    assert _fits(layer.format_func(layer.value), share, chrome_px=60)  # "hidden 1 (256 neurons)" and the arrow
    neuron = at.number_input(key="draw_neuron_1")
    assert _fits(neuron.placeholder, weights[1] / sum(weights), chrome_px=100)  # "93 (most active)", − and +
    panel = chart_named(at, "incoming", "top images", "votes")
    assert panel["layout"]["margin"]["l"] >= 45  # the weight axis's "−0.25" keeps its minus sign
    domains = [panel["layout"][f"xaxis{n}"]["domain"] for n in ("", "2", "3")]
    titles = [a["text"] for a in panel["layout"]["annotations"] if a.get("yref") == "paper"]
    for title, (lo, hi) in zip(titles[:3], domains):
        assert len(title) * 7 <= (hi - lo) * (MAIN_PX - 65), title  # a subplot title within its panel
