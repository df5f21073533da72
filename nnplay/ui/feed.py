"""A run's live view as a JSON file that the browser polls, so a training run needs no page rerun.

Why: every Streamlit rerun, a fragment's too, makes the browser re-render the whole page; twice a
second on a small machine that CPU comes out of the training beside it (measured on the Train page
with 2 cores: an empty 0.4 s fragment alone made an epoch 1.29× the command line's).
``LiveFeed`` instead writes the snapshot of one run (the JSON document a live view draws: whatever
``render(run, options)`` returns, its *content*, plus ``version`` and ``active``) to
``<directory>/<token>.json`` every ``period`` seconds while the run is active and once more after it
ends. The app serves that folder as static files, and the page's live component fetches the file and
draws it in place. The token is random (128 bits), so a session cannot guess another's file. A
snapshot that did not change is not rewritten. The file goes when its view is gone: ``linger``
seconds after the last one was written (the view polls twice a second, so it has read it by then;
a page drawn later draws a finished run from ``render_content``, not from the file), when the feed
is dropped (``remove``), or when the feed object is collected with its session.

Detached figures: the figures a render names in ``detach`` (indexes into ``figures``; the Train page's
watch pictures, ~230 of a snapshot's ~280 kB, changing about once a second) are written to files of their
own, named by a hash of their content (``<token>-<hash>.json``), and the snapshot holds ``{"url": name,
"heavy": true}`` in their place. A view fetches such a file only when it draws that figure (every few
seconds while a run trains at full speed): each poll then moves and gzips ~45 kB, not ~280 kB. A
detached file stays ``DETACH_KEEP_S`` after the last snapshot that named it, so a view that read the
snapshot just before can still fetch it; ``snapshot()`` reads a feed back with its figures in place.

Calm: a snapshot whose content says ``"calm"`` (``Run.calm``: a run training at full speed, or queued, while
the runs training take every core of this machine) is followed by the next after ``CALM_FACTOR``
periods, as the view then polls once a second (``ui.live.CALM_POLL_MS``).

At exit an ``atexit`` hook ends every feed's thread (waiting up to 2 s): a render still inside torch when the
interpreter finalizes aborts the process.

Viewers: a feed's options are fixed once it has started (``ui.live`` keeps one feed per run, view and
options, so two viewers who chose different smoothing each see their own). A viewer ``join``s the feed
(any object that can be weakly referenced: one per browser session) and ``leave``s it when it moves to
other options. A feed that had viewers stops rendering, and deletes its file after ``linger`` as when its
run ends, once none is left (they left, or their sessions were collected), or once ``watching(viewer)``
has been False for all of them for ``grace`` seconds (their tabs were closed: the app asks Streamlit
whether the session is still connected; a short disconnection does not end the feed).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from ..runs import Run

PERIOD_S = 0.3  # more often than the component polls (ui.LIVE_POLL_MS, 0.48 s): each fetch finds news
CALM_FACTOR = 2  # a calm snapshot (its content says "calm"; the view then polls half as often) comes half as often
LINGER_S = 30.0  # a finished run's last file is deleted this long after it was written
DETACH_KEEP_S = 10.0  # a detached figure's file is kept this long after the last snapshot that named it
GRACE_S = 60.0  # a feed whose viewers' tabs have all been closed this long stops

log = logging.getLogger(__name__)


class LiveFeed:
    """Publishes ``render(run, options)`` as ``<directory>/<token>.json`` while ``run`` is active."""

    def __init__(self, run: Run, directory: str | Path, render: Callable[[Run, dict], dict],
                 period: float = PERIOD_S, linger: float | None = None, watching: Callable[[object], bool] | None = None,
                 grace: float = GRACE_S):
        self.run = run
        self.render = render
        self.period = period
        self.linger = LINGER_S if linger is None else linger
        self.options: dict = {}
        self.token = secrets.token_urlsafe(16)
        self.path = Path(directory) / f"{self.token}.json"
        self.version = 0
        self.thread: threading.Thread | None = None
        self._last: str | None = None
        self.latest: str | None = None  # the file's text as last written: a page drawn now shows it at once
        self.calm = False  # the last snapshot said "calm": the next comes after CALM_FACTOR periods
        self._halted = False  # the process is exiting: no more renders
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self.viewers: weakref.WeakSet = weakref.WeakSet()
        self._had_viewers = False
        self.watching = watching  # whether a viewer still looks (its tab connected); None: while it is joined
        self.grace = grace
        self._seen = time.monotonic()  # when a viewer was last seen watching
        self.closed = False  # no viewer left: it renders no more and takes no new one
        self._detached: dict[str, float] = {}  # detached figures' file names → when a snapshot last named them
        # the files go with the feed: when its session is dropped, so is the feed, and then its files
        self._remover = weakref.finalize(self, _remove_files, self.path, self._detached)

    def content(self) -> dict:
        """What the next file will hold (without ``version``)."""
        return render_content(self.run, self.render, self.options)

    def publish(self) -> bool:
        """Write the snapshot if it changed (atomically: a reader sees the old file or the new one)."""
        with self._lock:
            content = self._detach(self.content())
            text = json.dumps(content, allow_nan=False, separators=(",", ":"), default=_plain)
            if text == self._last:
                return False
            self._last = text
            self.version += 1
            self.calm = bool(content.get("calm"))
            self.latest = f'{{"version":{self.version},{text[1:]}'  # text is "{...}"
            _write_atomically(self.path, self.latest.encode("utf-8"))
            return True

    def _detach(self, content: dict) -> dict:
        """The figures ``content["detach"]`` names, written to files of their own and named in their place."""
        detach = set(content.pop("detach", ()))
        now = time.monotonic()
        if detach:
            figures = list(content.get("figures", []))
            for i in sorted(detach):
                if i < len(figures) and isinstance(figures[i], str):
                    data = figures[i].encode("utf-8")
                    name = f"{self.token}-{hashlib.sha1(data).hexdigest()[:20]}.json"
                    if name not in self._detached:
                        _write_atomically(self.path.with_name(name), data)
                    self._detached[name] = now
                    figures[i] = {"url": name, "heavy": True}
            content["figures"] = figures
        for name, used in list(self._detached.items()):
            if now - used > DETACH_KEEP_S:
                self.path.with_name(name).unlink(missing_ok=True)
                del self._detached[name]
        return content

    def snapshot(self) -> dict:
        """The file as a view reads it, with its detached figures read back in place (tests, debugging)."""
        snap = json.loads(self.path.read_text(encoding="utf-8"))
        snap["figures"] = [f if isinstance(f, str) else self.path.with_name(f["url"]).read_text(encoding="utf-8")
                           for f in snap.get("figures", [])]
        return snap

    def join(self, viewer) -> bool:
        """Count ``viewer`` as looking at this feed; False if the feed has closed (then make a new one)."""
        with self._lock:
            if self.closed:
                return False
            self.viewers.add(viewer)
            self._had_viewers = True
            return True

    def leave(self, viewer) -> None:
        """``viewer`` looks elsewhere; the feed closes at its next beat if nobody else looks."""
        with self._lock:
            self.viewers.discard(viewer)
        self._wake.set()

    def _close_if_unviewed(self) -> bool:
        with self._lock:
            viewers = list(self.viewers)
            now = time.monotonic()
            if self.watching is None or any(self.watching(v) for v in viewers):
                self._seen = now
            if self._had_viewers and (not viewers or now - self._seen >= self.grace):
                self.closed = True
            return self.closed

    def start(self) -> LiveFeed:
        self.publish()  # the file exists before the page names it
        self.thread = threading.Thread(target=self._work, daemon=True, name=f"nnplay-live-{self.run.id}")
        _RUNNING.add(self)
        self.thread.start()
        return self

    def _work(self) -> None:
        while not self._halted:
            active = self.run.active
            try:
                self.publish()
            except OSError as err:  # the folder went away (the app is shutting down): nothing to serve
                log.warning("live feed stopped: %s", err)
                return
            if not active or self._close_if_unviewed():  # the last file is written: delete it once read
                expiry = threading.Timer(self.linger, self.remove)
                expiry.daemon = True
                expiry.start()
                return
            self._wake.wait(self.period * (CALM_FACTOR if self.calm else 1))
            self._wake.clear()

    def remove(self) -> None:
        """Delete the file and its detached figures' (twice is fine)."""
        self._remover()


