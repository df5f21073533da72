"""The Forward page's drawn network (seed 002's 2-3-2-2) follows the step and cell of the tables.

What lives here: one AppTest that steps with Back / Next and picks a cell, and reads the figure's
highlighted edges and neurons from its plotly JSON. What does not: the figure's own checks
(``tests/test_network_view.py``) and the rest of the page (``tests/test_pages_teach.py``).
"""

from __future__ import annotations

import json

import pytest

from .test_pages_teach import offline_sample, run  # noqa: F401  (the fixture applies here too)


def network(at) -> dict:
    """The drawn network's figure (drawn by the live view's component, ``ui.plotly_figure``)."""
    views = [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "nnplay.live_run"]
    (spec,) = [json.loads(f) for v in views if v.get("bare") for f in v["snapshot"]["figures"]
               if any(t.get("name") == "layer 1" for t in json.loads(f)["data"])]
    return spec


def lit_edges(spec) -> list[str]:
    return sorted(t["name"] for t in spec["data"] if t["name"].startswith("W") and t["meta"]["highlighted"])


@pytest.mark.slow
def test_the_drawn_network_lights_up_the_current_step_and_cell():
    at = run("forward")
    spec = network(at)
    assert spec["layout"]["title"]["text"] == "Step 1: A1 = X·W1 + B1"
    assert lit_edges(spec) == ["W1[0,0]", "W1[1,0]"]  # cell 0 of A1 by default
    at.selectbox(key="fw_cell_A1").set_value(2).run()
    assert lit_edges(network(at)) == ["W1[0,2]", "W1[1,2]"]
    at.button(key="fw_next").click().run()  # Z1 = sigmoid(A1): no edge, the three neurons of layer 1
    spec = network(at)
    assert lit_edges(spec) == []
    (layer1,) = [t for t in spec["data"] if t["name"] == "layer 1"]
    assert layer1["meta"]["highlighted"] == [True, True, True]
    assert "Z1=0.5744" in layer1["text"][0]
    for _ in range(4):
        at.button(key="fw_next").click().run()
    spec = network(at)
    assert spec["layout"]["title"]["text"] == "Step 6: Y = identity(A3)"
    assert all("?" not in text for t in spec["data"] if t["name"].startswith("layer") for text in t["text"])
