"""The Draw page's canvas: streamlit-drawable-canvas, sending a stroke 30 ms after it ends instead of 200.

What lives here: ``fast_canvas``, and ``canvas_bundle`` / ``shorter_debounce`` that find and patch the
package's bundle. What does not: turning the drawing into a digit (``nnplay.lessons.draw``).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import types
from pathlib import Path

import streamlit as st

# -- a drawing canvas that answers sooner --------------------------------------------------------
# streamlit-drawable-canvas (MIT licence, © its authors; https://pypi.org/project/streamlit-drawable-canvas/)
# waits a fixed 200 ms after each stroke before it sends the drawing to Python, a constant of its
# JavaScript bundle with no parameter. fast_canvas registers a second st.components.v2 component
# whose JavaScript is that same bundle, read from the installed package at run time, with the one
# debounce argument shortened, and mounts it through the package's own st_canvas (a copy of the
# function whose global ``out`` is the new component), so arguments and result are the package's.
# Fail-safe: if the bundle does not have the expected shape (another version), it is the stock
# st_canvas, unchanged; requirements.txt pins the canvas to 0.13.*, and tests/test_canvas.py fails
# when the fast path is not taken, so an upgrade that changes the bundle is seen, not silent.

CANVAS_DEBOUNCE_MS = 30
_FAST_CANVAS_COMPONENT = "nnplay.fast_drawable_canvas"
# the sender line of the bundle of streamlit-drawable-canvas 0.13 (requirements.txt pins 0.13.*), e.g.
# ``h.sender = Nh((c) => Ic(h, c), Bc)`` with ``Bc = 200`` defined once
_SENDER = re.compile(r"(\.sender = \w+\(\(\w+\) => \w+\(\w+, \w+\), )([A-Za-z_$][\w$]*)\)")


def canvas_bundle() -> tuple[Path, Path]:
    """The installed streamlit-drawable-canvas's JavaScript and CSS bundle files (found without importing it)."""
    spec = importlib.util.find_spec("streamlit_drawable_canvas")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("streamlit-drawable-canvas is not installed: pip install -r requirements.txt")
    build = Path(spec.origin).parent / "frontend" / "build"
    (js_file,), (css_file,) = sorted(build.glob("index-*.js")), sorted(build.glob("index-*.css"))
    return js_file, css_file


def shorter_debounce(js: str, ms: int = CANVAS_DEBOUNCE_MS) -> str:
    """The canvas bundle with its one 200 ms stroke debounce set to ``ms``; ValueError if the bundle differs."""
    senders = list(_SENDER.finditer(js))
    if len(senders) != 1 or len(re.findall(rf"(?<![\w$.]){re.escape(senders[0][2])} = 200\b", js)) != 1:
        raise ValueError("the canvas bundle has no single 200 ms debounce constant (another version of "
                         "streamlit-drawable-canvas than the 0.13 that requirements.txt pins?)")
    start, end = senders[0].span(2)
    return js[:start] + str(ms) + js[end:]


@functools.lru_cache(maxsize=1)
def _fast_assets() -> tuple[str, str] | None:
    """(patched JavaScript, CSS) of the installed canvas, read once per process; None (logged) if unpatchable."""
    try:
        js_file, css_file = canvas_bundle()
        js = shorter_debounce(js_file.read_text(encoding="utf-8"))
        return js + "\n", css_file.read_text(encoding="utf-8") + "\n"  # a newline: inline text, not a path
    except Exception as exc:  # noqa: BLE001 — any surprise: the stock canvas still works (a test catches it)
        logging.getLogger(__name__).warning("fast_canvas: using the stock canvas (%s)", exc)
        return None


def _fast_st_canvas():
    """The package's st_canvas mounting the shorter-debounce component, or the stock st_canvas.

    The component is declared on every call (cheap: the patched text is cached), so it is
    registered with whichever Streamlit runtime runs the script, a restarted one or an AppTest's.
    """
    import streamlit_drawable_canvas as sdc

    stock = sdc.st_canvas
    assets = _fast_assets()
    if assets is None:
        return stock
    if "out" not in stock.__code__.co_names:
        logging.getLogger(__name__).warning("fast_canvas: using the stock canvas (st_canvas does not mount `out`)")
        return stock
    component = st.components.v2.component(
        _FAST_CANVAS_COMPONENT, js=assets[0], css=assets[1],
        html='<div class="canvas-root"></div>',  # as the package registers its own
        isolate_styles=True,
    )
    fast = types.FunctionType(stock.__code__, {**stock.__globals__, "out": component},
                              stock.__name__, stock.__defaults__, stock.__closure__)
    fast.__kwdefaults__, fast.__doc__ = stock.__kwdefaults__, stock.__doc__
    return fast


def fast_canvas(**kwargs):
    """``streamlit_drawable_canvas.st_canvas(**kwargs)``, sending a stroke 30 ms after it ends, not 200."""
    return _fast_st_canvas()(**kwargs)
