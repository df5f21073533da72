"""Browser test: one status everywhere. The sidebar follows the live view: running, paused (in another tab too),
finished.

The live view polls the run's snapshot without rerunning the page; when the snapshot's status is no longer
the one the page was drawn with (the sidebar's, read first: ``nnplay.ui.live.sidebar_status``), the view
reruns the page once (nnplay/ui/live_run.js, ``run_status``), so the sidebar and the runs list say what the
view says, even when the status changed, or the run ended, while the page was being drawn. What does not live
here: the view's data (AppTest, tests/test_page_train.py).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

pytestmark = pytest.mark.browser

LONG = "/train?train_limit=5000&test_limit=500&epochs=50&batch_size=8"
SHORT = "/train?train_limit=1500&test_limit=200&epochs=2&batch_size=50"  # 60 steps: 6 s at 10 steps/s


def _sidebar(page) -> str:
    return page.locator("section[data-testid=stSidebar]").inner_text()


def _view_status(page) -> str:
    box = page.locator(".nnplay-live-status")
    return box.first.inner_text() if box.count() else ""


def _choose(page, label: str, option: str) -> None:
    """Open the selectbox labelled ``label`` and pick ``option`` (a click that came during a rerun is tried again)."""
    menu = page.locator("[data-testid=stSelectbox]").filter(has_text=label).first
    choice = page.get_by_role("option", name=option)
    for _ in range(5):
        menu.locator("input, [role=combobox]").first.click()
        try:
            choice.wait_for(timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the list did not open, click again
            continue
    choice.click()


def test_a_run_paused_in_another_tab_is_paused_in_this_sidebar(app_url, browser):
    first = browser.new_context(viewport={"width": 1400, "height": 1000})
    second = browser.new_context(viewport={"width": 1400, "height": 1000})
    a, b = first.new_page(), second.new_page()
    try:
        a.goto(app_url + LONG)
        a.wait_for_selector('text="Parameters"', timeout=90_000)
        a.locator(".st-key-train_start button").first.click()
        _wait(lambda: "running" in _view_status(a), 120, "the live view to say running")
        _wait(lambda: "(running)" in _sidebar(a), 60, "the sidebar to say running")
        b.goto(app_url + "/train")  # the same workspace (a local install) in another tab
        b.wait_for_selector(".st-key-train_pause button", timeout=90_000)
        b.locator(".st-key-train_pause button").first.click()
        _wait(lambda: "paused" in _view_status(a), 60, "this tab's live view to say paused")
        _wait(lambda: "(paused)" in _sidebar(a), 30, "this tab's sidebar to say paused, as its view does")
        # the status change reran this page: Stop is pressed on the page as it is now, not on one being replaced
        a.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=30_000)
        a.locator(".st-key-train_stop button").first.click()
        _wait(lambda: "(paused)" not in _sidebar(a) and "stopped" in _view_status(a), 60, "the run to stop")
    finally:
        first.close()
        second.close()


def test_the_sidebar_follows_a_run_from_its_start_to_its_end(app_url, page):
    page.goto(app_url + SHORT)
    page.wait_for_selector('text="Parameters"', timeout=90_000)
    # 10 steps a second, chosen before Start: long enough to see it running, short enough to see it end
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=30_000)
    _choose(page, "Speed", "10 steps/s")
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=30_000)
    page.locator(".st-key-train_start button").first.click()
    _wait(lambda: "Training:" in _sidebar(page), 60, "the sidebar to name the new run")
    _wait(lambda: "(running)" in _sidebar(page), 60, "the sidebar to say running")
    _wait(lambda: "finished" in _view_status(page), 120, "the live view to say finished")
    _wait(lambda: "Training:" not in _sidebar(page), 30, "the sidebar to let the finished run go, as the view did")
