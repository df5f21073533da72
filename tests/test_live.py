"""Tests for nnplay.ui.feed: a run's snapshot written as a JSON file while it trains.

What lives here: LiveFeed with a stand-in run and render: the first file exists once started, each
change gets a new version (an unchanged snapshot is not rewritten), options reach the render, a feed
that had viewers and has none left stops, the last file says ``active: false``, a failing render is reported in the file
rather than ending the feed, numpy values become plain JSON, remove deletes the file, a file goes
once its view is gone (a while after the run ended, or with its feed), a calm snapshot is followed
after twice the period, and a process that exits while a feed renders exits cleanly.
What does not live here: the Train page's render and the browser side (test_page_train.py and
tests/browser/test_train_browser.py).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from nnplay.ui.feed import LiveFeed


@dataclass
class FakeRun:
    id: int = 7
    name: str = "run 7"
    status: str = "running"
    step: int = 0

    @property
    def active(self) -> bool:
        return self.status == "running"


def render(run, options):
    return {"title": run.name, "status": run.status, "progress": f"step {run.step}",
            "smoothing": options.get("smoothing"), "values": np.array([0.5, 0.25])}


def read(feed) -> dict:
    return json.loads(feed.path.read_text(encoding="utf-8"))


def wait_for(predicate, timeout: float = 10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail("timed out")


def test_publish_writes_versions_only_for_changes(tmp_path):
    run = FakeRun()
    feed = LiveFeed(run, tmp_path, render, period=60)
    assert feed.publish() is True
    first = read(feed)
    assert first == {"version": 1, "title": "run 7", "status": "running", "progress": "step 0",
                     "smoothing": None, "values": [0.5, 0.25], "active": True}
    assert feed.publish() is False and read(feed)["version"] == 1  # nothing changed: not rewritten
    run.step = 3
    assert feed.publish() is True
    assert read(feed)["version"] == 2 and read(feed)["progress"] == "step 3"
    assert [p.name for p in tmp_path.iterdir()] == [feed.path.name]  # no temporary file left behind
    assert len(feed.token) >= 20 and feed.token in feed.path.name


def test_the_thread_follows_the_run_to_its_end(tmp_path):
    run = FakeRun()
    feed = LiveFeed(run, tmp_path, render, period=0.05)
    feed.options = {"smoothing": 0.9}
    feed.start()
    assert read(feed)["active"] is True and read(feed)["smoothing"] == 0.9  # the file exists once started
    run.step = 10
    wait_for(lambda: read(feed)["progress"] == "step 10")
    run.status = "finished"
    feed.thread.join(5)
    assert not feed.thread.is_alive()
    last = read(feed)
    assert last["active"] is False and last["status"] == "finished"
    feed.remove()
    assert not feed.path.exists()
    feed.remove()  # twice is fine


class Viewer:
    """A browser session as a feed counts it."""


@pytest.mark.slow
def test_a_feed_nobody_views_any_more_stops_and_deletes_its_file(tmp_path):
    import gc

    run = FakeRun()
    feed = LiveFeed(run, tmp_path, render, period=30, linger=0.2)
    first, second = Viewer(), Viewer()
    assert feed.join(first) and feed.join(second)
    feed.start()
    feed.leave(first)  # one viewer moved to other options: the other still looks
    time.sleep(0.2)
    assert feed.thread.is_alive() and not feed.closed
    run.step = 5
    del second  # the other's session was dropped (tab closed)
    gc.collect()
    started = time.time()
    feed.leave(first)  # wakes the feed: it notices at once, not a 30 s period later
    feed.thread.join(5)
    assert not feed.thread.is_alive() and feed.closed and time.time() - started < 5
    assert not feed.join(Viewer())  # closed: a newcomer gets a new feed (ui.live)
    wait_for(lambda: not feed.path.exists(), timeout=5)
    assert run.active  # the run itself goes on: only its view stopped


class Clock:
    """The feed's clock, moved by the test: the grace is counted in its seconds, however slow the machine."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tabs:
    """The feed's ``watching``: whether the viewers' tabs are connected, and how often the feed has asked."""

    def __init__(self):
        self.connected = True
        self.asked = 0
        self._asked = threading.Condition()

    def __call__(self, viewer) -> bool:
        with self._asked:
            self.asked += 1
            self._asked.notify_all()
        return self.connected

    def beats(self, n: int = 3, timeout: float = 30) -> None:
        """Wait for ``n`` more questions, one per beat: the last but one beat began after the test's change and
        has decided, so the feed has acted on the clock and the tabs as the test set them."""
        with self._asked:
            target = self.asked + n
            if not self._asked.wait_for(lambda: self.asked >= target, timeout):
                pytest.fail(f"the feed asked {target - self.asked} times too few within {timeout} s")


