"""Hooks into private corners of Streamlit and multiprocessing, each checked without a browser.

What lives here: the legacy ``pages/`` flag that ``ensure_navigation`` turns off (where Streamlit keeps it,
and a first request for /draw on a fresh server through Streamlit's own websocket protocol: the page is run
inside app.py's navigation); the never-mounted component route that serves the live view's files (plotly.js
and a feed's folder, fetched over HTTP from a served script that declares them as the app does); and
``_main_hidden`` in nnplay/jobs/local.py (a pool worker started by a program whose main module imports
streamlit never imports streamlit itself).
What does not live here: the same deep link in real Chromium (tests/browser/test_navigation_browser.py), the
live view's drawing (tests/browser/test_train_browser.py), the pool's behaviour (tests/test_jobs.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from nnplay.devtools import served_app

from .conftest import ROOT

APP_TITLES = ["Train", "Inspect", "Draw", "Your digits", "Activations", "Forward pass", "Experiments", "Sweeps", "Compare runs",
              "Published results", "From scratch", "Class"]
LINKED_TITLES = [title for title in APP_TITLES if title != "Class"]  # the Class page is linked for the teacher only


def script_run(url: str, page: str = "", timeout: float = 180) -> list:
    """The ForwardMsgs of one browser session's first script run on the server at ``url``, asking for ``page``
    (a URL path such as "draw") as Streamlit's frontend does, until a run finishes successfully."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    messages = []
    deadline = time.monotonic() + timeout
    with connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                 open_timeout=30) as ws:
        back = BackMsg()
        back.rerun_script.page_name = page
        back.rerun_script.query_string = ""
        ws.send(back.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            messages.append(message)
            if message.WhichOneof("type") == "script_finished":
                assert message.script_finished != ForwardMsg.FINISHED_WITH_COMPILE_ERROR
                if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return messages


def _texts(messages) -> list[str]:
    """The markdown and text elements a script run sent."""
    out = []
    for message in messages:
        if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            kind = element.WhichOneof("type")
            if kind in ("markdown", "text", "heading"):
                out.append(getattr(element, kind).body)
    return out


# -- ensure_navigation: the legacy pages/ flag ------------------------------------------------------------


def test_the_legacy_pages_flag_is_where_ensure_navigation_turns_it_off(monkeypatch):
    """Streamlit keeps the flag on ``PagesManager``, sets it for a pages/ folder beside app.py, and
    ``ensure_navigation`` (imported from nnplay.ui, wherever the package keeps it) turns it off and reruns."""
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    from nnplay.ui import ensure_navigation

    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)  # as on a fresh server
    PagesManager(str(ROOT / "app.py"))
    assert PagesManager.uses_pages_directory is True  # a folder named pages/ beside app.py: the legacy mode
    reruns = []
    monkeypatch.setattr(st, "rerun", lambda: reruns.append("rerun"))
    ensure_navigation()
    assert PagesManager.uses_pages_directory is False and reruns == ["rerun"]
    ensure_navigation()  # off already: no second rerun
    assert reruns == ["rerun"]


def test_a_run_that_began_in_the_legacy_mode_after_another_switched_it_off_reruns(monkeypatch):
    """Sessions a fresh server starts side by side: one switched the flag off while another's run was already
    running its page by itself. That run did not go through the main script, so it reruns; a run that did, not."""
    import types

    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils import script_run_context

    from nnplay.ui import ensure_navigation

    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)  # switched off by another session
    reruns = []
    monkeypatch.setattr(st, "rerun", lambda: reruns.append("rerun"))
    for main, expected in ((str(ROOT / "app.py"), ["rerun"]), (__file__, [])):  # this test's file is on the stack
        reruns.clear()
        ctx = types.SimpleNamespace(main_script_path=main)
        monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda *a, **k: ctx)
        ensure_navigation()
        assert reruns == expected, main


