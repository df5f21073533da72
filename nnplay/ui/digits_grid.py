"""The Your digits page's grid and "see why": every kept digit with its label editable and a Delete, a page of
them at a time; then, for a chosen digit, Draw's preprocessing step by step beside MNIST training digits of its
class and a sentence on how it differs from them.

What lives here: ``grid_section``, ``why_section``. What does not: the steps and the measures
(``nnplay.handwriting.why``), the store's digits (``nnplay.store_digits``).
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from ..handwriting.why import class_examples, compare_to_mnist, picture_array, step_pictures, why_steps
from ..data import DataError
from ..store import DigitRecord, Store, StoreError
from .data import cached_mnist

PER_PAGE = 40
COLUMNS = 10
EXAMPLES = 8


def _relabel(store: Store, ws: str, digit_id: str) -> None:
    try:
        store.set_digit_label(digit_id, ws, int(st.session_state[f"digit_label_{digit_id}"]))
    except StoreError as err:
        st.session_state["digits_flash"] = ("error", str(err))


def _delete(store: Store, ws: str, digit_id: str) -> None:
    try:
        store.delete_digit(digit_id, ws)
    except StoreError as err:
        st.session_state["digits_flash"] = ("error", str(err))


def _big(image: np.ndarray, factor: int) -> np.ndarray:
    return np.kron(image, np.ones((factor, factor), dtype=np.uint8))


def grid_section(store: Store, ws: str, records: list[DigitRecord]) -> None:
    """The digits in rows of ten, newest first: each with its label (change it to relabel) and Delete."""
    st.header(f"Your digits ({len(records)})")
    if not records:
        st.caption("None kept yet: draw one above, or import photos or a file below.")
        return
    show = st.selectbox("Show", ["all", *range(10)], key="digits_show",
                        format_func=lambda v: "every digit" if v == "all" else f"your {v}s")
    shown = [r for r in reversed(records) if show == "all" or r.label == show]
    pages = max(1, math.ceil(len(shown) / PER_PAGE))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, key="digits_page"))
    part = shown[(page - 1) * PER_PAGE: page * PER_PAGE]
    if not part:
        st.caption(f"No {show}s kept yet.")
    for start in range(0, len(part), COLUMNS):
        for column, record in zip(st.columns(COLUMNS), part[start:start + COLUMNS]):
            with column.container(key=f"digit_{record.id}"):
                # "content": 84 px at most, the column's width when narrower (a fixed 84 overflowed into the next)
                st.image(_big(record.image, 3), width="content", caption=record.source, output_format="PNG")
                st.selectbox("Label", range(10), index=record.label, key=f"digit_label_{record.id}",
                             label_visibility="collapsed", on_change=_relabel, args=(store, ws, record.id))
                st.button("Delete", key=f"digit_delete_{record.id}", icon=":material/delete:", type="tertiary",
                          on_click=_delete, args=(store, ws, record.id))


@st.cache_data(show_spinner=False, max_entries=64)
def _comparison(image_bytes: bytes, label: int, data_dir_key: str):
    data = cached_mnist("mnist")
    labels = data.train_labels.numpy()
    return compare_to_mnist(np.frombuffer(image_bytes, np.uint8).reshape(28, 28), label,
                            data.train_images.numpy()[labels == label])


def why_section(store: Store, ws: str, records: list[DigitRecord]) -> None:
    """For a chosen digit: the preprocessing steps, MNIST digits of its class, and what differs."""
    st.header("See why")
    if not records:
        st.caption("Keep a digit first: here you will see how it became the network's 28×28 input, beside MNIST's.")
        return
    numbered = {r.id: (i + 1, r) for i, r in enumerate(records)}
    chosen = st.selectbox("Digit", list(reversed(list(numbered))), key="digits_why",
                          format_func=lambda i: f"#{numbered[i][0]}: a {numbered[i][1].label} "
                                                f"({numbered[i][1].source})")
    record = numbered.get(chosen, (0, records[-1]))[1]
    png = store.digit_picture(record.id, ws)
    steps = why_steps(picture_array(png)) if png is not None else None
    if steps is None:
        st.caption("No picture was kept with this digit (it came from a file): the steps start from its 28×28 image.")
        steps = why_steps(record.image)
    if steps is not None:
        for column, (caption, picture) in zip(st.columns(4), step_pictures(steps)):
            column.image(picture, caption=caption, width="stretch", output_format="PNG")
    try:
        data = cached_mnist("mnist")
    except DataError as err:
        st.caption(f"MNIST's digits cannot be loaded to compare with ({err}).")
        return
    examples = class_examples(data.train_images.numpy(), data.train_labels.numpy(), record.label, EXAMPLES,
                              seed=record.label)
    st.markdown(f"**MNIST training digits labelled {record.label}**, for comparison")
    for column, example in zip(st.columns(EXAMPLES), examples):
        column.image(_big(example, 4), width="stretch", output_format="PNG")
    comparison = _comparison(record.image.tobytes(), record.label, f"{data.source}:{len(data.train_images)}")
    st.info(comparison.sentence, icon="🔍")
    st.caption(f"Measured on the {comparison.count:,} MNIST training digits of class {record.label}: stroke "
               "thickness (inked pixels over edge pixels), slant (from the ink's second moments), the ink box's "
               "width and height in 28×28, and the amount of ink.")
