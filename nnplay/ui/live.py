"""The live view of a training run: a v2 component that polls a ``feed.LiveFeed`` file, with no rerun.

What lives here: ``live_run_view``, ``sidebar_status`` (the status the page says first, which the view compares
its news with), ``plotly_figure``, ``preload_live_view``, ``drop_live_feed``, the folders the
component's files are served from, and the process's feeds (one per training run, view and options, shared by
every tab and reload that shows it with those options). What does not: what a view shows
(``figures.train.live_view_content``, or any ``render(run, options)``), and the file's writer (``feed``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import streamlit as st

from ..runs import Run, status_text
from .feed import LiveFeed, halt_feeds, render_content

FEEDS_KEY = "nnplay_live_feeds"
SHOWN_KEY = "nnplay_sidebar_status"  # run id → its status as the sidebar said it in this script run

# -- the live view of a training run -------------------------------------------------------------
# A run's live view is one v2 component (nnplay/ui/live_run.js): status line, progress bar, the run's
# Plotly charts and a caption. While the run trains, a feed.LiveFeed writes its snapshot to a file in
# a folder this process serves, and the component fetches that file twice a second and draws it in
# place: no Streamlit rerun while training (each rerun re-renders the whole page in the browser,
# CPU taken from the training), no blink, and Plotly.react on the same <div> keeps the user's zoom.
# When the run ends the component reruns the page once. plotly.js is the copy inside the installed
# plotly package. Both folders are served by Streamlit's static route for components (a
# components.v1 declaration that is never mounted): /component/nnplay.ui.live.<name>/<file>.

_LIVE_RUN_JS = Path(__file__).parent / "live_run.js"
_PLOTLY_LOADER_JS = Path(__file__).parent / "plotly_loader.js"
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
.nnplay-live-bare .nnplay-live-status, .nnplay-live-bare .nnplay-live-progress, .nnplay-live-bare .nnplay-live-caption {
  display: none; }
/* what changes twice a second has a fixed size: its changes are laid out and painted inside it only */
.nnplay-live-status, .nnplay-live-progress-text, .nnplay-live-caption, .nnplay-live-track,
.nnplay-live-chart { contain: strict; }
"""
LIVE_POLL_MS = 480  # the view fetches its snapshot every 0.48 s on a fixed beat: 2.08 times a second
# ...or once a second while its snapshot says "calm" (Run.calm): the run trains at full speed, or waits, while
# the runs training take every core of this machine (one worker with all of them, NNPLAY_WORKERS=1, or every
# worker of the pool busy), where the browser's CPU, if it runs here too, comes out of the runs' time (and a
# worker of several threads loses about twice that: its threads wait for each other): scripts/bench_train_page.py
CALM_POLL_MS = 1000


def component_js(path: Path) -> str:
    """A v2 component's code: nnplay/ui/plotly_loader.js (one plotly.js loader for every component) then ``path``."""
    return _PLOTLY_LOADER_JS.read_text(encoding="utf-8") + "\n" + path.read_text(encoding="utf-8")


@st.cache_resource(show_spinner=False)
def _live_component():
    import plotly
    from streamlit.components.v1 import declare_component

    declare_component("plotlyjs", path=str(Path(plotly.__file__).parent / "package_data"))
    return st.components.v2.component(
        "nnplay.live_run",
        html='<div class="nnplay-live"></div>',
        css=_LIVE_CSS,
        js=component_js(_LIVE_RUN_JS),
        isolate_styles=False,
    )


@st.cache_resource(show_spinner=False)
def _live_folder() -> Path:
    """A private temporary folder for the feeds' files, served under /component/nnplay.ui.live.feeds/; once per process."""
    import atexit
    import shutil
    import tempfile

    from streamlit.components.v1 import declare_component

    folder = Path(tempfile.mkdtemp(prefix="nnplay-live-"))

    def remove() -> None:  # the feeds first: they write into it to the end
        halt_feeds()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    declare_component("feeds", path=str(folder))
    return folder


def _served(name: str, filename: str) -> str:
    """The URL of a file in a folder declared above (honours server.baseUrlPath)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/component/{__name__}.{name}/{filename}"


def sidebar_status(run: Run | None) -> str | None:
    """The training run's status for the sidebar (``runs.status_text``), kept for this script run: the sidebar is
    drawn first, and the run's status may change before the live view is drawn (its start arrives meanwhile).
    The view compares its news with what the sidebar says, not with that newer word, so such a change still
    reruns the page and the sidebar follows. None when no run trains."""
    shown = {} if run is None else {run.id: status_text(run)}
    st.session_state[SHOWN_KEY] = shown
    return shown.get(run.id) if run is not None else None


def live_run_view(run: Run, render, key: str, scroll: bool = False, **options) -> None:
    """A run's status, progress and charts: polled from a ``LiveFeed`` while it trains, else drawn once.

    ``render(run, options)`` returns the view's content (see nnplay/ui/live_run.js); ``options`` (e.g.
    ``smoothing=0.6``) go to it: this session's view moves to the feed of the new options (at once: a new
    feed writes its first snapshot as it starts), and other viewers keep theirs.
    ``scroll=True`` brings the view into the window when it is first drawn (after Start).
    While the run trains, the view reruns the page when its snapshot's ``status`` (``runs.status_text``, as
    ``figures.train.live_view_content`` gives it) is no longer the one the page was drawn with (the sidebar's,
    ``sidebar_status``, read first), so the sidebar and the runs list say what the view says; a run that ended
    after the sidebar was drawn reruns the page once too.
    """
    component = _live_component()
    data: dict = {"plotly_url": _served("plotlyjs", "plotly.min.js"), "run": run.id}
    if scroll:
        data["scroll"] = True
    feeds = st.session_state.setdefault(FEEDS_KEY, {})
    feed = feeds.get(run.id)
    if run.active:
        if feed is None or feed.closed or feed.options != options:
            feed = feeds[run.id] = _shared_feed(run, render, options, _viewer(), leaving=feed)
        # the latest snapshot comes with the page, so the view is drawn at once and its first fetch brings news
        said = st.session_state.get(SHOWN_KEY, {}).get(run.id) or status_text(run)  # the sidebar's word first
        data.update(url=_served("feeds", feed.path.name), period_ms=LIVE_POLL_MS, calm_period_ms=CALM_POLL_MS,
                    initial=feed.latest, run_status=said)
    else:
        data["snapshot"] = render_content(run, render, options)
        data["snapshot"].pop("detach", None)  # drawn once: every figure comes with the page
        said = st.session_state.get(SHOWN_KEY, {}).get(run.id)
        if said:  # it ended while the page was drawn, after the sidebar said it trains: the view reruns it once
            data["run_status"] = said
    component(data=data, key=key, on_ended_change=lambda: None, on_status_change=lambda: None)


_SHARED: dict[tuple[str, str, str], LiveFeed] = {}  # (run id, view, options) → its feed, shared by its viewers
_shared_lock = threading.Lock()
VIEWER_KEY = "nnplay_live_viewer"


class _Viewer:
    """A browser session, as a feed counts its viewers: it lives in the session's state and goes with it."""

    def __init__(self, session_id: str | None):
        self.session_id = session_id


