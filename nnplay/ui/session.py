"""The app glue's session state: data shared by every session, the workspace, its runs and models.

It holds what several pages share: the dataset loaded once per process (``st.cache_resource``),
the run store (``nnplay.store``, one per process) and this browser's workspace in it, the
workspace's runs (from the store; a run this process trains is the same ``Run`` object in every
tab, ``runs.REGISTRY``), the one model picker whose choice every page follows and a reload keeps
(a per-workspace setting in the store), the shipped default model, and small widgets every page
uses (the data notice, error boxes), and the training backend (``training_backend``: the local
worker pool or Ray, started with the app's first page and closed when the process exits). Pages
read widgets, build configs, call the library and draw; the training itself runs in worker
processes (or, with ``NNPLAY_WORKERS=0``, ``runs.Run`` threads that never call st.*). What does not live here:
the canvas (``canvas``), the live view of a run (``live``) and a run's link (``run_link``).
A sweep (experiments, races) lives in the session while it is started; after a reload
``restore_sweep`` reads the latest one back from the store by its group.

Workspaces: a local install (server bound to localhost, the default in .streamlit/config.toml)
has one workspace, "local", which ``python -m nnplay train`` records into too. A server bound to
another address gives each browser its own workspace: a random token kept in a cookie
(``nnplay_ws``, set by a small script since Streamlit only reads cookies) and accepted from the
URL (``?ws=<token>``), which is how the same workspace opens in another browser.
``NNPLAY_WORKSPACES=local|browser`` overrides the choice.
"""

from __future__ import annotations

import gc
import os
import re
import secrets
import time
from pathlib import Path

import streamlit as st

from ..checkpoint import CheckpointError, load_checkpoint
from ..config import DataConfig, ModelConfig
from ..data import DataError, MnistData, default_data_dir, load_mnist
from ..runs import REGISTRY, Run, Sweep, delete_run, find_run, jobs_enabled, workspace_runs
from ..store import LOCAL_WORKSPACE, Store, StoreError, open_store_or_fallback
from .sockets import nodelay_on_server_sockets

DEFAULT_MODEL_FILE = Path(__file__).parent.parent / "assets" / "default_model.pt"
SWEEPS_KEY = "nnplay_sweeps"


def training_backend() -> str:
    """Start the process's training backend once (app.py calls this on every page load) and say where runs train.

    The local pool's workers start with the first page, so the first Start finds them warm; they exit
    with the server (the pool closes at exit, and a worker whose parent is gone exits by itself).
    A backend that cannot start is said in a sentence; runs then end "error" with that sentence.
    """
    if not jobs_enabled():
        return "in the server's process (NNPLAY_WORKERS=0)"
    try:
        return _training_backend()
    except (RuntimeError, ValueError) as err:
        return f"nowhere: {err}"


SERVER_THREADS = 1
"""torch's intra-op threads in the server's process once training runs elsewhere (workers or Ray).

What the server computes with torch is small (a drawn digit, 16 probe digits, one layer's weights), and its
parallel regions shared the cores with the workers: each waited for a busy core, and while it waited its
other thread spun. With 2 threads, loading a run's live weights took ~27 ms in the server during training
(py-spy; 0.1 ms of work), and the server's torch time cost the training beside it twice over."""


@st.cache_resource(show_spinner="Starting the training workers…")
def _training_backend() -> str:
    import torch

    from ..jobs import backend

    where = backend().describe()
    torch.set_num_threads(SERVER_THREADS)  # threads that run their first torch op later take this count too
    return where


def folded_code(label: str, key: str, code, language: str | None = "python", head=None, **options) -> None:
    """An expander whose code block (``code()``, the text) is built and sent only while it is open;
    ``head(expander)`` draws what goes above the code (e.g. a download button), folded or not.

    Why: the first code block on a page makes the browser set up its syntax highlighter, about 0.2 s of
    its main thread on every load, folded or not (measured in Chromium on 2 cores). Opening or folding it
    reruns the page.
    """
    box = st.expander(label, key=key, on_change="rerun")
    if head is not None:
        head(box)
    if box.open:
        box.code(code(), language=language, **options)


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


