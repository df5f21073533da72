"""Browser test for the Train page in real headless Chromium (Playwright).

What lives here: one walk through ``/train`` in the served app: the network summary is there,
a training on a quick subset (chosen through the link) starts, the live loss chart gains
points and the progress text changes while it runs, the view fetches its snapshot at least twice a
second, a zoom survives the refreshes while the curve grows, a second tab on the run keeps its smoothing
when the first picks another, visiting another
page and coming back shows the same run with the same settings, a control changed meanwhile does
not stop it, Stop ends it, a second short run finishes and both are listed, and an invalid
setting shows a sentence and disables Start; on a 1280×720 window a started run's live view is scrolled into
the window; with a worker that takes every core the view fetches once a second while the run trains, twice
when paused.
Screenshots of each state go to /tmp/nnplay-train-*.png for a person to look at.
What does not live here: the page's logic in detail (tests/test_page_train.py, AppTest).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest

from tests.test_hooks import LINKED_TITLES

from nnplay.devtools import wait_until as _wait
from nnplay.jobs.local import machine_cores
from nnplay.store import Store

from .test_watch_browser import SETTLED

pytestmark = pytest.mark.browser

SHOTS = "/tmp/nnplay-train-{}.png"
# the loss chart's number of points (the largest, should a stale copy linger for a moment)
LOSS_PLOTS = """Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(d => d._fullLayout && d._fullLayout.title && String(d._fullLayout.title.text).includes('Loss per step'))"""
LOSS_POINTS = f"""() => Math.max(-1, ...{LOSS_PLOTS}
    .map(d => d._fullData && d._fullData[0] ? d._fullData[0].x.length : 0))"""
LOSS_NAMES = f"() => ({LOSS_PLOTS}[0]?._fullData || []).map(t => t.name)"
LOSS_XRANGE = f"() => {LOSS_PLOTS}.map(d => d._fullLayout.xaxis.range.map(v => Math.round(+v)))"
LOSS_DRAG_BOX = f"""() => {{ const r = {LOSS_PLOTS}[0].querySelector('.nsewdrag').getBoundingClientRect();
    return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }}"""


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('text="Parameters"', timeout=90_000)
    # /train is the page's own bookmarkable address: no "Page not found" dialog, and the URL stays
    assert page.get_by_text("Page not found").count() == 0
    assert "/train" in page.url


def _newest_run_named_twice(page, number: int) -> bool:
    """Run ``number`` ("run N ·", numbered per workspace by the store) is the newest the page names, and it is named
    in the runs list and the view (the live view can say "Finished" before the page's rerun lists the run)."""
    numbers = [int(n) for n in re.findall(r"\brun (\d+) ·", page.inner_text("body"))]
    return bool(numbers) and max(numbers) == number and numbers.count(number) >= 2


def _started_runs(home, since: float, count: int) -> list | None:
    """The runs of the store at ``home`` created since ``since``, once there are ``count`` of them, oldest first."""
    runs = sorted((r for r in Store(home).list_runs() if r.created >= since), key=lambda r: r.created)
    return runs if len(runs) >= count else None


def _number(run) -> int:
    return int(re.match(r"run (\d+) ·", run.name).group(1))


def _progress(page) -> str:
    texts = page.locator(".nnplay-live-progress-text")
    return texts.first.inner_text() if texts.count() else ""


FETCHED = "() => +(document.querySelector('.nnplay-live')?.dataset.fetched || 0)"
LONG_RUN = "/train?train_limit=3000&test_limit=500&batch_size=16&epochs=300"  # stopped by the test that starts it


def _fetch_rate(page, ms: int = 3000) -> float:
    """How many snapshots a second the live view fetched over the next ``ms`` milliseconds."""
    fetched, t0 = page.evaluate(FETCHED), time.time()
    page.wait_for_timeout(ms)
    return (page.evaluate(FETCHED) - fetched) / (time.time() - t0)


def _start_long_run(page, url: str) -> None:
    """Open /train on a long quick run, press Start and wait for the loss chart's first points."""
    _open(page, url + LONG_RUN)
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.evaluate(LOSS_POINTS) > 0, 120, "the first points of the loss chart")