def _viewer() -> _Viewer:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    viewer = st.session_state.get(VIEWER_KEY)
    if viewer is None:
        ctx = get_script_run_ctx()
        viewer = st.session_state[VIEWER_KEY] = _Viewer(ctx.session_id if ctx is not None else None)
    return viewer


def _watching(viewer: _Viewer) -> bool:
    """Whether the viewer's browser tab is still connected (without a Streamlit server, as under AppTest: yes)."""
    from streamlit.runtime import Runtime

    if viewer.session_id is None or not Runtime.exists():
        return True
    return Runtime.instance().is_active_session(viewer.session_id)


def _shared_feed(run: Run, render, options: dict, viewer: _Viewer, leaving: LiveFeed | None = None) -> LiveFeed:
    """The process's one feed of this run, view and options, started if none runs; ``viewer`` joins it (and
    leaves ``leaving``, its feed of other options). A reload, a second tab or another viewer with the same
    options joins it rather than adding a thread that renders the same view again (each one costs the
    training CPU time); a viewer who picks other options (the smoothing, the network view's digit) gets its
    own, so nobody changes what another sees. A feed nobody views any more stops (``LiveFeed.leave``)."""
    # a function by its name; an object (e.g. a WatchView, one per session) by its type: the same view
    view = getattr(render, "__qualname__", type(render).__qualname__)
    key = (run.id, view, json.dumps(options, sort_keys=True, default=str))
    with _shared_lock:
        if leaving is not None:
            leaving.leave(viewer)
        for old in [k for k, f in _SHARED.items() if f.thread is not None and not f.thread.is_alive()]:
            del _SHARED[old]  # feeds of runs that ended, or that nobody views
        feed = _SHARED.get(key)
        if feed is None or not feed.join(viewer):
            feed = _SHARED[key] = LiveFeed(run, _live_folder(), render, watching=_watching)
            feed.options = dict(options)
            feed.join(viewer)
            feed.start()
        return feed


def plotly_figure(figure, key: str, clickable: bool = False) -> dict | None:
    """A Plotly figure (``go.Figure``) drawn by this component instead of ``st.plotly_chart``.

    Why: the component loads plotly.js on its own, after the page, where ``st.plotly_chart`` holds every element
    of the page until Streamlit's own Plotly bundle is loaded and compiled (a first visit's slowest part on the
    Forward page: ``scripts/bench_load.py``); and it draws the figure a frame after the page's update
    (what changed beside it shows first), in place, the newest figure only when they come faster than it
    draws (the Draw page after every stroke). ``clickable``: returns ``{"curve": i, "point": j}`` (the trace's
    and the point's index in ``figure.data``) on the rerun a click on a point causes, else None.
    """
    from ..figures.train import figure_json
    from ..figures.watch import plain_spec

    component = _live_component()
    # as plotly.js reads it: Python's colour-scale names ("gray", "RdBu_r") as the scales themselves
    data = {"plotly_url": _served("plotlyjs", "plotly.min.js"), "bare": True, "clickable": clickable,
            "snapshot": {"figures": [figure_json(plain_spec(figure, heavy=False))]}}
    if not clickable:
        component(data=data, key=key, on_ended_change=lambda: None)
        return None
    result = component(data=data, key=key, on_ended_change=lambda: None, on_click_change=lambda: None)
    click = getattr(result, "click", None)
    return click if isinstance(click, dict) else None


def preload_live_view() -> None:
    """Have the browser load plotly.js now (once per page load), so a first run's view draws at once."""
    _live_component()(data={"preload": True, "plotly_url": _served("plotlyjs", "plotly.min.js")},
                      key="nnplay_live_preload")


def drop_live_feed(run: Run) -> None:
    """Forget a run's feeds and delete their files (the run was deleted)."""
    with _shared_lock:
        gone = [_SHARED.pop(k) for k in [k for k in _SHARED if k[0] == run.id]]
    feed = st.session_state.get(FEEDS_KEY, {}).pop(run.id, None)
    for feed in [*gone, *([feed] if feed is not None else [])]:
        feed.remove()
