"""Browser fixtures: the real app served by ``streamlit run`` and a headless Chromium page.

The app is started once per test session (``app_url``), or once for a test that needs a server no
page was requested from yet (``fresh_app_url``), on a free localhost port with the same environment
as the tests (so NNPLAY_DATA_DIR applies) and its own run store (NNPLAY_HOME in a temporary folder,
never the user's). Chromium is Debian's /usr/bin/chromium, driven by
Playwright; tests skip with a reason when either is missing.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ..conftest import ROOT

CHROMIUM = os.environ.get("NNPLAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(home, workspaces: str | None = None):
    """Start ``streamlit run app.py`` on a free localhost port with its run store in ``home``; yield its base URL; stop it.
    ``workspaces="browser"`` gives each browser its own workspace (as a shared server does; NNPLAY_WORKSPACES)."""
    port = _free_port()
    env = {**os.environ, "NNPLAY_HOME": str(home)}
    if workspaces:
        env["NNPLAY_WORKSPACES"] = workspaces
    log = open(ROOT / ".pytest_cache" / f"streamlit-{port}.log", "w") if (ROOT / ".pytest_cache").exists() \
        else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Base URL (no trailing slash) of the app running in a subprocess, shared by the session's tests."""
    with served_app(tmp_path_factory.mktemp("browser-nnplay-home")) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path):
    """Base URL of an app server started for this test alone: no page has been requested from it yet."""
    with served_app(tmp_path / "nnplay-home") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()
