"""The Your digits page's collecting part: it asks for one digit at a time ("Draw a 3", the one with the fewest so
far), keeps the drawing (the canvas as PNG and its 28×28 made by Draw's preprocessing) with its label in the
learner's workspace, and shows the count of each digit against a goal (kept per workspace).

What lives here: ``collect_section``, ``next_digit`` and the canvas's keys. What does not: the grid, files and
"see why" (``digits_grid``, ``digits_import``), the store's digits (``nnplay.store_digits``), the preprocessing
(``nnplay.lessons.draw.to_mnist``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ..handwriting.photos import png_bytes
from ..lessons.draw import to_mnist
from ..store import Store, StoreError
from .canvas import fast_canvas

CANVAS = 280
DEFAULT_GOAL = 10
GOAL_SETTING = "digits_goal"  # the workspace's goal, in the store's settings
TARGET_KEY, NEXT_KEY, VERSION_KEY, FLASH_KEY = "digits_target", "digits_next", "digits_canvas_v", "digits_flash"


def next_digit(counts: dict[int, int]) -> int:
    """The digit to ask for: the one with the fewest kept (the smallest of those on a tie)."""
    return min(range(10), key=lambda d: (counts.get(d, 0), d))


def canvas_key() -> str:
    """The canvas's widget key: "digits_canvas", then a new one after every save or Clear (an empty canvas)."""
    version = st.session_state.get(VERSION_KEY, 0)
    return "digits_canvas" if version == 0 else f"digits_canvas_{version}"


def clear_canvas() -> None:
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


def _goal(store: Store, ws: str) -> int:
    try:
        return max(1, int(store.setting(ws, GOAL_SETTING) or DEFAULT_GOAL))
    except ValueError:
        return DEFAULT_GOAL


def _keep_goal(store: Store, ws: str) -> None:
    try:
        store.set_setting(ws, GOAL_SETTING, str(int(st.session_state["digits_goal"])))
    except StoreError as err:
        st.session_state[FLASH_KEY] = ("error", str(err))


def _progress(counts: dict[int, int], goal: int) -> None:
    done = sum(min(n, goal) for n in counts.values())
    st.progress(done / (10 * goal), text=f"{sum(counts.values())} digits kept; goal: {goal} of each "
                                         f"({done} of {10 * goal} reached)")


def _counts_row(counts: dict[int, int], goal: int) -> None:
    for d, column in enumerate(st.columns(10)):
        mark = " ✓" if counts[d] >= goal else ""
        column.metric(f"digit {d}", f"{counts[d]}{mark}", help=f"{counts[d]} of your {d}s kept; goal {goal}")


def collect_section(store: Store, ws: str) -> None:
    """Ask for the next digit, show the canvas and keep the drawing on Save."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        getattr(st, flash[0])(flash[1])
    counts = store.digit_counts(ws)
    goal_col, progress_col = st.columns([1, 4], vertical_alignment="bottom")
    goal = goal_col.number_input("Goal: how many of each digit", min_value=1, max_value=1000,
                                 value=_goal(store, ws), key="digits_goal", on_change=_keep_goal, args=(store, ws),
                                 help="Ten of each is enough to see a difference; fifty to fine-tune on them")
    with progress_col:
        _progress(counts, int(goal))
    _counts_row(counts, int(goal))
    if NEXT_KEY in st.session_state:  # set by the last save: the widget below takes it before it is drawn
        st.session_state[TARGET_KEY] = st.session_state.pop(NEXT_KEY)
    if TARGET_KEY not in st.session_state:
        st.session_state[TARGET_KEY] = next_digit(counts)
    target = int(st.session_state[TARGET_KEY])
    st.subheader(f"Draw a {target}")
    col_canvas, col_side = st.columns([1.6, 2], gap="medium")
    with col_canvas:
        pen = st.slider("Pen width", min_value=6, max_value=40, value=18, key="digits_pen")
        result = fast_canvas(stroke_width=pen, stroke_color="#ffffff", background_color="#000000", width=CANVAS,
                             height=CANVAS, drawing_mode="freedraw", update_streamlit=True, return_image_data=True,
                             key=canvas_key())
    drawing = result.image_data
    prep = to_mnist(drawing) if drawing is not None else None
    with col_side:
        st.selectbox("Digit to draw", range(10), key=TARGET_KEY,
                     help="The page asks for the digit you have the fewest of; pick another one here")
        if prep is None:
            st.info(f"Draw a {target} on the black canvas, as you write it, then press Save. It is kept with its "
                    "28×28 version, made the way the Draw page makes it.", icon="✏️")
        else:
            st.image(np.kron(prep.image, np.ones((4, 4), dtype=np.uint8)), width=112,
                     caption="What is kept: 28×28, as the network sees it", output_format="PNG")
        save_col, clear_col = st.columns(2)
        save = save_col.button(f"Save as {target}", key="digits_save", type="primary", disabled=prep is None,
                               width="stretch")
        clear_col.button("✕ Clear", key="digits_clear", on_click=clear_canvas, width="stretch")
    if save and prep is not None:
        try:
            store.add_digit(ws, target, prep.image, png_bytes(drawing), "drawn")
        except (StoreError, ValueError) as err:
            st.error(f"This {target} was not kept: {err}")
            return
        counts[target] += 1
        following = next_digit(counts)
        # a toast, not a box: the canvas must stay where it is for the next digit
        st.session_state[FLASH_KEY] = ("toast", f"Kept your {target} ({counts[target]} of {goal}). "
                                                  f"Now draw a {following}.")
        st.session_state[NEXT_KEY] = following
        clear_canvas()
        st.rerun()
