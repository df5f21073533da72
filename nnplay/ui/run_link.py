"""A run's link on the Train page: ``/train?run=<id>`` opens that run, in its owner's workspace or read-only.

What lives here: reading the link (``open_linked_run``: the controls take the run's configs, its
charts are shown, and a usable run of this workspace becomes the picked model), the link itself
(``run_url``, ``link_box``: a link under the run's charts), the read-only view of another workspace's run
(``foreign_run_view``: status, charts and settings, and "Copy to my runs"), the guard that keeps a
second press of Start (another tab, a reload in between, a double click) from starting a second
run (``start_refusal``), a renamed run's new name in the select boxes at once (``show_new_name``), keeping the link in the address bar (``follow``, ``kept_params``, ``forget``, and
``undo_stale_address`` against a rerun the browser sent before it heard of the link)
and the space the runs take (``space_caption``). The Train page calls these in a few lines.
What does not live here: the store and the workspace (``workspace``, ``workspace_runs``, ``nnplay.store``), the live view
itself (``live``), the Train page's own controls and run view (pages/train.py).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import streamlit as st

from ..codec import cli_command, to_query
from ..names import escape_markdown, plain_name
from ..runs import Run
from ..store import StoreError
from .live import live_run_view
from .kept_choices import set_pick
from .widgets import folded_code
from .workspace import store, workspace_mode
from .workspace_runs import copy_to_my_runs, run_by_id, session_runs, space_used

RUN_PARAM = "run"
OPENED_KEY = "_run_link_opened"  # the run id whose link this session has already applied
NOTE_KEY = "_train_note"  # the Train page shows (and clears) this note at its top
SAME_START_SECONDS = 30.0  # Start with the very settings of a run started this recently is a repeated press
# a widget of the Train page only (no persist_state): in the session state only when the last run drew this page
PAGE_WIDGET = "train_start"


def _shown(text: str) -> str:
    """An id or a name inside a markdown sentence: plain text (no markup, no link), cut at 80 characters."""
    return escape_markdown(plain_name(text))


def run_url(run_id: str, page: str = "train") -> str:
    """The run's link: absolute when the browser's address is known (``st.context.url``), else from the root."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = f"{'/' + base if base else ''}/{page}?{RUN_PARAM}={run_id}"
    try:
        parts = urlsplit(st.context.url or "")
    except (AttributeError, ValueError):
        return path
    return f"{parts.scheme}://{parts.netloc}{path}" if parts.scheme and parts.netloc else path


def open_linked_run(apply_configs) -> tuple[Run | None, bool]:
    """(the run ``?run=<id>`` names, whether it is this workspace's), or (None, False) without a link.

    The first time a session meets a link, the controls take the run's configs (``apply_configs(data,
    model, train)``), the runs list selects it, and a usable run of this workspace becomes the picked
    model (the page then reruns once so the sidebar's picker shows it). A link to a run that does not
    exist says so and shows nothing else.
    """
    run_id = st.query_params.get(RUN_PARAM)
    if not run_id:
        return None, False
    run, mine = run_by_id(run_id)
    if run is None:
        # plain text, cut: a crafted link holds URLs to click, or 100,000 characters to print
        st.warning(f"No run has the id {_shown(run_id)}: it was deleted, or the link was cut short. "
                   "Your own runs are listed below.", icon=":material/link_off:")
        return None, False
    if st.session_state.get(OPENED_KEY) != run_id:
        st.session_state[OPENED_KEY] = run_id
        if not run.unreadable:  # the defaults stand in for settings that could not be read: never train those
            apply_configs(run.data_cfg, run.model_cfg, run.train_cfg)
        if mine:
            st.session_state["train_pick"] = run.id
            st.session_state["_train_pick_n"] = len(session_runs())
            if run.usable:
                set_pick(run.id)
                st.rerun()  # the sidebar's picker was drawn before this page: draw it again with this run
    return run, mine