def test_train_page_trains_live_in_chromium(app_url, app_home, page):
    page.set_viewport_size({"width": 1400, "height": 2400})  # tall, so the screenshots show the whole page
    # a long run (stopped below), so the live checks have time on a fast machine and a busy one alike
    _open(page, f"{app_url}/train?train_limit=6000&test_limit=1000&batch_size=16&epochs=300")
    assert page.get_by_text("203,530").count()
    assert page.locator(".st-key-train_quick input").is_checked()  # the link chose the quick subset
    page.screenshot(path=SHOTS.format("idle"), full_page=True)

    began = time.time()
    page.locator(".st-key-train_start button").click()
    first = _wait(lambda: page.evaluate(LOSS_POINTS) > 0 and (page.evaluate(LOSS_POINTS), _progress(page)),
                  120, "the first points of the loss chart")
    first_run = _number(_wait(lambda: _started_runs(app_home, began, 1), 60, "the run in the store")[0])
    _wait(lambda: f"run {first_run} ·" in page.inner_text("body"), 30, "the page to name the run as the store does")
    later = _wait(lambda: (page.evaluate(LOSS_POINTS), _progress(page)) if page.evaluate(LOSS_POINTS) > first[0]
                  and _progress(page) != first[1] else None, 120, "the live chart to change")
    assert later != first
    page.screenshot(path=SHOTS.format("training"), full_page=True)

    # the view refreshes itself at least twice a second (it fetches the run's snapshot; no page rerun), or once
    # a second on a machine of one core, which the run's worker takes whole (Run.calm)
    rate = _fetch_rate(page)
    least = 1.6 if machine_cores() >= 2 else 0.5
    assert rate >= least, f"the live view fetched {rate:.2f} snapshots a second"  # 2.08 on a quiet machine

    # a zoom (a drag on the loss chart) survives the refreshes while the curve goes on growing
    box = page.evaluate(LOSS_DRAG_BOX)
    x0, y0 = box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.1
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.3, y0 + box["height"] * 0.6, steps=6)
    page.mouse.up()
    zoomed = _wait(lambda: page.evaluate(LOSS_XRANGE), 10, "the zoom")[0]
    points = page.evaluate(LOSS_POINTS)
    text = _progress(page)
    _wait(lambda: _progress(page) != text and page.evaluate(LOSS_POINTS) > points, 60,
          "the progress text and the curve to move on")
    page.wait_for_timeout(1500)  # three more refreshes
    assert page.evaluate(LOSS_XRANGE)[0] == zoomed, "a refresh lost the user's zoom"
    assert page.evaluate(LOSS_XRANGE)[0] != [0, 40 * 375], "the zoom did not happen"
    page.screenshot(path=SHOTS.format("zoomed"), full_page=True)

    # a second tab on the same run shares its live feed until one of them picks another smoothing: then each
    # tab sees its own choice, and the first tab's zoom stays
    other = page.context.new_page()
    other.set_viewport_size({"width": 1400, "height": 1400})
    other.goto(page.url)  # the run's link (?run=…)
    _wait(lambda: "smoothed (0.6)" in other.evaluate(LOSS_NAMES), 60, "the run's live view in a second tab")
    page.locator(".st-key-train_smoothing input[type=range]").focus()
    page.keyboard.press("End")  # 0.99
    _wait(lambda: "smoothed (0.99)" in page.evaluate(LOSS_NAMES), 30, "the new smoothing in the first tab")
    text = _progress(other)
    _wait(lambda: _progress(other) != text, 60, "the second tab's view to move on")
    other.wait_for_timeout(1000)  # two more snapshots
    assert other.evaluate(LOSS_NAMES) == ["raw", "smoothed (0.6)"], "one tab's smoothing changed the other's"
    assert page.evaluate(LOSS_XRANGE)[0] == zoomed, "the new smoothing lost the user's zoom"
    other.close()

    # visiting another page during training neither stops nor restarts the run; coming back shows it
    page.locator("[data-testid=stSidebarUserContent] a").filter(has_text=re.compile(r"\binspect$", re.I)).click()
    page.wait_for_url("**/inspect**")
    page.wait_for_timeout(1000)
    page.locator("[data-testid=stSidebarUserContent] a").filter(has_text=re.compile(r"\btrain$", re.I)).click()
    page.wait_for_selector('text="Parameters"', timeout=60_000)
    _wait(lambda: "epoch" in _progress(page), 30, "the live view after coming back")
    assert page.locator(".st-key-train_batch_size input").input_value() == "16"  # the settings are still there
    # a control changed during training neither stops nor restarts the run
    page.locator(".st-key-train_seed input").fill("5")
    page.locator(".st-key-train_seed input").press("Enter")
    page.wait_for_timeout(1500)
    assert page.get_by_text("is still training").count()

    page.locator(".st-key-train_stop button").first.click()
    _wait(lambda: page.get_by_text("The model trained so far is kept").count(), 60, "the run to stop")

    # a short second run to the end: one epoch of 1,000 images
    for key, value in (("train_train_limit", "1000"), ("train_epochs", "1"), ("train_batch_size", "100")):
        page.locator(f".st-key-{key} input").fill(value)
        page.locator(f".st-key-{key} input").press("Enter")
        page.wait_for_timeout(700)
    _wait(lambda: page.locator(".st-key-train_start button").is_enabled(), 30, "Start to be enabled")
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.get_by_text("Finished 1 epoch in").count(), 240, "the second run to finish")
    # the live view then reruns the whole page once: the runs list is up to date
    # the store holds the two runs this test started and no third; each says how it went, should one be too many
    started = _started_runs(app_home, began, 2)
    assert started and len(started) == 2, "runs started: " + "; ".join(
        f"{r.name} ({r.status}, {r.created - began:.1f} s, {r.train_cfg.epochs} epochs)" for r in started or [])
    # the store numbers the runs of a workspace; the page shows its numbers, the second run's once it has rerun
    assert _number(started[0]) == first_run and _number(started[1]) == first_run + 1
    _wait(lambda: _newest_run_named_twice(page, first_run + 1), 60, "the page to list the second run")
    page.screenshot(path=SHOTS.format("finished"), full_page=True)

    page.locator(".st-key-train_hidden input").fill("256,0")
    page.locator(".st-key-train_hidden input").press("Enter")
    _wait(lambda: page.get_by_text("Hidden layer 2 has width 0").count(), 30, "the error beside the control")
    _wait(lambda: page.get_by_text("Fix the model settings").count(), 30, "the summary to say why it is empty")
    assert page.locator(".st-key-train_start button").is_disabled()
    page.screenshot(path=SHOTS.format("invalid"), full_page=True)
    assert "seed=5" in page.url and "256%2C0" not in page.url and "256,0" not in page.url  # only valid settings


