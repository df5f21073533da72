"""The run store and this browser's workspace in it, with the cookie that keeps it.

A local install (server bound to localhost, the default in .streamlit/config.toml) has one workspace,
"local", which ``python -m nnplay train`` records into too. A server bound to another address gives each
browser its own workspace: a random token kept in a cookie (``nnplay_ws``, written by a small v2 component,
since Streamlit only reads cookies) and accepted from the URL (``?ws=<token>``), which is how the same
workspace opens in another browser. ``NNPLAY_WORKSPACES=local|browser`` overrides the choice.
What does not live here: the workspace's runs (``workspace_runs``), its kept settings (``settings``).
"""

from __future__ import annotations

import os
import re
import secrets

import streamlit as st

from ..store import LOCAL_WORKSPACE, Store, open_store_or_fallback

WORKSPACE_KEY = "nnplay_workspace"
COOKIE = "nnplay_ws"
COOKIE_SECONDS = 365 * 24 * 3600
COOKIE_WRITER_KEY = "nnplay_ws_cookie"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1")

# runs in the app's page (a v2 component has no frame of its own), so document.cookie is the app's
_COOKIE_JS = """
export default function ({ data }) {
  if (data && data.cookie) document.cookie = data.cookie;
}
"""


def store() -> Store:
    """The process's run store (read-only, or a fresh temporary one, when the real one cannot be used:
    ``store().notice`` then says why)."""
    return open_store_or_fallback()


def workspace_mode() -> str:
    """"local" (one workspace: a server only this machine reaches) or "browser" (one per browser; always in class
    mode, ``nnplay.classroom``)."""
    from ..classroom.teacher import class_mode

    if class_mode():
        return "browser"
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


@st.cache_resource(show_spinner=False)
def _cookie_writer():
    # hidden: it draws nothing, and its empty element would add a gap to the sidebar
    return st.components.v2.component("nnplay.workspace_cookie", js=_COOKIE_JS, isolate_styles=False,
                                      css=f".st-key-{COOKIE_WRITER_KEY} {{ display: none; }}")


def cookie_text(token: str) -> str:
    """The ``document.cookie`` assignment that keeps ``token`` for a year on every path of the app."""
    return f"{COOKIE}={token}; path=/; max-age={COOKIE_SECONDS}; SameSite=Lax"


def keep_workspace_cookie() -> None:
    """Write this browser's workspace token into its cookie (a year long), so a reload or a new tab opens the
    same workspace. The app frame calls it on every run until the browser's cookie holds the token (Streamlit
    reads cookies once, when the page connects)."""
    if workspace_mode() == "local":
        return
    ws = workspace()
    if (st.context.cookies or {}).get(COOKIE) == ws:
        return
    _cookie_writer()(data={"cookie": cookie_text(ws)}, key=COOKIE_WRITER_KEY)


def workspace_link(page: str = "train") -> str:
    """The relative link that opens this workspace in another browser (empty on a local install)."""
    return "" if workspace_mode() == "local" else f"/{page}?ws={workspace()}"


