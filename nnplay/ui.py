"""The UI glue: the only module in nnplay that imports streamlit.

It holds what several pages share: the dataset loaded once per process (``st.cache_resource``),
the session's runs and its current model (``st.session_state``), the shipped default model, and
small widgets every page uses (the data notice, error boxes), and the live view of a training run
(a component that fetches the run's snapshot from a ``live.LiveFeed`` file, with no rerun). Pages
read widgets, build configs, call the library and draw; the training itself runs in ``runs.Run``
threads that never call st.*.
"""

from __future__ import annotations

import gc
from pathlib import Path

import streamlit as st

from .checkpoint import CheckpointError, load_checkpoint
from .config import DataConfig, ModelConfig
from .data import DataError, MnistData, default_data_dir, load_mnist
from .live import LiveFeed
from .live import snapshot as live_snapshot
from .runs import Run, Sweep

DEFAULT_MODEL_FILE = Path(__file__).parent / "assets" / "default_model.pt"
RUNS_KEY = "nnplay_runs"
FEEDS_KEY = "nnplay_live_feeds"
SWEEPS_KEY = "nnplay_sweeps"


def ensure_navigation() -> None:
    """Make a bookmarked page URL open inside app.py's navigation; every page calls this first.

    With a folder named ``pages/`` beside app.py, a fresh Streamlit server runs the first requested
    page file by itself (its legacy multipage mode) until some run calls ``st.navigation``; a direct
    link to /draw would then show no sidebar and no shared frame. If that happened, switch the
    legacy mode off and rerun: the rerun goes through app.py, which opens this same URL path.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if PagesManager.uses_pages_directory:
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
    """cached_mnist, or an error box and st.stop() when the data cannot be had."""
    try:
        data = cached_mnist(dataset)
    except DataError as err:
        st.error(f"The {dataset} data could not be loaded. {err}")
        st.stop()
    if data.notice:
        st.info(data.notice, icon="ℹ️")
    return data


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


# -- a drawing canvas that answers sooner --------------------------------------------------------
# streamlit-drawable-canvas (MIT licence, © its authors; https://pypi.org/project/streamlit-drawable-canvas/)
# waits a fixed 200 ms after each stroke before it sends the drawing to Python, a constant of its
# JavaScript bundle with no parameter. fast_canvas registers a second st.components.v2 component
# whose JavaScript is that same bundle, read from the installed package at run time, with the one
# debounce argument shortened, and mounts it through the package's own st_canvas (a copy of the
# function whose global ``out`` is the new component), so arguments and result are the package's.
# Fail-safe: if the bundle does not have the expected shape (another version), it is the stock
# st_canvas, unchanged.

CANVAS_DEBOUNCE_MS = 30
_FAST_CANVAS_COMPONENT = "nnplay.fast_drawable_canvas"


@st.cache_resource(show_spinner=False)
def _fast_st_canvas():
    """The package's st_canvas mounting the shorter-debounce component, or the stock st_canvas."""
    import logging
    import re
    import types

    import streamlit_drawable_canvas as sdc

    stock = sdc.st_canvas
    try:
        build = Path(sdc.__file__).parent / "frontend" / "build"
        (js_file,), (css_file,) = sorted(build.glob("index-*.js")), sorted(build.glob("index-*.css"))
        js = js_file.read_text(encoding="utf-8")
        # e.g. ``h.sender = Nh((c) => Ic(h, c), Bc)`` with ``Bc = 200`` defined once
        senders = list(re.finditer(r"(\.sender = \w+\(\(\w+\) => \w+\(\w+, \w+\), )([A-Za-z_$][\w$]*)\)", js))
        if len(senders) != 1 or len(re.findall(rf"(?<![\w$.]){re.escape(senders[0][2])} = 200\b", js)) != 1:
            raise ValueError("debounce constant not found")
        if "out" not in stock.__code__.co_names:
            raise ValueError("st_canvas does not mount the module-level `out`")
        start, end = senders[0].span(2)
        component = st.components.v2.component(
            _FAST_CANVAS_COMPONENT,
            js=js[:start] + str(CANVAS_DEBOUNCE_MS) + js[end:] + "\n",  # a newline: inline, not a path
            css=css_file.read_text(encoding="utf-8") + "\n",
            html='<div class="canvas-root"></div>',  # as the package registers its own
            isolate_styles=True,
        )
    except Exception as exc:  # noqa: BLE001 — any surprise: the stock canvas still works
        logging.getLogger(__name__).warning("fast_canvas: using the stock canvas (%s)", exc)
        return stock
    fast = types.FunctionType(stock.__code__, {**stock.__globals__, "out": component},
                              stock.__name__, stock.__defaults__, stock.__closure__)
    fast.__kwdefaults__, fast.__doc__ = stock.__kwdefaults__, stock.__doc__
    return fast


