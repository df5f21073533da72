"""Driving the real app: serve ``streamlit run app.py`` on a free localhost port, and wait for a condition.

Shared by the browser tests (``conftest.py``) and the benchmarks that drive the app in Chromium
(``scripts/bench_reload.py``, ``scripts/bench_load.py``). No pytest here: a server that does not
start, or a condition that does not come, raises ``TimeoutError`` with a sentence.
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

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(home, workspaces: str | None = None, env: dict | None = None, log=subprocess.DEVNULL,
               timeout: float = 90):
    """Start ``streamlit run app.py`` on a free localhost port with its run store in ``home``; yield its base
    URL; stop it. ``workspaces="browser"`` gives each browser its own workspace (NNPLAY_WORKSPACES);
    ``env`` adds variables; ``log`` takes the server's output."""
    port = free_port()
    env = {**os.environ, **(env or {}), "NNPLAY_HOME": str(home)}
    if workspaces:
        env["NNPLAY_WORKSPACES"] = workspaces
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
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
