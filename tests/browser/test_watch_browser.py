"""Browser test for "Watch it learn" on the Train page in real headless Chromium (Playwright).

What lives here: a short run started from the link, the watch panel on by default: the probe panel,
the first layer and the network view are drawn in the live view, and the probe panel's answers change
while the run trains (no page rerun); Step pauses it and each click adds one step to the loss chart and
new answers to the probe panel; the toggle off removes the three charts. Screenshots go to
/tmp/nnplay-watch-*.png for a person to look at.
What lives here too: a chart scrolled out of sight is not redrawn while the run trains, and is when
it comes into view.
What does not live here: the figures' content against the model (tests/test_watch.py).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

pytestmark = pytest.mark.browser

SHOTS = "/tmp/nnplay-watch-{}.png"
PLOT_TITLED = """(title) => Array.from(document.querySelectorAll('.nnplay-live .js-plotly-plot'))
    .filter(d => d._fullLayout && d._fullLayout.title && String(d._fullLayout.title.text).startsWith(title))"""
PROBE_META = f"""() => {{ const d = ({PLOT_TITLED})('Probe digits')[0];
    return d ? JSON.stringify(d._fullLayout.meta.probability) : null; }}"""
# the newest step the loss chart shows (the live chart keeps a bounded number of points, always the newest)
LOSS_POINTS = f"""() => {{ const d = ({PLOT_TITLED})('Loss per step')[0];
    const x = d && d._fullData[0] ? d._fullData[0].x : null;
    return x && x.length ? Math.round(+x[x.length - 1]) : -1; }}"""
SETTLED = "() => document.querySelectorAll('.nnplay-live[data-settling]').length === 0"
CHARTS = "() => document.querySelectorAll('.nnplay-live .nnplay-live-chart').length"
# the new run's view is up: it fetches its snapshots (the previous run's view, on the page until Start's rerun
# replaces it, was drawn once and fetches nothing; its charts must not be taken for the new run's)
POLLING = "() => Array.from(document.querySelectorAll('.nnplay-live')).some(v => +(v.dataset.fetched || 0) > 0)"
FETCHES = "() => Math.max(0, ...Array.from(document.querySelectorAll('.nnplay-live')).map(v => +(v.dataset.fetched || 0)))"


def _after_fetches(page, fetches: int, timeout: float = 120) -> None:
    """Wait until the live view has fetched its snapshot ``fetches`` more times: a span counted by the view
    itself, so a slow machine waits longer instead of reading too early."""
    start = page.evaluate(FETCHES)
    _wait(lambda: page.evaluate(FETCHES) >= start + fetches, timeout, f"{fetches} fetches of the live view")


def _settled_step(page, fetches: int = 6, timeout: float = 120) -> int:
    """The loss chart's newest step once it has stayed the same over ``fetches`` fetches of the live view in a
    row: every step already on its way (a paused run's last burst) has been drawn."""
    seen = {"step": None, "at": 0}

    def still():
        step, fetched = page.evaluate(LOSS_POINTS), page.evaluate(FETCHES)
        if step != seen["step"]:
            seen.update(step=step, at=fetched)
        return fetched - seen["at"] >= fetches and (step,)

    return _wait(still, timeout, f"the loss chart to stay still over {fetches} fetches")[0]


def test_watch_it_learn_and_step_mode_in_chromium(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_url}/train?train_limit=6000&test_limit=1000&batch_size=16&epochs=300")
    page.wait_for_selector('text="Parameters"', timeout=90_000)
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.evaluate(POLLING), 120, "the new run's live view")

    first = _wait(lambda: page.evaluate(PROBE_META), 120, "the probe panel")
    # loss, epochs, probe digits, first layer, network: each chart is drawn in turn, so wait for each
    _wait(lambda: page.evaluate(CHARTS) == 5, 30, "the five charts")
    for title in ("lin_1: what training changed", "The network"):
        _wait(lambda t=title: page.evaluate(f"() => ({PLOT_TITLED})({t!r}).length") == 1, 30, f"the chart {title!r}")
    _wait(lambda: page.evaluate(PROBE_META) not in (None, first), 60, "the probe panel to change while it trains")
    page.screenshot(path=SHOTS.format("training"), full_page=True)

    # step mode: Step pauses the run; each further click adds exactly one step and new answers
    page.locator(".st-key-train_step button").first.click()
    _wait(lambda: page.get_by_text("Resume").count() > 0, 30, "the run to pause")
    points = _settled_step(page)
    answers = page.evaluate(PROBE_META)
    page.locator(".st-key-train_step button").first.click()
    _wait(lambda: page.evaluate(LOSS_POINTS) > points, 30, "the step's loss")
    _wait(lambda: page.evaluate(PROBE_META) != answers, 30, "the probe panel after one step")
    assert _settled_step(page) == points + 1
    page.screenshot(path=SHOTS.format("stepped"), full_page=True)

    # the toggle off: only the loss charts stay
    page.locator("[class*='st-key-train_watch_'] label").first.click()
    _wait(lambda: page.evaluate(CHARTS) == 2, 30, "the watch charts to go")
    page.locator(".st-key-train_stop button").first.click()
    _wait(lambda: page.get_by_text("The model trained so far is kept").count() > 0, 60, "the run to stop")
    page.screenshot(path=SHOTS.format("stopped"), full_page=True)


DRAWS = f"""(title) => {{ const d = ({PLOT_TITLED})(title)[0]; return d ? +(d.dataset.draws || 0) : -1; }}"""


def test_a_chart_out_of_sight_waits_and_is_drawn_when_scrolled_to(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 500})  # the network view, last, is well below the window
    page.goto(f"{app_url}/train?train_limit=6000&test_limit=1000&batch_size=16&epochs=300")
    page.wait_for_selector('text="Parameters"', timeout=90_000)
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.evaluate(POLLING), 120, "the new run's live view")
    _wait(lambda: page.evaluate(f"({DRAWS})('The network')") >= 1, 120, "the network view's first drawing")
    _after_fetches(page, 2)  # the start's scroll has settled
    loss, net = page.evaluate(f"({DRAWS})('Loss per step')"), page.evaluate(f"({DRAWS})('The network')")
    _after_fetches(page, 8)  # some seconds of fetches: the loss has news at each, the network view about once a second
    assert page.evaluate(f"({DRAWS})('Loss per step')") > loss  # in sight: redrawn as it trains
    assert page.evaluate(f"({DRAWS})('The network')") == net  # out of sight: not redrawn
    _wait(lambda: page.evaluate(SETTLED), 30, "the start's scroll to let go of the view")  # else it scrolls back
    page.evaluate(f"() => ({PLOT_TITLED})('The network')[0].scrollIntoView()")
    _wait(lambda: page.evaluate(f"({DRAWS})('The network')") > net, 30, "the network view drawn in sight")
    page.locator(".st-key-train_stop button").first.click()
    _wait(lambda: page.get_by_text("The model trained so far is kept").count() > 0, 60, "the run to stop")
