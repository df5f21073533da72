"""Browser fixtures: the real app served by ``streamlit run`` and a headless Chromium page.

The app is started once per test session (``app_url``), or once for a test that needs a server no
page was requested from yet (``fresh_app_url``), on a free localhost port with the same environment
as the tests (so NNPLAY_DATA_DIR applies) and its own run store (NNPLAY_HOME in a temporary folder,
never the user's). Chromium is Debian's /usr/bin/chromium, driven by
Playwright; tests skip with a reason when either is missing. Serving and launching are
``nnplay.devtools``'s, shared with the benchmarks in scripts/.
"""

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from nnplay import devtools

from ..conftest import ROOT


@contextlib.contextmanager
def served_app(home, workspaces: str | None = None, env: dict | None = None):
    """``devtools.served_app`` with the server's output in .pytest_cache/streamlit-<port>.log when that folder exists."""
    cache = ROOT / ".pytest_cache"
    log = open(cache / f"streamlit-{os.getpid()}-{time.monotonic_ns()}.log", "w") if cache.exists() else subprocess.DEVNULL
    with devtools.served_app(home, workspaces=workspaces, env=env, log=log) as url:
        yield url


@pytest.fixture(scope="session")
def app_home(tmp_path_factory):
    """The run store's folder (NNPLAY_HOME) of the app that ``app_url`` serves: a test reads what the app kept."""
    return tmp_path_factory.mktemp("browser-nnplay-home")


@pytest.fixture(scope="session")
def app_url(app_home):
    """Base URL (no trailing slash) of the app running in a subprocess, shared by the session's tests."""
    with served_app(app_home) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path):
    """Base URL of an app server started for this test alone: no page has been requested from it yet."""
    with served_app(tmp_path / "nnplay-home") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(devtools.CHROMIUM).exists():
        pytest.skip(f"no Chromium at {devtools.CHROMIUM}")
    with playwright.sync_playwright() as p:
        b = devtools.launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()