@pytest.mark.slow
def test_a_first_request_for_a_page_on_a_fresh_server_runs_it_inside_app_navigation(tmp_path):
    with served_app(tmp_path / "home") as url:
        messages = script_run(url, "draw")
    navigations = [m.navigation for m in messages if m.WhichOneof("type") == "navigation"]
    assert navigations, "the server sent no navigation"
    last = navigations[-1]
    titles = [p.page_name for p in last.app_pages if p.url_pathname]  # the default page has the empty path
    assert titles == APP_TITLES  # app.py's pages and titles, not one page per file of pages/
    shown = next(p for p in last.app_pages if p.page_script_hash == last.page_script_hash)
    assert shown.url_pathname == "draw"  # the page asked for, run inside app.py
    assert any("nnplay" in text for text in _texts(messages))  # the shared frame's heading
    assert not [m for m in messages if m.WhichOneof("type") == "delta"
                and m.delta.new_element.WhichOneof("type") == "exception"]


# -- the live view's files: a components.v1 route that is never mounted ----------------------------------

LIVE_SCRIPT = """
import json, os
from nnplay.ui import live

live.preload_live_view()  # the Train page's first call: declares plotly.js's folder
folder = live._live_folder()  # a running view's first call: declares the feeds' folder
(folder / "probe.json").write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
"""


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


@pytest.mark.slow
def test_the_live_views_files_are_served_by_streamlits_component_route(tmp_path):
    from nnplay.ui.live import _served

    script = tmp_path / "live_app.py"
    script.write_text(LIVE_SCRIPT, encoding="utf-8")
    with served_app(tmp_path / "home", script=script) as url:
        probe = url + _served("feeds", "probe.json")
        assert _get(probe)[0] == 404  # nothing declared before a script has run
        script_run(url)
        status, body = _get(probe)
        assert status == 200 and b'"pid"' in body, (status, body[:200])
        status, body = _get(url + _served("plotlyjs", "plotly.min.js"))
        assert status == 200 and b"plotly.js" in body[:2000] and len(body) > 1_000_000
        assert _get(url + _served("feeds", "no-such-file.json"))[0] == 404


# -- _main_hidden: pool workers never import streamlit ----------------------------------------------------

# Run in every process of the test's tree (PYTHONPATH): note the process, and the first import of streamlit in it.
SITECUSTOMIZE = """
import os, sys

_MARKS = os.environ["NNPLAY_TEST_MARKS"]
open(os.path.join(_MARKS, f"started-{os.getpid()}"), "w").close()


class _NoteStreamlit:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit":
            open(os.path.join(_MARKS, f"streamlit-{os.getpid()}"), "w").close()
        return None


sys.meta_path.insert(0, _NoteStreamlit())
"""

# The app's process as ``streamlit run`` leaves it: a main module that imported streamlit, starting a pool.
MAIN = """
import os, sys
import streamlit
from nnplay.jobs.local import LocalPool

if __name__ == "__main__":
    pool = LocalPool(workers=1, threads=1, preload=None, max_run_minutes=0, memory_mb=0)
    assert pool.wait_ready(180), "the worker did not start"
    worker = pool.worker_pids()[0]
    parent = int(open(f"/proc/{worker}/stat").read().rsplit(")", 1)[1].split()[1])
    has_torch = "libtorch" in open(f"/proc/{parent}/maps").read()
    print(worker, parent, int(has_torch), len(os.listdir(f"/proc/{parent}/task")))
    pool.close()
"""


@pytest.mark.pool
def test_a_pool_worker_never_imports_streamlit(tmp_path):
    marks, site = tmp_path / "marks", tmp_path / "site"
    marks.mkdir()
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    main = tmp_path / "app_main.py"
    main.write_text(textwrap.dedent(MAIN), encoding="utf-8")
    env = {**os.environ, "NNPLAY_TEST_MARKS": str(marks),
           "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.Popen([sys.executable, str(main)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err[-3000:]
    worker, parent, parent_has_torch, parent_threads = (int(x) for x in out.split())
    started = {int(p.name.split("-")[1]) for p in marks.iterdir() if p.name.startswith("started-")}
    imported = {int(p.name.split("-")[1]) for p in marks.iterdir() if p.name.startswith("streamlit-")}
    assert done.pid in started and done.pid in imported  # the app's process: noted
    # forked from the pool's fork server (Linux: this test reads /proc), a fresh process (it ran the same
    # note-taking) that imported torch for its workers to share
    assert parent != done.pid and parent in started and parent_has_torch and worker not in started
    assert parent_threads == 1  # it forks with no other thread running (OpenBLAS's pool included)
    # neither the worker nor its fork server imported streamlit (a worker inherits what its server imported)
    assert imported == {done.pid}, "a pool worker imported streamlit (its __main__ was re-run)"
