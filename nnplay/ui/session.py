"""The app glue's session state: data shared by every session, the session's runs and models.

It holds what several pages share: the dataset loaded once per process (``st.cache_resource``),
the session's runs and its current model (``st.session_state``), the shipped default model, and
small widgets every page uses (the data notice, error boxes). Pages read widgets, build configs,
call the library and draw; the training itself runs in ``runs.Run`` threads that never call st.*.
What does not live here: the canvas (``canvas``) and the live view of a run (``live``).
"""

from __future__ import annotations

import gc
from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, load_checkpoint
from ..config import DataConfig, ModelConfig
from ..data import DataError, MnistData, default_data_dir, load_mnist
from ..runs import Run, Sweep

DEFAULT_MODEL_FILE = Path(__file__).parent.parent / "assets" / "default_model.pt"
RUNS_KEY = "nnplay_runs"
SWEEPS_KEY = "nnplay_sweeps"


def ensure_navigation() -> None:
    """Make a bookmarked page URL open inside app.py's navigation; every page calls this first.

    With a folder named ``pages/`` beside app.py, a fresh Streamlit server runs the first requested
    page file by itself (its legacy multipage mode) until some run calls ``st.navigation``; a direct
    link to /draw would then show no sidebar and no shared frame. If that happened, switch the
    legacy mode off and rerun: the rerun goes through app.py, which opens this same URL path.
    The flag is private to Streamlit: tests/browser/test_navigation_browser.py opens a deep link on
    a fresh server, so an upgrade that moves it fails that test instead of bringing the bug back.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def cached_mnist(dataset: str = "mnist") -> MnistData:
    """The whole dataset as uint8 tensors, decoded once and shared by every session (read-only).

    Keyed by the data folder as well as the dataset, so a changed $NNPLAY_DATA_DIR is read anew
    rather than served another folder's data.
    """
    return _cached_mnist(dataset, str(default_data_dir()))


@st.cache_resource(show_spinner="Loading the dataset…")
def _cached_mnist(dataset: str, data_dir: str) -> MnistData:
    return load_mnist(DataConfig(dataset=dataset, data_dir=data_dir))


@st.cache_resource(show_spinner=False)
def freeze_long_lived_objects() -> int:
    """Hide the objects alive now (modules: torch, plotly, pandas…) from the garbage collector; once per process.

    A full collection walks every tracked object (~400k once torch is imported, ~0.3 s) holding the
    GIL a training thread needs; Python runs one now and then on its own, and Streamlit after every
    script run unless ``runner.postScriptGC`` is off (it is, in .streamlit/config.toml; not in
    AppTest). ``gc.freeze()`` moves them to a permanent generation, so a collection only walks what
    was made since; garbage made later is still collected. Returns how many were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def dataset_or_stop(dataset: str = "mnist") -> MnistData:
    """cached_mnist, or an error box and st.stop() when the data cannot be had; shows the data's notice."""
    try:
        data = cached_mnist(dataset)
    except DataError as err:
        st.error(f"The {dataset} data could not be loaded. {err}")
        st.stop()
    if data.notice:
        st.info(data.notice, icon="ℹ️")
    return data


def show_data_notice(dataset: str = "mnist") -> None:
    """The data's notice (e.g. "this is the built-in sample") on a page that uses the data only on
    demand (Draw's quick training, Activations' race); nothing when the data cannot be loaded, since
    the part that needs it says so when it is used."""
    try:
        data = cached_mnist(dataset)
    except DataError:
        return
    if data.notice:
        st.info(data.notice, icon="ℹ️")


# -- the digit last drawn on /draw, for the other pages ----------------------------------------------

DRAWN_KEY = "nnplay_drawn_digit"


def remember_drawn_digit(image_u8) -> None:
    """Keep the Draw page's latest 28×28 uint8 input (numpy) so other pages can use it."""
    st.session_state[DRAWN_KEY] = image_u8


def drawn_digit():
    """The 28×28 uint8 digit last drawn on /draw in this session, or None."""
    return st.session_state.get(DRAWN_KEY)


# -- the session's runs ------------------------------------------------------------------------


def session_runs() -> list[Run]:
    """This browser session's runs, oldest first."""
    return st.session_state.setdefault(RUNS_KEY, [])


def add_run(run: Run) -> Run:
    session_runs().append(run)
    return run


def remove_run(run: Run) -> None:
    """Forget a run (stopping it first if it is still training)."""
    if run.active:
        run.stop()
    runs = session_runs()
    runs[:] = [r for r in runs if r is not run]
    from .live import drop_live_feed

    drop_live_feed(run)


def active_run() -> Run | None:
    """The session's run that is training now, if any (one at a time)."""
    return next((r for r in reversed(session_runs()) if r.active), None)


def current_run() -> Run | None:
    """The session's current model: the last run that finished, was stopped, or was loaded."""
    return next((r for r in reversed(session_runs()) if r.usable), None)


def current_model() -> tuple[object, ModelConfig, str] | None:
    """(model, its config, a label) of the current run, or None before any run finished."""
    run = current_run()
    if run is None:
        return None
    return run.model, run.model_cfg, run.name


def session_sweeps() -> dict[str, Sweep]:
    """This session's sweeps (experiments, races) by name."""
    return st.session_state.setdefault(SWEEPS_KEY, {})


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
    """(model, config, label, is_default): the session's current model, else the shipped default."""
    current = current_model()
    if current is not None:
        return (*current, False)
    default = default_model()
    if default is None:
        return None
    model, cfg, meta = default
    acc = meta.get("test_accuracy")
    label = "nnplay's default model (seed 000 MLP" + (f", test accuracy {acc:.1%})" if acc else ")")
    return model, cfg, label, True
