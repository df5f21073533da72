"""The digit last drawn on /draw, kept in the session for the other pages (Forward uses it as its input)."""

from __future__ import annotations

import streamlit as st

DRAWN_KEY = "nnplay_drawn_digit"


def remember_drawn_digit(image_u8) -> None:
    """Keep the Draw page's latest 28×28 uint8 input (numpy) so other pages can use it."""
    st.session_state[DRAWN_KEY] = image_u8


def drawn_digit():
    """The 28×28 uint8 digit last drawn on /draw in this session, or None."""
    return st.session_state.get(DRAWN_KEY)
