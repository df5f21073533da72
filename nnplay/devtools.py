"""Driving the real app from outside: serve ``streamlit run app.py``, wait for a condition, open headless Chromium.

What lives here: ``served_app`` (the app on a free localhost port with its own run store), ``free_port``,
``healthy``, ``wait_until``, and ``launch_chromium`` with the Chromium path and flags every driver uses.
The browser tests (tests/browser/) and the benchmarks that drive the app (``scripts/bench_load.py``,
``scripts/bench_reload.py``) import them from here.
Why inside the package: the scripts put the repository root on ``sys.path`` to import ``nnplay`` anyway and
``scripts/`` is no package, so a module of ``nnplay`` is the one place both import without a path trick,
and no script reaches into ``tests/``. Playwright is a test-only package: it is imported only when
``launch_chromium`` is called, which says how to install it when it is missing. No pytest and no streamlit
import here: a server that does not start, or a condition that does not come, raises ``TimeoutError``.
What does not live here: what the tests and benchmarks do in the page.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("NNPLAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(home, workspaces: str | None = None, env: dict | None = None, log=subprocess.DEVNULL,
               timeout: float = 90, script: str | Path = ROOT / "app.py"):
    """Start ``streamlit run app.py`` on a free localhost port with its run store in ``home``; yield its base
    URL; stop it. ``workspaces="browser"`` gives each browser its own workspace (NNPLAY_WORKSPACES);
    ``env`` adds variables; ``log`` takes the server's output; ``script`` serves another script instead."""
    port = free_port()
    env = {**os.environ, **(env or {}), "NNPLAY_HOME": str(home)}
    if workspaces:
        env["NNPLAY_WORKSPACES"] = workspaces
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(url), timeout, f"streamlit to start on port {port}", interval=0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    """``predicate()``'s first truthy value within ``timeout`` seconds, asked every ``interval``; else TimeoutError."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def launch_chromium(playwright, executable: str = CHROMIUM, args: list[str] | None = None, **options):
    """Headless Chromium from a started ``sync_playwright()`` (``playwright``), Debian's /usr/bin/chromium by
    default ($NNPLAY_CHROMIUM); ``options`` go to ``chromium.launch``."""
    if not Path(executable).exists():
        raise FileNotFoundError(f"No Chromium at {executable}: install it (apt-get install chromium), "
                                "or set NNPLAY_CHROMIUM to its path.")
    return playwright.chromium.launch(executable_path=executable, headless=True,
                                      args=CHROMIUM_ARGS if args is None else args, **options)


def sync_playwright():
    """Playwright's ``sync_playwright()``, or SystemExit with what to install when it is missing."""
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        raise SystemExit("This needs Playwright: pip install -r requirements-dev.txt (and Chromium: "
                         "apt-get install chromium)") from None
    return start()


def draw_stroke_seconds(url: str, strokes: int, chromium: str, read_js: str, changed_js: str,
                        first_timeout_ms: int = 10_000, height: int = 2400) -> list[float]:
    """Seconds from mouse-up to ``changed_js`` (JS ``(before) => bool``, ``before`` what ``read_js`` read before
    the stroke) on the Draw page at ``url``, for ``strokes`` random strokes (seeded). The first stroke warms up
    and is not counted (it may wait ``first_timeout_ms``); a stroke after which nothing changed is no sample."""
    import numpy as np
    from urllib.parse import urljoin

    rng = np.random.default_rng(0)
    times: list[float] = []
    with sync_playwright() as p:
        browser = launch_chromium(p, chromium)
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.goto(urljoin(url, "/"))  # let app.py run st.navigation once, so /draw is framed by it
        page.wait_for_timeout(2000)
        page.goto(url)
        canvas = page.locator("canvas.upper-canvas").first
        canvas.wait_for(timeout=60_000)
        page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=60_000)
        box = canvas.bounding_box()
        for k in range(strokes + 1):
            before = page.evaluate(read_js)
            x0, y0 = box["x"] + rng.uniform(40, 240), box["y"] + rng.uniform(40, 240)
            dx, dy = rng.uniform(-8, 8), rng.uniform(-8, 8)
            page.mouse.move(x0, y0)
            page.mouse.down()
            for i in range(1, 12):
                page.mouse.move(x0 + i * dx, y0 + i * dy)
            t0 = time.perf_counter()
            page.mouse.up()
            try:
                page.wait_for_function(changed_js, arg=before, timeout=first_timeout_ms if k == 0 else 10_000,
                                       polling="raf")
            except Exception:  # the numbers did not change (same rounding): not a sample
                continue
            if k:
                times.append(time.perf_counter() - t0)
        browser.close()
    return times