def test_every_page_opens_at_its_own_url_on_a_fresh_session(app_url, browser):
    """A bookmarked link opens its page inside the navigation (sidebar links, device caption)."""
    for path, heading in [("draw", "Draw a digit"), ("forward", "forward pass"), ("train", "Train"),
                          ("scratch", "From scratch"), ("sweeps", "Sweeps"), ("compare", "Compare runs"),
                          ("digits", "Your digits"), ("papers", "Published results"), ("", "Train")]:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{app_url}/{path}")
        page.wait_for_selector("text=Device:", timeout=90_000)
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=90_000)
        assert page.get_by_text("Page not found").count() == 0
        page.locator("[data-testid=stSidebarUserContent] a").nth(len(LINKED_TITLES) - 1).wait_for(timeout=30_000)
        assert page.locator("[data-testid=stSidebarUserContent] a").count() == len(LINKED_TITLES)
        assert urlparse(page.url).path.rstrip("/").endswith(path or "train")  # /sweeps adds ?sweep= of the latest
        context.close()


def _settled(page, script: str, quiet_ms: int = 600, timeout_s: float = 20) -> dict:
    """What ``script`` returns once it has not changed for ``quiet_ms`` (the page's smooth scroll and late
    elements have come to rest; under load that takes longer than the scroll's own second), or at the timeout."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = page.evaluate(script)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_ms / 1000:
            break
        page.wait_for_timeout(100)
    return last


def test_a_started_runs_live_view_is_in_the_window_on_a_small_screen(app_url, browser):
    """On a 1280×720 projector the live view comes into the window after Start, not below the fold."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        _start_long_run(page, app_url)
        # the view keeps itself in place until the page holds still (data-settling), even if what is above it moves
        _wait(lambda: page.evaluate(SETTLED), 30, "the live view to hold still")
        box = _settled(page, """() => { const r = document.querySelector('.nnplay-live').getBoundingClientRect();
            const s = document.querySelector('.st-key-train_stop button')?.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, stop: s ? s.top : null}; }""")
        page.screenshot(path=SHOTS.format("small-screen"))
        assert 0 <= box["top"] < 720 / 2, f"the live view starts at {box['top']:.0f} px of a 720 px window"
        assert page.locator(".st-key-train_stop button").first.is_visible()
        stop = page.locator(".st-key-train_stop button").first.bounding_box()
        assert stop is not None and stop["y"] >= 0  # Stop is in the window too
    finally:
        # stopped even when an assertion failed: the next tests start runs of their own in this workspace
        page.locator(".st-key-train_stop button").first.click()
        _wait(lambda: page.get_by_text("The model trained so far is kept").count(), 60, "the run to stop")
        context.close()


def test_a_run_that_takes_every_core_is_watched_calmly(browser, tmp_path):
    """With NNPLAY_WORKERS=1 the run's worker takes every core: while it trains at full speed its view fetches
    once a second (a browser on the same machine takes its time from the run); paused, twice a second again."""
    from .conftest import served_app

    with served_app(tmp_path / "home", env={"NNPLAY_WORKERS": "1"}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1200})
        page = context.new_page()
        try:
            _start_long_run(page, url)
            calm = _fetch_rate(page, 4000)
            assert 0.5 <= calm <= 1.3, f"the calm view fetched {calm:.2f} snapshots a second (1 on a quiet machine)"
            page.locator(".st-key-train_pause button").first.click()
            _wait(lambda: "paused" in page.locator(".nnplay-live-status").first.inner_text(), 60, "the pause")
            paused = _fetch_rate(page, 4000)
            assert paused >= 1.6, f"paused, the view fetched {paused:.2f} snapshots a second (2.08 when quiet)"
        finally:
            page.locator(".st-key-train_stop button").first.click()
            context.close()
