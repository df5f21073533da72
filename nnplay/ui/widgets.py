"""Small widgets several pages share: ``folded_code``, a code block built and sent only while it is open."""

from __future__ import annotations

import streamlit as st


def folded_code(label: str, key: str, code, language: str | None = "python", head=None, **options) -> None:
    """An expander whose code block (``code()``, the text) is built and sent only while it is open;
    ``head(expander)`` draws what goes above the code (e.g. a download button), folded or not.

    Why: the first code block on a page makes the browser set up its syntax highlighter on every load,
    folded or not. Opening or folding it reruns the page.
    """
    box = st.expander(label, key=key, on_change="rerun")
    if head is not None:
        head(box)
    if box.open:
        box.code(code(), language=language, **options)
