"""A number typed in a text box and checked by the page: ``number_box`` (the widget) and ``read_number`` (the check).

A Streamlit number box drops a value outside its range in the browser (2**53 or more, 1e400, anything above its
max) and keeps the old one without telling the page, so the button beside it acts on a value the user no longer
sees. ``number_box`` draws a text box instead: the page gets every value typed and refuses a bad one with a
sentence naming the field, shown under the box, and disables its button. The Train page's numbers go through
``codec`` the same way (``codec.TYPED``).
"""

from __future__ import annotations

import math

import streamlit as st


def read_number(label: str, text: str, minimum: float, maximum: float, whole: bool = True,
                optional: bool = False) -> int | float | None:
    """``text`` as a number from ``minimum`` to ``maximum`` (a whole one when ``whole``; None for an empty text
    when ``optional``); ValueError with a sentence that names ``label`` otherwise."""
    text = str(text).strip()
    if optional and text == "":
        return None
    kind = "a whole number" if whole else "a number"
    empty = " (or nothing, for the default)" if optional else ""
    shown = text if len(text) <= 40 else text[:39] + "…"  # a pasted page of digits is not printed whole
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        value = None
    if value is None or (not whole and not math.isfinite(value)) or not minimum <= value <= maximum:
        raise ValueError(f"{label}: write {kind} from {minimum:,} to {maximum:,}{empty}; got {shown!r}.")
    return value


def number_box(container, label: str, key: str, default: int | float | None, minimum: float, maximum: float,
               whole: bool = True, optional: bool = False, help: str | None = None, refuse=None,
               **widget) -> tuple[int | float | None, str]:
    """A text box for a number in ``container``: (its value, "") or (None, the sentence that refuses what was
    typed, also shown under the box, or in ``refuse`` when given: a narrow column's box says it under its row).
    ``default`` fills it the first time (None: empty); ``widget``: more arguments of the text box
    (``persist_state``)."""
    st.session_state.setdefault(key, "" if default is None else f"{default:g}" if isinstance(default, float)
                                else str(default))
    text = container.text_input(label, key=key, help=help or f"{minimum:,} to {maximum:,}", **widget)
    try:
        return read_number(label, text, minimum, maximum, whole, optional), ""
    except ValueError as err:
        (container if refuse is None else refuse).error(str(err), icon=":material/block:")
        return None, str(err)
