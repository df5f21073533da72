"""Browser test of class mode in real headless Chromium (Playwright): the Class page follows a learner's run live.

What lives here: a server in class mode (a set teacher token); a learner's browser picks a name and starts a run;
the teacher's browser, signed in once by ``/class?token=…`` (the token then leaves the address bar), sees the run
appear and its epochs go up without reloading the page, and stops it; the learner's browser is refused the Class
page.
Screenshots go to /tmp/nnplay-class-*.png for a person to look at.
What does not live here: the page's logic in detail (tests/test_page_class.py, AppTest).
"""

from __future__ import annotations

import re
import time

import pytest

from nnplay.devtools import wait_until as _wait

from .conftest import served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "browser-teacher-token-0123"
SHOTS = "/tmp/nnplay-class-{}.png"
TABLES_AND_STOP = """() => [
    Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).map(d => d.getBoundingClientRect().bottom),
    document.querySelector('.st-key-class_stop').getBoundingClientRect().top]"""
RUN = "/train?train_limit=3000&test_limit=500&batch_size=16&epochs=300"  # the teacher stops it


def _body(page) -> str:
    return page.inner_text("body")


def _epoch_shown(page) -> int:
    """The epoch the line under the Stop box gives the learner's run ("Ann · run 1 · 14:02:31 · MLP … (running,
    epoch 2/300)"), else -1."""
    box = page.locator(".st-key-class_stop_progress")
    shown = box.inner_text() if box.count() else ""
    found = re.findall(r"Ann · run 1 · [^(\n]*\((?:running|queued), epoch (\d+)/300\)", shown)
    return int(found[-1]) if found else -1


def _open_the_list(teacher, timeout_ms: int):
    """Open the Stop box's list afresh; Ann's run's option once it shows, else None."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = teacher.get_by_role("option", name=re.compile("Ann · run 1"))
    teacher.keyboard.press("Escape")
    teacher.locator(".st-key-class_stop_pick").click()
    try:
        option.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return None
    return option


def _pick_the_run(teacher) -> None:
    """Pick Ann's run in the Stop box; a list closed by a click that met a refresh of a busy server gets two more
    tries (``_open_across_two_refreshes`` checks that the refreshes themselves leave it open)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):
        option = _open_the_list(teacher, 10_000)
        try:
            if option is not None:
                option.click(timeout=5_000)
                return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the Stop box's list closed before Ann's run could be picked, three times")


def _open_across_two_refreshes(teacher) -> bool:
    """Open the Stop box's list and watch it until the live part has refreshed twice ("read at" moved on twice):
    whether it was open all along."""
    option = _open_the_list(teacher, 4_000)
    if option is None:
        return False
    reads, deadline = set(), time.monotonic() + 20
    while time.monotonic() < deadline:
        reads.update(re.findall(r"read at (\d\d:\d\d:\d\d)", _body(teacher)))
        if not option.count():
            return False
        if len(reads) >= 3:
            return True
        teacher.wait_for_timeout(250)
    return False


def test_the_class_page_follows_a_learners_run_live(browser, tmp_path):
    with served_app(tmp_path / "home", env={"NNPLAY_TEACHER_TOKEN": TOKEN, "NNPLAY_CLASS_MAX_EPOCHS": "1000"}) as url:
        learner_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        teacher_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            learner = learner_ctx.new_page()
            learner.goto(url + RUN)
            learner.wait_for_selector('text="Parameters"', timeout=90_000)
            learner.locator(".st-key-class_name input").fill("Ann")
            learner.locator(".st-key-class_name_save button").click()
            learner.wait_for_selector("text=In this class you are", timeout=30_000)

            teacher = teacher_ctx.new_page()
            teacher.goto(url + f"/class?token={TOKEN}")
            teacher.wait_for_selector("text=Leaderboard", timeout=90_000)
            assert "token" not in teacher.url  # the token leaves the address bar at once
            _wait(lambda: "1 learner · 0 runs" in _body(teacher), 30, "the class page to list Ann without runs")
            assert "Ann" in _body(teacher)

            learner.locator(".st-key-train_start button").click()
            _wait(lambda: "1 training or queued" in _body(teacher), 60, "the teacher's page to show the run")
            _pick_the_run(teacher)  # the Stop box: the line under it then follows the run
            teacher.screenshot(path=SHOTS.format("started"), full_page=True)
            _wait(lambda: _epoch_shown(teacher) >= 1, 180, "an epoch to be counted on the teacher's page")
            first = _epoch_shown(teacher)
            # the list stays open across the page's refreshes (its labels stay still); a list closed once by a
            # late click or a slow refresh of a busy server gets two more tries, a list closed by every refresh none
            assert any(_open_across_two_refreshes(teacher) for _ in range(3)), "the Stop box's list kept closing"
            teacher.keyboard.press("Escape")
            teacher.screenshot(path=SHOTS.format("training"), full_page=True)
            _wait(lambda: _epoch_shown(teacher) > first, 180, "the epoch on the teacher's page to go up without a reload")
            # every table lies above Stop: a table's toolbar, shown above it on hover, never covers the button
            tables, stop = teacher.evaluate(TABLES_AND_STOP)
            assert tables and max(tables) <= stop, (tables, stop)
            teacher.locator(".st-key-class_stop button").click()  # the one training run is the one picked
            _wait(lambda: "0 training or queued" in _body(teacher), 120, "the stopped run's end on the teacher's page")
            teacher.screenshot(path=SHOTS.format("stopped"), full_page=True)
            _wait(lambda: "stopped" in _body(learner).lower(), 60, "the learner's page to show the run stopped")

            learner.goto(url + "/class")
            learner.wait_for_selector("text=The Class page is the teacher's", timeout=60_000)
            assert "Leaderboard" not in _body(learner)
        except Exception:
            learner.screenshot(path=SHOTS.format("failed-learner"), full_page=True)
            teacher.screenshot(path=SHOTS.format("failed-teacher"), full_page=True)
            raise
        finally:
            learner_ctx.close()
            teacher_ctx.close()
