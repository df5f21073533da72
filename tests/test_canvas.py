"""The Draw page's fast canvas: the installed streamlit-drawable-canvas bundle is the one it patches.

What lives here: the bundle's one 200 ms stroke debounce is found and shortened, and under AppTest
``fast_canvas`` mounts the patched component rather than falling back to the stock ``st_canvas``;
a canvas upgrade that changes the bundle fails here instead of silently bringing back the 200 ms.
What does not live here: drawing in a real browser (tests/browser/test_draw_browser.py).
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from nnplay.ui.canvas import CANVAS_DEBOUNCE_MS, canvas_bundle, shorter_debounce


def test_the_installed_bundle_has_the_one_debounce_it_patches():
    js_file, _ = canvas_bundle()
    js = js_file.read_text(encoding="utf-8")
    sender = r"\.sender = \w+\(\(\w+\) => \w+\(\w+, \w+\), ([\w$]+)\)"
    (name,) = re.findall(sender, js)  # the debounce argument: a constant defined once as 200
    assert re.search(rf"(?<![\w$.]){re.escape(name)} = 200\b", js)
    patched = shorter_debounce(js)
    assert re.findall(sender, patched) == [str(CANVAS_DEBOUNCE_MS)]
    assert len(patched) == len(js) - len(name) + len(str(CANVAS_DEBOUNCE_MS))  # nothing else changed


def test_a_bundle_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="200 ms debounce"):
        shorter_debounce("h.sender = debounce((c) => send(h, c), 150); var Bc = 200;")


def _script():
    import streamlit as st
    import streamlit_drawable_canvas as sdc

    from nnplay.ui.canvas import _fast_st_canvas

    fast = _fast_st_canvas()
    st.text(f"stock={fast is sdc.st_canvas} patched_out={fast.__globals__['out'] is not sdc.out}")
    fast(width=100, height=100, key="c")  # mounts without an error


def test_fast_canvas_takes_the_fast_path():
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception
    assert at.text[0].value == "stock=False patched_out=True"