def fast_canvas(**kwargs):
    """``streamlit_drawable_canvas.st_canvas(**kwargs)``, sending a stroke 30 ms after it ends, not 200."""
    return _fast_st_canvas()(**kwargs)



# -- the live view of a training run -------------------------------------------------------------
# A run's live view is one v2 component (assets/live_run.js): status line, progress bar, the run's
# Plotly charts and a caption. While the run trains, a live.LiveFeed writes its snapshot to a file in
# a folder this process serves, and the component fetches that file twice a second and draws it in
# place: no Streamlit rerun while training (each rerun re-renders the whole page in the browser,
# CPU taken from the training), no blink, and Plotly.react on the same <div> keeps the user's zoom.
# When the run ends the component reruns the page once. plotly.js is the copy inside the installed
# plotly package. Both folders are served by Streamlit's static route for components (a
# components.v1 declaration that is never mounted): /component/nnplay.ui.<name>/<file>.

_LIVE_RUN_JS = Path(__file__).parent / "assets" / "live_run.js"
_LIVE_CSS = """
.nnplay-live { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #31333f); }
.nnplay-live-status, .nnplay-live-progress-text, .nnplay-live-caption {
  height: 1.5rem; line-height: 1.5rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.nnplay-live-progress-text, .nnplay-live-caption { font-size: 0.875rem; }
.nnplay-live-caption { opacity: 0.7; }
.nnplay-live-track { height: 0.5rem; margin: 0.2rem 0 1rem; border-radius: 0.25rem; overflow: hidden;
  background: var(--st-secondary-background-color, #f0f2f6); }
.nnplay-live-fill { height: 100%; width: 0; background: var(--st-primary-color, #4c6ef5); }
.nnplay-live-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr));
  gap: 1rem; }
.nnplay-live-chart { min-width: 0; }
.nnplay-live-error { color: var(--st-red-color, #d62728); font-size: 0.875rem; }
.st-key-nnplay_live_preload { display: none; }
/* what changes twice a second has a fixed size: its changes are laid out and painted inside it only */
.nnplay-live-status, .nnplay-live-progress-text, .nnplay-live-caption, .nnplay-live-track,
.nnplay-live-chart { contain: strict; }
"""
LIVE_POLL_MS = 480  # the view fetches its snapshot every 0.48 s on a fixed beat: 2.08 times a second


@st.cache_resource(show_spinner=False)
def _live_component():
    import plotly
    from streamlit.components.v1 import declare_component

    declare_component("plotlyjs", path=str(Path(plotly.__file__).parent / "package_data"))
    return st.components.v2.component(
        "nnplay.live_run",
        html='<div class="nnplay-live"></div>',
        css=_LIVE_CSS,
        js=_LIVE_RUN_JS.read_text(encoding="utf-8"),
        isolate_styles=False,
    )


@st.cache_resource(show_spinner=False)
def _live_folder() -> Path:
    """A private temporary folder for the feeds' files, served under /component/nnplay.ui.live/; once per process."""
    import atexit
    import shutil
    import tempfile

    from streamlit.components.v1 import declare_component

    folder = Path(tempfile.mkdtemp(prefix="nnplay-live-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    declare_component("live", path=str(folder))
    return folder


def _served(name: str, filename: str) -> str:
    """The URL of a file in a folder declared above (honours server.baseUrlPath)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{__name__}.{name}/{filename}"


def live_run_view(run: Run, render, key: str, **options) -> None:
    """A run's status, progress and charts: polled from a ``LiveFeed`` while it trains, else drawn once.

    ``render(run, options)`` returns the snapshot (see assets/live_run.js); ``options`` (e.g.
    ``smoothing=0.6``) go to it, and changing them redraws an active run's view within a period.
    """
    component = _live_component()
    data: dict = {"plotly_url": _served("plotlyjs", "plotly.min.js"), "run": run.id}
    feeds = st.session_state.setdefault(FEEDS_KEY, {})
    feed = feeds.get(run.id)
    if run.active:
        if feed is None:
            feed = feeds[run.id] = LiveFeed(run, _live_folder(), render)
            feed.options = dict(options)
            feed.start()
        feed.set_options(**options)
        data.update(url=_served("live", feed.path.name), period_ms=LIVE_POLL_MS)
    else:
        data["snapshot"] = live_snapshot(run, render, options)
    component(data=data, key=key, on_ended_change=lambda: None)


def preload_live_view() -> None:
    """Have the browser load plotly.js now (once per page load), so a first run's view draws at once."""
    _live_component()(data={"preload": True, "plotly_url": _served("plotlyjs", "plotly.min.js")},
                      key="nnplay_live_preload")


def drop_live_feed(run: Run) -> None:
    """Forget a run's feed and delete its file (the run was deleted)."""
    feed = st.session_state.get(FEEDS_KEY, {}).pop(run.id, None)
    if feed is not None:
        feed.remove()