def _history_navigation() -> bool:
    """Whether this run comes from the browser's back or forward button (Streamlit's own flag; False without it)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return False
    return bool(getattr(get_script_run_ctx(), "is_history_navigation", False))


def undo_stale_address(written: dict | None) -> bool:
    """Put this session's address back when a rerun brings an older one (``written``: the page's settings as it
    last wrote them); True when it did.

    The browser sends its address with every rerun. One it sent before it applied a newer link (the previous
    run's view ending, or another click, just after Start) names the previous run, or none: within a session
    the page's own link wins, as it does for Streamlit's widgets bound to the URL. A page opened afresh, a
    switch from another page, and the browser's back and forward buttons still open what the address names.
    """
    own = st.session_state.get(OPENED_KEY)
    if own is None or PAGE_WIDGET not in st.session_state or _history_navigation():
        return False
    if st.query_params.get(RUN_PARAM) == own:
        return False
    st.query_params.from_dict({**(written or {}), RUN_PARAM: own})
    return True


def follow(run: Run) -> None:
    """Put a newly started run's link in the address bar, so a reload or a bookmark opens it again."""
    st.query_params[RUN_PARAM] = run.id
    st.session_state[OPENED_KEY] = run.id


def kept_params() -> dict[str, str]:
    """The link's own part of the query string, to keep when the page writes its settings there."""
    run_id = st.query_params.get(RUN_PARAM)
    return {RUN_PARAM: run_id} if run_id else {}


def forget(run: Run) -> None:
    """The run was deleted: its link leaves the address bar."""
    if st.query_params.get(RUN_PARAM) == run.id:
        del st.query_params[RUN_PARAM]
    st.session_state.pop(OPENED_KEY, None)


def link_box(run: Run) -> None:
    """The run's link, as a link in a caption under its charts."""
    url = run_url(run.id)
    # a link, not a code box: a code box's highlighter costs every page load (see ``folded_code``)
    st.caption(f"Link to this run (opens its settings, charts and model; in another workspace, a read-only "
               f"view): [{url}]({url})")


def start_refusal(active: Run | None, configs: tuple, confirmed: bool, now: float | None = None) -> str | None:
    """Why Start must not start a run now, or None.

    A run of this workspace that trains already, started with these same settings less than
    ``SAME_START_SECONDS`` ago, is the run this press would start again (a double click, or Start in a
    page drawn before a reload or in another tab): refused. Any other training run is stopped only when
    the user ticked the box that says so on this page (a page drawn before that run started shows no
    box): else refused too.
    """
    if active is None:
        return None
    age = (now or time.time()) - active.created
    if age < SAME_START_SECONDS and None not in configs and to_query(*configs) == to_query(
            active.data_cfg, active.model_cfg, active.train_cfg):
        return (f"{_shown(active.name)} started {age:.0f} s ago with these same settings and is training (shown "
                "below), so Start did not begin a second one.")
    if not confirmed:
        return (f"{_shown(active.name)} is training (started in another tab, or before the page was reloaded), so "
                "Start did not begin a new run. To replace it, tick \"Stop it and start the new run\" and press Start.")
    return None


def show_new_name() -> None:
    """A run was renamed: the runs list's and Compare's boxes and the sidebar's picker show its new name in this
    rerun. A select box sends its choice back as its label, so the browser keeps the old label until the value
    is given to it again (which setting the key does)."""
    from .model_picker import PICKER_KEY

    for key in ("train_pick", "train_compare", PICKER_KEY):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _format_bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def space_caption() -> None:
    """How much disk the workspace's runs take, and where on a local install (a shared server's paths are its own)."""
    where = (f" (models and files, in `{store().runs_dir}`; their records and curves are in `{store().path}`)"
             if workspace_mode() == "local" else "")
    st.caption(f"Your runs take {_format_bytes(space_used())} on disk{where}.")


def _copy(run: Run) -> None:
    """Copy button callback: the copy becomes this workspace's run, the link moves to it, its model is picked."""
    try:
        copy = copy_to_my_runs(run)
    except StoreError as err:
        st.session_state[NOTE_KEY] = f"The run could not be copied: {err}"
        return
    follow(copy)
    st.session_state["train_pick"] = copy.id
    st.session_state["_train_pick_n"] = len(session_runs())
    if copy.usable:
        set_pick(copy.id)
    st.session_state[NOTE_KEY] = (f"Copied: {_shown(copy.name)} is now one of your runs" +
                                  (", and its model is the current model." if copy.usable else "."))


# Their digits file is a path on the server, inside another workspace: never shown to this one.
THEIR_DIGITS = "their-digits.npz"


def foreign_run_view(run: Run, render, **options) -> None:
    """Another workspace's run, read-only: what it is, its status and charts, its settings, and Copy to my runs."""
    st.info(f"This run, {_shown(run.name)}, belongs to another workspace: you see it read-only (its "
            "status, charts and settings). Copy it to your runs to keep it, compare it or use its model.",
            icon=":material/visibility:")
    st.button("Copy to my runs", key="train_copy_run", type="primary", on_click=_copy, args=(run,),
              disabled=run.active,
              help="a run that is still training can be copied once it has ended" if run.active else
              "its record, curves and model files become a run of your workspace")
    live_run_view(run, render, key=f"train_link_{run.id}", **options)
    folded_code("Its settings, as a command line", "train_link_cli_open",
                lambda: cli_command(run.data_cfg, run.model_cfg, run.train_cfg, digits_file=THEIR_DIGITS),
                language="bash")
    st.caption("The controls above now hold its settings: press Start to train the same network yourself.")
