"""The one model picker every page follows, and the model a page uses when none is picked.

What lives here: ``model_picker`` (the sidebar's choice: every usable run of this workspace and the shipped
default, kept in the store), ``picked_run`` (the run it resolves to), ``picked_model``, ``default_model``
(the shipped one, ``DEFAULT_MODEL_FILE``) and ``model_for_page``. What does not: where the pick is kept
(``settings``), the runs (``workspace_runs``).
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, load_checkpoint
from ..config import ModelConfig
from ..names import escape_markdown
from ..runs import Run
from ..store import StoreError
from .kept_choices import DEFAULT, LATEST, pick, set_pick
from .workspace import store, workspace
from .workspace_runs import run_by_id, session_runs

DEFAULT_MODEL_FILE = Path(__file__).parent.parent / "assets" / "default_model.pt"
PICKER_KEY = "nnplay_model_pick"
BOX_CHARS = 30  # about what the sidebar's box shows of a name before it cuts it
_REPEATED = re.compile(r"(.*) (\([a-z]+\)) \2")


def picker_label(name: str, status: str) -> str:
    """ "run 3 · 14:02 · MLP … (finished)": the name and the status, once ("relu baseline (loaded)" stays so)."""
    suffix = f" ({status})"
    return name if name.endswith(suffix) else name + suffix


def _status_once(label: str) -> str:
    """A store's picker label ("name (status)") whose name already ends with the status, said once."""
    repeated = _REPEATED.fullmatch(label)
    return f"{repeated.group(1)} {repeated.group(2)}" if repeated else label


def _usable_ids() -> list[tuple[str, str]]:
    """(id, label) of the workspace's usable runs, newest first, plus unkept in-memory ones."""
    try:
        choices = [(i, _status_once(label)) for i, label in store().picker_choices(workspace())]
    except StoreError:
        choices = []
    ids = {i for i, _ in choices}
    extra = [(r.id, picker_label(r.name, r.status)) for r in reversed(session_runs())
             if r.store is None and r.usable and r.id not in ids] if store().read_only else []
    return extra + choices


def picked_run() -> Run | None:
    """The run whose model the pages use: the picked run when it is usable; else (no pick, "latest", or the
    pick is gone) the newest usable run; None when the default model is picked or there is no usable run."""
    choice = pick()
    if choice == DEFAULT:
        return None
    if choice != LATEST:
        run, own = run_by_id(choice)
        if run is not None and own and run.usable:
            return run
    for run_id, _ in _usable_ids():
        run, _ = run_by_id(run_id)
        if run is not None and run.usable:
            return run
    return None


def model_picker(where=None, key: str = PICKER_KEY) -> None:
    """The model picker: every usable run of this workspace and the shipped default; the choice is written
    to the store, so every page and a reload use it (``picked_run``, ``model_for_page``)."""
    where = where or st
    choices = dict(_usable_ids())
    current = picked_run()
    value = current.id if current is not None else DEFAULT
    options = list(choices) + [DEFAULT]
    if value not in options:
        options.insert(0, value)
        choices[value] = picker_label(current.name, current.status)
    labels = {**choices, DEFAULT: "nnplay's default model"}
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    where.selectbox("Model", options, key=key, format_func=lambda i: labels.get(i, i),
                    on_change=lambda: set_pick(st.session_state[key]),
                    help="The model Inspect, Draw and Forward use: any finished, stopped, loaded or interrupted "
                         "run of your workspace, or the shipped default. The choice is kept across reloads.")
    if len(labels[value]) > BOX_CHARS:  # the box cuts a long name: say it whole under it
        where.caption(escape_markdown(labels[value]))


def picked_model() -> tuple[object, ModelConfig, str] | None:
    """(model, its config, a label) of the picked run, or None when the default model is in use."""
    run = picked_run()
    if run is None:
        return None
    model = run.model
    if model is None:
        return None
    return model, run.model_cfg, run.name


@st.cache_resource(show_spinner=False)
def default_model() -> tuple[object, ModelConfig, dict] | None:
    """The shipped default model (trained by scripts/make_default_model.py), or None if missing/unreadable."""
    if not DEFAULT_MODEL_FILE.exists():
        return None
    try:
        return load_checkpoint(DEFAULT_MODEL_FILE)
    except CheckpointError:
        return None


def model_for_page() -> tuple[object, ModelConfig, str, bool] | None:
    """(model, config, label, is_default): the picked model, else the shipped default."""
    current = picked_model()
    if current is not None:
        return (*current, False)
    default = default_model()
    if default is None:
        return None
    model, cfg, meta = default
    acc = meta.get("test_accuracy")
    label = "nnplay's default model (MLP 784-256-10 ReLU, note 000" + (f", test accuracy {acc:.1%})" if acc else ")")
    return model, cfg, label, True