@st.cache_resource(show_spinner=False)
def send_replies_at_once() -> int:
    """``sockets.nodelay_on_server_sockets`` once per process: the web server's replies and a page's
    messages go out without waiting ~40 ms each for the browser's acknowledgement (see that module)."""
    return nodelay_on_server_sockets()


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


# -- the store and this browser's workspace ---------------------------------------------------------

WORKSPACE_KEY = "nnplay_workspace"
COOKIE = "nnplay_ws"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1")


def store() -> Store:
    """The process's run store (read-only, or a fresh temporary one, when the real one cannot be used:
    ``store().notice`` then says why)."""
    return open_store_or_fallback()


def workspace_mode() -> str:
    """"local" (one workspace: a server only this machine reaches) or "browser" (one per browser)."""
    mode = os.environ.get("NNPLAY_WORKSPACES", "").strip().lower()
    if mode in ("local", "browser"):
        return mode
    address = str(st.get_option("server.address") or "")
    return "local" if address in LOCAL_ADDRESSES else "browser"


def workspace() -> str:
    """This browser's workspace: "local" on a local install; else ``?ws=`` from the URL, the cookie, or a
    new random token (kept in the session and written to the cookie)."""
    if workspace_mode() == "local":
        return LOCAL_WORKSPACE
    from_url = st.query_params.get("ws")
    if from_url and _TOKEN.match(from_url):
        st.session_state[WORKSPACE_KEY] = from_url
    if WORKSPACE_KEY not in st.session_state:
        cookie = (st.context.cookies or {}).get(COOKIE)
        st.session_state[WORKSPACE_KEY] = cookie if cookie and _TOKEN.match(cookie) else secrets.token_urlsafe(16)
    return st.session_state[WORKSPACE_KEY]


def keep_workspace_cookie() -> None:
    """Write this browser's workspace token into its cookie (a year long), so a reload or a new tab opens the
    same workspace. The app frame calls it on every run until the browser's cookie holds the token (Streamlit
    reads cookies once, when the page connects). The script runs in a same-origin component frame."""
    if workspace_mode() == "local":
        return
    ws = workspace()
    if (st.context.cookies or {}).get(COOKIE) == ws:
        return
    import streamlit.components.v1 as components

    components.html(f"<script>parent.document.cookie = '{COOKIE}={ws}; path=/; max-age=31536000; "
                    "SameSite=Lax';</script>", height=0)


def workspace_link(page: str = "train") -> str:
    """The relative link that opens this workspace in another browser (empty on a local install)."""
    return "" if workspace_mode() == "local" else f"/{page}?ws={workspace()}"


# -- the workspace's runs ----------------------------------------------------------------------------


_LISTED: dict[str, tuple[tuple, float, list[Run]]] = {}  # workspace → (store's changes, when, its runs)
LIST_SECONDS = 5.0  # a listing is read again at least this often (a run whose process died is then marked)


def session_runs() -> list[Run]:
    """This workspace's runs (Train page and CLI runs; not the sweeps), oldest first.

    A page asks for them several times a run (the list, the active run, compare, the sidebar): the listing
    is read from the store once and kept while the store has not changed (``Store.changes``), at most
    ``LIST_SECONDS``, so a workspace of 1,000 runs is read once per page, not five times."""
    s, ws = store(), workspace()
    try:
        key = (str(s.path), s.changes(), len(REGISTRY))
        kept = _LISTED.get(ws)
        if kept is not None and kept[0] == key and time.monotonic() - kept[1] < LIST_SECONDS:
            return list(kept[2])
        runs = workspace_runs(s, ws)
        _LISTED[ws] = ((str(s.path), s.changes(), len(REGISTRY)), time.monotonic(), runs)
        return list(runs)
    except StoreError as err:
        st.error(str(err))
        return []


