"""Browser tests for runs that last, in headless Chromium (Playwright) against a served app in per-browser
workspace mode (``NNPLAY_WORKSPACES=browser``, as on a server several people use).

What lives here: a short run trained, then the page reloaded: the run is back in the runs list with its
loss chart, and it is the model the picker names on Draw; a second browser context (another person)
sees none of the first one's runs; the first one's run link opened there is read-only (no Stop, Delete
or downloads) with "Copy to my runs", and copying makes it the second person's run and model.
What does not live here: the page's logic in detail (tests/test_run_link.py, AppTest).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

from .conftest import served_app

pytestmark = pytest.mark.browser

QUICK = "/train?train_limit=1000&test_limit=200&epochs=1&batch_size=100"
LOSS_POINTS = """() => Math.max(-1, ...Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(d => d._fullLayout && d._fullLayout.title && String(d._fullLayout.title.text).includes('Loss per step'))
    .map(d => d._fullData && d._fullData[0] ? d._fullData[0].x.length : 0))"""


@pytest.fixture(scope="module")
def shared_server_url(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("store-browser-home"), workspaces="browser") as url:
        yield url


def _text(page, key: str) -> str:
    """The text of the element keyed ``key``, with the values of its inputs (a select box shows its choice in one)."""
    box = page.locator(f".st-key-{key}")
    return box.first.evaluate("e => e.innerText + '\\n' + Array.from(e.querySelectorAll('input'))"
                              ".map(i => i.value).join('\\n')") if box.count() else ""


def _train_short_run(page, url: str) -> str:
    """Train one epoch of 1,000 images; returns the run's name as the runs list shows it."""
    page.goto(url + QUICK)
    page.wait_for_selector('text="Parameters"', timeout=90_000)
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.get_by_text("Finished 1 epoch in").count(), 180, "the run to finish")
    name = _wait(lambda: next((line.strip() for line in _text(page, "train_pick").split("\n") if "run 1 ·" in line),
                              ""), 60, "the runs list")
    # the workspace is kept in a cookie, written by the page: wait until the browser holds it
    _wait(lambda: any(c["name"] == "nnplay_ws" for c in page.context.cookies()), 30, "the workspace cookie")
    return name


def test_a_run_comes_back_after_a_reload_with_its_chart_and_model(shared_server_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    try:
        name = _train_short_run(page, shared_server_url)
        page.goto(f"{shared_server_url}/train")  # a reload, without the run's link in the address
        page.wait_for_selector('text="Parameters"', timeout=90_000)
        _wait(lambda: name in _text(page, "train_pick"), 60, "the run in the runs list after the reload")
        _wait(lambda: page.evaluate(LOSS_POINTS) > 0, 60, "the run's loss chart")
        page.goto(f"{shared_server_url}/draw")
        _wait(lambda: name in _text(page, "nnplay_model_pick"), 90, "the picker on Draw to name the run")
        page.get_by_text("Model: ").first.wait_for(timeout=60_000)  # Draw uses the run, not the default model
    finally:
        context.close()


def test_another_browser_sees_none_of_the_runs_and_a_link_is_read_only(shared_server_url, browser):
    owner = browser.new_context(viewport={"width": 1400, "height": 1600})
    other = browser.new_context(viewport={"width": 1400, "height": 1600})
    try:
        page = owner.new_page()
        name = _train_short_run(page, shared_server_url)
        link = page.locator("a").filter(has_text="/train?run=").first.get_attribute("href")
        assert link.startswith(shared_server_url)

        theirs = other.new_page()
        theirs.goto(f"{shared_server_url}/train")
        theirs.wait_for_selector('text="Parameters"', timeout=90_000)
        _wait(lambda: theirs.get_by_text("No runs yet").count(), 30, "an empty runs list")
        assert name not in theirs.content()
        assert "default model" in _text(theirs, "nnplay_model_pick")

        theirs.goto(link)
        _wait(lambda: theirs.get_by_text("belongs to another workspace").count(), 90, "the read-only view")
        _wait(lambda: theirs.evaluate(LOSS_POINTS) > 0, 60, "its loss chart")
        for key in ("train_stop", "train_pause", "train_delete", "train_rename_btn", "train_dl_model"):
            assert not theirs.locator(f".st-key-{key}").count(), key
        assert theirs.get_by_text("No runs yet").count()  # still none of the owner's runs in the list
        theirs.locator(".st-key-train_copy_run button").first.click()
        _wait(lambda: theirs.get_by_text("now one of your runs").count(), 60, "the copy")
        _wait(lambda: name in _text(theirs, "train_pick"), 30, "the copy in the second browser's runs list")
        _wait(lambda: name in _text(theirs, "nnplay_model_pick"), 30, "the copy as the picked model")
        assert not theirs.get_by_text("belongs to another workspace").count()
    finally:
        owner.close()
        other.close()