_RUNNING: weakref.WeakSet = weakref.WeakSet()  # feeds whose thread was started


@atexit.register
def halt_feeds(timeout: float = 2.0) -> None:
    """At exit, end every feed's thread (``timeout`` s in all): a render still inside torch (the watch
    pictures) when the interpreter finalizes would abort the process."""
    feeds = [f for f in list(_RUNNING) if f.thread is not None and f.thread.is_alive()]
    for feed in feeds:
        feed._halted = True
        feed._wake.set()
    deadline = time.monotonic() + timeout
    for feed in feeds:
        feed.thread.join(max(0.0, deadline - time.monotonic()))


def render_content(run: Run, render: Callable[[Run, dict], dict], options: dict) -> dict:
    """``render(run, options)`` plus ``active`` (read first, so a final state is final).

    A render that fails must not end a feed: its error is reported in the snapshot instead.
    """
    active = run.active
    try:
        body = render(run, dict(options))
    except Exception as err:
        log.exception("live view render failed")
        body = {"title": run.name, "status": run.status, "error": f"{type(err).__name__}: {err}"}
    return {**body, "active": active}


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it: a reader sees the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_files(path: Path, detached: dict[str, float]) -> None:
    path.unlink(missing_ok=True)
    for name in list(detached):
        path.with_name(name).unlink(missing_ok=True)
    detached.clear()


def _plain(value):
    """numpy numbers and arrays (from plotly figures) as plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