def add_run(run: Run) -> Run:
    """Make a new run a record of this workspace; a loaded model becomes the picked one, a new training run
    makes the picker follow the newest run again."""
    run.bind(store(), workspace())
    _set_pick(run.id if run.status == "loaded" else LATEST)
    return run


def remove_run(run: Run) -> None:
    """Delete a run of this workspace: stop it first if it trains, then remove its record and files."""
    if run.workspace != workspace():
        return  # another workspace's run, shown read-only
    try:
        delete_run(run)
    except StoreError as err:
        st.error(str(err))
    _space_used.clear()
    from .live import drop_live_feed

    drop_live_feed(run)


def run_by_id(run_id: str) -> tuple[Run | None, bool]:
    """(the run with this id, whether it belongs to this workspace): for a run link ``/train?run=<id>``;
    a run of another workspace is to be shown read-only, with ``copy_to_my_runs``."""
    try:
        run = find_run(store(), run_id)
    except StoreError:
        return None, False
    if run is None:
        return None, False
    return run, run.workspace == workspace()


def copy_to_my_runs(run: Run) -> Run:
    """Copy another workspace's run (record, curves, model files) into this one; returns the copy."""
    new_id = store().copy_run(run.id, workspace())
    copy, _ = run_by_id(new_id)
    return copy


SPACE_TTL_S = 5.0  # the space caption may be this many seconds old (a delete here refreshes it at once)


def space_used() -> int:
    """Bytes the runs of this workspace take on disk, counted at most every ``SPACE_TTL_S`` seconds: the
    count stats every file (46 ms for 1,000 runs), and the caption is drawn on every load of the Train page.
    A run that ends or comes or goes counts again at once (a run of a few seconds wrote its model after the
    count its Start made)."""
    runs = session_runs()
    return _space_used(str(store().home), workspace(), len(runs), sum(not r.active for r in runs))


@st.cache_data(ttl=SPACE_TTL_S, show_spinner=False)
def _space_used(home: str, workspace_id: str, runs: int = 0, ended: int = 0) -> int:
    """``runs`` and ``ended`` only key the cache."""
    try:
        return store().disk_usage(workspace_id)
    except StoreError:
        return 0


def sweep_store() -> dict:
    """Keyword arguments that make a ``Sweep`` record its runs in this workspace (kind "sweep", kept out of
    the Train runs list and the model picker): ``Sweep(name, runs, data, **ui.sweep_store())``."""
    s = store()
    return {} if s.read_only else {"store": s, "workspace": workspace()}


def active_run() -> Run | None:
    """The workspace's run that this process trains now, if any (one at a time)."""
    return next((r for r in reversed(session_runs()) if r.active and r.owned), None)


# -- view settings kept across reloads ---------------------------------------------------------------


def kept_setting(key: str, default, parse=float, valid=None) -> None:
    """Start the widget ``key`` at the workspace's last choice (kept in the store, so a reload, another tab or a
    restart begins where the learner left it, as TensorBoard keeps its smoothing), else ``default``; once per
    session. Pass ``on_change=keep_setting, args=(key,)`` to the widget. A value that ``parse`` refuses or
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


def keep_setting(key: str) -> None:
    """Write the widget ``key``'s value as the workspace's choice (a read-only store: this session only)."""
    value = st.session_state.get(key)
    try:
        store().set_setting(workspace(), key, "none" if value is None else str(value))
    except StoreError:
        pass


# -- the one model picker ----------------------------------------------------------------------------

PICK_SETTING = "model"
LATEST = "latest"      # follow the newest usable run
DEFAULT = "default"    # the shipped default model
PICKER_KEY = "nnplay_model_pick"


def _set_pick(value: str) -> None:
    try:
        store().set_setting(workspace(), PICK_SETTING, value)
    except StoreError:
        st.session_state["_nnplay_pick"] = value  # a read-only store: keep the choice for this session


def _pick() -> str:
    if "_nnplay_pick" in st.session_state:
        return st.session_state["_nnplay_pick"]
    try:
        return store().setting(workspace(), PICK_SETTING, LATEST)
    except StoreError:
        return LATEST


def _usable_ids() -> list[tuple[str, str]]:
    """(id, label) of the workspace's usable runs, newest first, plus unkept in-memory ones."""
    try:
        choices = store().picker_choices(workspace())
    except StoreError:
        choices = []
    ids = {i for i, _ in choices}
    extra = [(r.id, f"{r.name} ({r.status})") for r in reversed(session_runs())
             if r.store is None and r.usable and r.id not in ids] if store().read_only else []
    return extra + choices


