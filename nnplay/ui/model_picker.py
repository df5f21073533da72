"""The one model picker every page follows, and the model a page uses when none is picked.

What lives here: ``model_picker`` (the sidebar's choice: every usable run of this workspace and the shipped
default, kept in the store; a sentence for a pick that cannot be used and for runs left out of the list),
``picked_run`` (the run it resolves to), ``pick_problem``, ``picked_model``, ``default_model``
(the shipped one, ``DEFAULT_MODEL_FILE``) and ``model_for_page``. What does not: where the pick is kept
(``settings``), the runs (``workspace_runs``).
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, load_checkpoint
from ..config import ModelConfig
from ..names import escape_markdown, plain_name
from ..runs import Run
from ..store import StoreError
from .kept_choices import DEFAULT, LATEST, pick, set_pick
from .workspace import store, workspace
from .workspace_runs import run_by_id, session_runs

DEFAULT_MODEL_FILE = Path(__file__).parent.parent / "assets" / "default_model.pt"
PICKER_KEY = "nnplay_model_pick"
PROBLEM_KEY = "_nnplay_pick_problem"  # why the run picked could not be used, said until the next pick
BOX_CHARS = 30  # about what the sidebar's box shows of a name before it cuts it
NOTE_CHARS = 400  # a sentence under the picker is cut here (a run's name may be long)
_REPEATED = re.compile(r"(.*) (\([a-z]+\)) \2")
LEFT_OUT_NAMED = 3  # the runs left out of the list named under it; the rest counted


def picker_label(name: str, status: str) -> str:
    """ "run 3 · 14:02 · MLP … (finished)": the name and the status, once ("relu baseline (loaded)" stays so)."""
    suffix = f" ({status})"
    return name if name.endswith(suffix) else name + suffix


def _status_once(label: str) -> str:
    """A store's picker label ("name (status)") whose name already ends with the status, said once."""
    repeated = _REPEATED.fullmatch(label)
    return f"{repeated.group(1)} {repeated.group(2)}" if repeated else label


def _listed() -> tuple[list[tuple[Run, str]], list[Run]]:
    """([(run, label)] of the workspace's usable runs, newest first; the runs the store says kept a model that
    cannot be used now: files gone or unreadable). Each run the store lists is checked with ``Run.usable``, so
    none is listed that switches away when chosen; unkept in-memory runs are added where the store is read-only."""
    try:
        choices = [(i, _status_once(label)) for i, label in store().picker_choices(workspace())]
    except StoreError:
        choices = []
    listed = {r.id: r for r in session_runs(say_errors=False)}
    usable, left_out = [], []
    for run_id, label in choices:
        run = listed.get(run_id) or run_by_id(run_id)[0]
        if run is not None and run.usable:
            usable.append((run, label))
        elif run is not None and run.status != "diverged":  # a diverged run never offered its model
            left_out.append(run)
    ids = {i for i, _ in choices}
    extra = [(r, picker_label(r.name, r.status)) for r in reversed(list(listed.values()))
             if r.store is None and r.usable and r.id not in ids] if store().read_only else []
    return extra + usable, left_out


def _usable_ids() -> list[tuple[str, str]]:
    """(id, label) of the workspace's usable runs, newest first (unkept in-memory ones where the store is read-only)."""
    return [(r.id, label) for r, label in _listed()[0]]


def picked_run() -> Run | None:
    """The run whose model the pages use: the picked run when its model can be used; else (no pick, "latest", or
    the pick is gone or unusable: ``pick_problem`` says why) the newest usable run; None when the default model
    is picked or there is no usable run."""
    choice = pick()
    if choice == DEFAULT:
        return None
    if choice != LATEST:
        run, own = run_by_id(choice)
        if run is not None and own and run.usable and run.model is not None:
            return run
    for run, _ in _listed()[0]:
        if run.model is not None:  # a file that turns out unreadable: the next run, and the picker drops it
            return run
    return None


def pick_problem() -> str:
    """"" when the picked model is used, else a sentence: why the run picked cannot be used, and what is used."""
    choice = pick()
    if choice in (DEFAULT, LATEST):
        return ""
    run, own = run_by_id(choice)
    if run is None or not own:
        return ""
    why = run.why_not_usable()
    if not why:
        return ""
    current = picked_run()
    instead = f"the newest usable run, {current.name}, is used" if current is not None else \
        "nnplay's default model is used"
    return f"{why[:1].upper()}{why[1:]} Instead {instead}."


def model_picker(where=None, key: str = PICKER_KEY) -> None:
    """The model picker: every usable run of this workspace and the shipped default; the choice is written
    to the store, so every page and a reload use it (``picked_run``, ``model_for_page``). Under it, a sentence
    when the picked run cannot be used, when runs the store lists as kept are left out (files gone or
    unreadable), and when the model used is not the run's final one (``Run.model_note``)."""
    where = where or st
    current = picked_run()  # first: a file it found unreadable on the way drops its run from the list
    usable, left_out = _listed()
    choices = {r.id: label for r, label in usable}
    value = current.id if current is not None else DEFAULT
    options = list(choices) + [DEFAULT]
    if value not in options:
        options.insert(0, value)
        choices[value] = picker_label(current.name, current.status)
    labels = {**choices, DEFAULT: "nnplay's default model"}
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    where.selectbox("Model", options, key=key, format_func=lambda i: labels.get(i, i),
                    on_change=lambda: (set_pick(st.session_state[key]), st.session_state.pop(PROBLEM_KEY, None)),
                    help="The model Inspect, Draw and Forward use: any finished, stopped, loaded or interrupted "
                         "run of your workspace (or one whose worker failed after an epoch was kept), or the "
                         "shipped default. The choice is kept across reloads.")
    if len(labels[value]) > BOX_CHARS:  # the box cuts a long name: say it whole under it
        where.caption(escape_markdown(labels[value]))
    problem = pick_problem()
    if problem:  # said for the rest of this session (until another pick); the workspace follows the newest again
        st.session_state[PROBLEM_KEY] = problem
        set_pick(LATEST)
    if st.session_state.get(PROBLEM_KEY):
        where.warning(escape_markdown(plain_name(st.session_state[PROBLEM_KEY], NOTE_CHARS)), icon=":material/block:")
    if current is not None and current.model_note:
        where.caption(escape_markdown(plain_name(f"{current.name}: {current.model_note}", NOTE_CHARS)))
    others = [r for r in left_out if r.id != pick()]  # the picked one has its own sentence above
    if others:
        names = "; ".join(plain_name(r.name, 60) for r in others[:LEFT_OUT_NAMED])
        more = len(others) - LEFT_OUT_NAMED
        where.caption(escape_markdown(f"Not in this list: {names}" + (f" and {more} more" if more > 0 else "") +
                                      ". Their model files are gone from the run store's folder or cannot be read; "
                                      "their curves and settings are still on the Train page."))


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
