"""What the app frame does once per process as the server starts, and the hook that keeps a deep link in the app.

What lives here: ``training_backend`` (the worker pool or Ray, started with the first page) and its sidebar line
(``training_backend_caption``), the server's
torch threads (``SERVER_THREADS``), ``freeze_long_lived_objects`` (a full garbage collection never stalls
training), ``send_replies_at_once`` (Nagle's algorithm off, see ``sockets``) and ``ensure_navigation``
(a bookmarked page opens inside app.py's navigation). What does not: the data (``data``), the workspace
(``workspace``), the runs (``workspace_runs``).
"""

from __future__ import annotations

import gc
import os
import sys

import streamlit as st

from ..jobs import backend, threads_enabled
from .sockets import nodelay_on_server_sockets


def training_backend() -> str:
    """Start the process's training backend once (app.py calls this on every page load) and say where runs train.

    The local pool's workers start with the first page, so the first Start finds them warm; they exit
    with the server (the pool closes at exit, and a worker whose parent is gone exits by itself).
    A backend that cannot start is said in a sentence; runs then end "error" with that sentence.
    """
    if threads_enabled():
        return "in the server's process (NNPLAY_WORKERS=0)"
    try:
        _training_backend()
        return backend().describe()  # asked on each page load: a Ray cluster being reached says how it goes
    except (RuntimeError, ValueError) as err:
        return f"nowhere: {err}"


def _reaching() -> str:
    """How reaching the training backend goes: "connected" (or a backend that needs no reaching), "connecting" or
    "unreachable" (a Ray cluster that has not answered)."""
    try:
        made = backend()
    except (RuntimeError, ValueError):
        return "connected"  # nothing to wait for: the sentence is said as it is
    if getattr(made, "connected", True):
        return "connected"
    return "unreachable" if made.unreachable() else "connecting"


def training_backend_caption(device: str) -> None:
    """The sidebar's "Device: … · runs train in …" line. While a Ray cluster is being reached it redraws itself
    every ``REDRAW_S`` seconds (a fragment), so that it says without a click when the cluster cannot be reached,
    and when it answers."""
    def line() -> None:
        st.caption(f"{device} · runs train in {training_backend()}")

    if threads_enabled() or _reaching() == "connected":
        line()
    else:
        st.fragment(line, run_every=REDRAW_S)()


REDRAW_S = 1.0  # while a Ray cluster is being reached, how often the sidebar's line looks again


SERVER_THREADS = 1
"""torch's intra-op threads in the server's process once training runs elsewhere (workers or Ray).

What the server computes with torch is small (a drawn digit, 16 probe digits, one layer's weights); with more
threads its parallel regions wait for cores the workers hold, and their spinning threads slow the training."""


@st.cache_resource(show_spinner="Starting the training workers…")
def _training_backend() -> bool:
    import torch

    backend()  # a Ray backend returns at once and reaches its cluster in a thread of its own
    torch.set_num_threads(SERVER_THREADS)  # threads that run their first torch op later take this count too
    return True


@st.cache_resource(show_spinner=False)
def freeze_long_lived_objects() -> int:
    """Hide the objects alive now (modules: torch, plotly, pandas…) from the garbage collector; once per process.

    A full collection walks every tracked object (hundreds of thousands once torch is imported) holding the GIL a training
    thread needs; Python runs one now and then on its own, and Streamlit after every script run unless
    ``runner.postScriptGC`` is off (it is, in .streamlit/config.toml; not in AppTest). ``gc.freeze()`` moves
    them to a permanent generation, so a collection only walks what was made since; garbage made later is
    still collected. Returns how many were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@st.cache_resource(show_spinner=False)
def send_replies_at_once() -> int:
    """``sockets.nodelay_on_server_sockets`` once per process: the web server's replies and a page's
    messages go out without waiting for the browser's acknowledgement (see that module)."""
    return nodelay_on_server_sockets()


def ensure_navigation() -> None:
    """Make a bookmarked page URL open inside app.py's navigation; every page calls this first.

    With a folder named ``pages/`` beside app.py, a fresh Streamlit server runs the first requested
    page file by itself (its legacy multipage mode) until some run calls ``st.navigation``; a direct
    link to /draw would then show no sidebar and no shared frame. If that happened, switch the
    legacy mode off and rerun: the rerun goes through app.py, which opens this same URL path.
    Sessions that a fresh server starts side by side may each have begun in the legacy mode before one of
    them switched it off: a run that did not go through the main script (``_through_main_script``) reruns too.
    The flag is private to Streamlit: tests/browser/test_navigation_browser.py opens three deep links at once on
    a fresh server, so an upgrade that moves it fails that test instead of bringing the bug back.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()
    if not _through_main_script():
        st.rerun()


def _through_main_script() -> bool:
    """Whether this script run executes the app's main script (app.py, whose navigation runs the page; under
    AppTest the page itself), from the frames of the call stack; True outside a script run."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    main = getattr(ctx, "main_script_path", None)
    if not main:
        return True
    names = {main, os.path.realpath(main)}
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name in names or (os.path.basename(name) == os.path.basename(main) and os.path.realpath(name) in names):
            return True
        frame = frame.f_back
    return False
