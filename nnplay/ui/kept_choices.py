"""Choices a workspace keeps across reloads, tabs and restarts: view settings and the picked model.

What lives here: ``restore_setting`` (a widget starts at the workspace's last choice), ``save_setting`` (its
``on_change``: the choice is written to the store) and the model pick (``set_pick``, ``pick``: a run's id,
``LATEST`` or ``DEFAULT``). What does not: the model picker widget and what the pick resolves to
(``model_picker``).
"""

from __future__ import annotations

import streamlit as st

from ..store import StoreError
from .workspace import store, workspace


def restore_setting(key: str, default, parse=float, valid=None) -> None:
    """Start the widget ``key`` at the workspace's last choice (kept in the store, so a reload, another tab or a
    restart begins where the learner left it, as TensorBoard keeps its smoothing), else ``default``; once per
    session. Pass ``on_change=save_setting, args=(key,)`` to the widget. A value that ``parse`` refuses or
    ``valid`` rejects: ``default``."""
    if key in st.session_state:
        return
    value = default
    try:
        text = store().setting(workspace(), key)
        if text is not None:
            value = None if text == "none" else parse(text)
    except (StoreError, ValueError, TypeError):
        value = default
    st.session_state[key] = value if valid is None or valid(value) else default


def save_setting(key: str) -> None:
    """Write the widget ``key``'s value as the workspace's choice (a read-only store: this session only)."""
    value = st.session_state.get(key)
    try:
        store().set_setting(workspace(), key, "none" if value is None else str(value))
    except StoreError:
        pass


# -- the picked model ------------------------------------------------------------------------------

PICK_SETTING = "model"
LATEST = "latest"      # follow the newest usable run
DEFAULT = "default"    # the shipped default model
_SESSION_PICK = "_nnplay_pick"


def set_pick(value: str) -> None:
    """Make ``value`` (a run's id, ``LATEST`` or ``DEFAULT``) the workspace's picked model."""
    try:
        store().set_setting(workspace(), PICK_SETTING, value)
    except StoreError:
        st.session_state[_SESSION_PICK] = value  # a read-only store: keep the choice for this session


def pick() -> str:
    """The workspace's picked model: a run's id, ``LATEST`` or ``DEFAULT``."""
    if _SESSION_PICK in st.session_state:
        return st.session_state[_SESSION_PICK]
    try:
        return store().setting(workspace(), PICK_SETTING, LATEST)
    except StoreError:
        return LATEST