def current_run() -> Run | None:
    """The picked run when it is usable; else (no pick, "latest", or the pick is gone) the newest usable
    run; None when the default model is picked or there is no usable run."""
    pick = _pick()
    if pick == DEFAULT:
        return None
    if pick != LATEST:
        run, own = run_by_id(pick)
        if run is not None and own and run.usable:
            return run
    for run_id, _ in _usable_ids():
        run, _ = run_by_id(run_id)
        if run is not None and run.usable:
            return run
    return None


def model_picker(where=None, key: str = PICKER_KEY) -> None:
    """The model picker: every usable run of this workspace and the shipped default; the choice is written
    to the store, so every page and a reload use it (``current_run``, ``model_for_page``)."""
    where = where or st
    choices = dict(_usable_ids())
    current = current_run()
    value = current.id if current is not None else DEFAULT
    options = list(choices) + [DEFAULT]
    if value not in options:
        options.insert(0, value)
        choices[value] = f"{current.name} ({current.status})"
    labels = {**choices, DEFAULT: "nnplay's default model"}
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    where.selectbox("Model", options, key=key, format_func=lambda i: labels.get(i, i),
                    on_change=lambda: _set_pick(st.session_state[key]),
                    help="The model Inspect, Draw and Forward use: any finished, stopped, loaded or interrupted "
                         "run of your workspace, or the shipped default. The choice is kept across reloads.")


def current_model() -> tuple[object, ModelConfig, str] | None:
    """(model, its config, a label) of the current run, or None when the default model is in use."""
    run = current_run()
    if run is None:
        return None
    model = run.model
    if model is None:
        return None
    return model, run.model_cfg, run.name


def session_sweeps() -> dict[str, Sweep]:
    """This session's sweeps (experiments, races) by name."""
    return st.session_state.setdefault(SWEEPS_KEY, {})


class StoredSweep:
    """A sweep read back from the store (its runs are kept as kind "sweep" in one group): what a page draws
    of a ``runs.Sweep`` (name, runs, created, active, done, stop, wait), after a reload or in another tab.
    A run this process still trains is the live ``Run`` object (``runs.REGISTRY``), so a sweep that trains
    goes on showing live, and ``stop`` stops it and the runs still queued."""

    def __init__(self, name: str, runs: list[Run]):
        self.name, self.runs = name, runs
        self.created = min((r.created for r in runs), default=0.0)

    @property
    def active(self) -> bool:
        return any(r.active for r in self.runs)

    @property
    def done(self) -> int:
        return sum(not r.active for r in self.runs)

    def stop(self) -> None:
        for run in self.runs:
            run.stop()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for run in self.runs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            run.wait(left)
        return not self.active


def restore_sweep(key: str, group: str) -> Sweep | StoredSweep | None:
    """This session's sweep ``key``; after a reload (none in the session), the workspace's latest stored sweep
    whose group is ``group`` or starts with it (``"experiments/lr/"`` matches ``"experiments/lr/quick"``),
    kept in the session under ``key``. None when there is none."""
    sweeps = session_sweeps()
    if key in sweeps:
        return sweeps[key]
    s = store()
    try:
        latest = s.latest_group(workspace(), group)
        if latest is None:
            return None
        runs = [r for r in workspace_runs(s, workspace(), kinds=("sweep",)) if r.group == latest]
    except StoreError:
        return None
    if not runs:
        return None
    sweeps[key] = StoredSweep(latest, runs)
    return sweeps[key]


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
