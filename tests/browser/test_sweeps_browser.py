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