@pytest.mark.slow
def test_a_feed_whose_viewers_tabs_are_closed_stops_after_its_grace(tmp_path):
    run = FakeRun()
    clock, tabs = Clock(), Tabs()
    feed = LiveFeed(run, tmp_path, render, period=0.02, linger=0.2, grace=0.5, watching=tabs, clock=clock)
    viewer = Viewer()
    feed.join(viewer)
    feed.start()
    tabs.beats()
    clock.now += 3600
    tabs.beats()
    assert feed.thread.is_alive()  # watched: it goes on however long
    tabs.connected = False  # the tab was closed (or its connection dropped)
    clock.now += 0.25
    tabs.beats()
    tabs.connected = True  # …and came back within the grace: still going
    tabs.beats()
    clock.now += 0.5
    tabs.beats()
    assert feed.thread.is_alive() and not feed.closed
    tabs.connected = False
    clock.now += 0.375  # seconds a float holds exactly: the sums below are exact
    tabs.beats()
    assert feed.thread.is_alive() and not feed.closed  # not at once…
    clock.now += 0.125
    feed.thread.join(30)
    assert feed.closed and not feed.thread.is_alive()  # …but once the grace is over
    wait_for(lambda: not feed.path.exists(), timeout=5)
    assert run.active and viewer in feed.viewers  # the run goes on; the session itself was not collected


def test_a_feed_without_viewers_follows_its_run(tmp_path):
    run = FakeRun()  # no viewer ever joined (a feed used on its own): it is not closed for want of one
    feed = LiveFeed(run, tmp_path, render, period=0.05).start()
    time.sleep(0.2)
    assert feed.thread.is_alive() and not feed.closed
    run.status = "stopped"
    feed.thread.join(5)
    assert read(feed)["active"] is False


def test_a_failing_render_is_reported_in_the_file(tmp_path):
    def broken(run, options):
        raise ValueError("no figure today")

    feed = LiveFeed(FakeRun(), tmp_path, broken, period=60)
    feed.publish()
    snap = read(feed)
    assert snap["error"] == "ValueError: no figure today"
    assert snap["title"] == "run 7" and snap["active"] is True


def test_a_finished_runs_file_is_removed_once_its_view_has_read_it(tmp_path):
    run = FakeRun()
    feed = LiveFeed(run, tmp_path, render, period=0.05, linger=0.2).start()
    run.status = "finished"
    feed.thread.join(5)
    assert read(feed)["active"] is False  # the last file is there for the view's last fetch…
    wait_for(lambda: not feed.path.exists(), timeout=5)  # …and then goes
    assert list(tmp_path.iterdir()) == []


def test_a_feed_dropped_with_its_session_takes_its_file_along(tmp_path):
    import gc

    run = FakeRun(status="stopped")
    feed = LiveFeed(run, tmp_path, render, period=60)
    feed.publish()
    path = feed.path
    assert path.exists()
    del feed
    gc.collect()
    assert not path.exists()


class Waits:
    """A stand-in for the feed's wake-up event: notes how long each wait was asked for."""

    def __init__(self):
        self.asked: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.asked.append(seconds)
        time.sleep(0.01)
        return False

    def clear(self) -> None:
        pass


def test_a_calm_snapshot_is_followed_after_twice_the_period(tmp_path):
    """While the content says "calm" (the view then polls once a second) the feed renders half as often."""
    from nnplay.ui.feed import CALM_FACTOR

    run = FakeRun()
    calm = {"on": False}
    feed = LiveFeed(run, tmp_path, lambda r, o: {**render(r, o), "calm": calm["on"], "step": r.step}, period=0.25)
    feed._wake = waits = Waits()
    feed.start()
    wait_for(lambda: len(waits.asked) >= 2)
    calm["on"] = True
    run.step = 1
    wait_for(lambda: read(feed)["calm"] is True)
    seen = len(waits.asked)
    wait_for(lambda: len(waits.asked) >= seen + 2)
    calm["on"] = False
    run.step = 2
    wait_for(lambda: read(feed)["calm"] is False)
    seen = len(waits.asked)
    wait_for(lambda: len(waits.asked) >= seen + 2)
    run.status = "finished"
    feed.thread.join(5)
    feed.remove()
    assert waits.asked[:2] == [0.25, 0.25]
    assert 0.25 * CALM_FACTOR == 0.5 and 0.5 in waits.asked
    assert waits.asked[-1] == 0.25  # calm no more: the period again


@pytest.mark.slow
def test_a_process_that_exits_while_a_feed_renders_ends_the_feed_first(tmp_path):
    """A feed's thread still inside torch (the watch pictures) as the interpreter finalizes would abort the
    process ("terminate called without an active exception", exit code 134): an exit hook ends it first."""
    import os
    import subprocess
    import sys
    import textwrap

    from .conftest import ROOT

    code = textwrap.dedent(f'''
        import time
        import torch
        from nnplay.ui.feed import LiveFeed

        class Training:
            id, name, status, active = 1, "r", "running", True

        def render(run, options):
            x = torch.rand(200, 200)
            for _ in range(100):
                x = torch.tanh(x @ x)  # in torch nearly all the time
            return {{"title": run.name}}

        LiveFeed(Training(), {str(tmp_path)!r}, render, period=0.0).start()
        time.sleep(0.5)
    ''')
    for _ in range(2):  # without the hook, each exit aborted (5 of 5 tries)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0 and "terminate called" not in done.stderr, done.stderr[-2000:]
