"""Browser test of the Sweeps page (issue 23, "A sweep"), in headless Chromium: build a 3-setting sweep of tiny
runs, start it, and watch its table fill until every run is finished, with the sweep in the address bar.

What does not live here: bad input, Stop, Continue and the reload (tests/test_page_sweeps.py, AppTest).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

pytestmark = pytest.mark.browser


def _fill(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(text)
    box.press("Enter")


def test_build_start_and_the_table_fills_until_every_run_has_finished(page, app_url):
    page.goto(app_url + "/sweeps")
    page.wait_for_selector("text=Build a sweep", timeout=90_000)
    _fill(page, "sweep_epochs", "1")
    _fill(page, "sweep_train_limit", "300")
    _fill(page, "sweep_test_limit", "100")
    page.locator(".st-key-sweep_vary input").fill("Activation")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_selector(".st-key-sweep_values_activation input", timeout=30_000)
    _fill(page, "sweep_values_lr", "1e-3, 1e-2")
    _fill(page, "sweep_values_batch_size", "64")
    _fill(page, "sweep_values_activation", "relu, tanh")
    _wait(lambda: page.get_by_text("4 runs", exact=True).count(), 30, "the count of runs before Start")
    page.locator(".st-key-sweep_start button").click()
    _wait(lambda: page.get_by_text("4 of 4 runs finished").count(), 240, "every run of the sweep to finish")
    _wait(lambda: "sweep=" in page.url, 60, "the sweep's id in the address bar")
    stop = page.locator(".st-key-sweep_stop button:visible").first
    _wait(lambda: stop.is_disabled(), 30, "Stop, disabled once the sweep ended")
    table = page.locator("[data-testid='stDataFrame']")
    _wait(lambda: table.count() == 1, 30, "the sweep's runs table")


CLIPPED = """() => {
  // every option of the segmented controls and every widget label of the build box, with what cuts it
  const out = [];
  const box = document.querySelector('.st-key-sweep_start').closest('[data-testid="stVerticalBlockBorderWrapper"]')
      || document.body;
  for (const button of box.querySelectorAll('[data-testid="stButtonGroup"] button')) {
    const column = button.closest('[data-testid="stColumn"]');
    const right = column ? column.getBoundingClientRect().right : window.innerWidth;
    if (button.scrollWidth > button.clientWidth || button.getBoundingClientRect().right > right + 0.5)
      out.push('option ' + button.innerText);
  }
  for (const label of box.querySelectorAll('[data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] div')) {
    if (label.scrollWidth > label.clientWidth + 0.5) out.push('label ' + label.innerText);
  }
  return out;
}"""


@pytest.mark.slow
def test_at_1280_by_720_no_option_or_label_is_cut_and_start_is_above_the_fold(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(app_url + "/sweeps")
        page.wait_for_selector(".st-key-sweep_start button", timeout=90_000)
        _wait(lambda: page.get_by_text("list", exact=True).count() >= 2, 30, "the values rows of the two settings")
        assert page.evaluate(CLIPPED) == []
        start = page.locator(".st-key-sweep_start button").bounding_box()
        assert start["y"] >= 0 and start["y"] + start["height"] <= 720, start  # seen without scrolling
        assert page.evaluate("() => window.scrollY") == 0
        page.locator(".st-key-sweep_search button", has_text="random draws").click()  # their boxes: draws, draw seed
        page.locator(".st-key-sweep_early label").click()  # and η
        page.wait_for_selector(".st-key-sweep_eta input", timeout=30_000)
        page.wait_for_selector(".st-key-sweep_draw_seed input", timeout=30_000)
        page.locator(".st-key-sweep_kind_lr button", has_text="range").click()  # low, high, count, log | linear
        page.wait_for_selector(".st-key-sweep_scale_lr button", timeout=30_000)
        assert page.evaluate(CLIPPED) == []
    finally:
        context.close()
