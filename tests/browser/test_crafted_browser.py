"""Browser tests for issue 27 (a renamed run, point 12; a seed too large, point 8), in headless Chromium.

What lives here: after Rename, the runs list's selector and the sidebar's model picker show the new name
at once (no other click); a seed of 2**53 or more typed in the Seed box is refused with a sentence and
disables Start (a number box dropped it silently). What does not live here: the logic of both
(tests/test_crafted_values.py, AppTest).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

pytestmark = pytest.mark.browser

QUICK = "/train?train_limit=1000&test_limit=200&epochs=1&batch_size=100"


def _text(page, key: str) -> str:
    """The text of the element keyed ``key``, with the values of its inputs (a select box shows its choice in one)."""
    box = page.locator(f".st-key-{key}")
    return box.first.evaluate("e => e.innerText + '\\n' + Array.from(e.querySelectorAll('input'))"
                              ".map(i => i.value).join('\\n')") if box.count() else ""


def test_a_renamed_run_shows_its_new_name_at_once(page, app_url):
    page.goto(app_url + QUICK)
    page.wait_for_selector("text=Parameters", timeout=90_000)
    page.locator(".st-key-train_start button").click()
    _wait(lambda: page.get_by_text("Finished 1 epoch in").count(), 180, "the run to finish")
    _wait(lambda: "run " in _text(page, "train_pick"), 60, "the run in the runs list")
    box = page.locator(".st-key-train_rename input")
    box.fill("renamed by the test")
    page.locator(".st-key-train_rename_btn button").click()
    _wait(lambda: "renamed by the test" in _text(page, "train_pick"), 15,
          "the runs list's selector to show the new name")
    _wait(lambda: "renamed by the test" in _text(page, "nnplay_model_pick"), 15,
          "the sidebar's picker to show the new name")


def test_a_seed_the_page_cannot_take_disables_start_with_a_sentence(page, app_url):
    page.goto(app_url + "/train")
    page.wait_for_selector("text=Parameters", timeout=90_000)
    start = page.locator(".st-key-train_start button")
    assert start.is_enabled()
    seed = page.locator(".st-key-train_seed input")
    seed.fill(str(2**53 + 1))  # a number box drops this (beyond JavaScript's safe integers) and keeps the old seed
    seed.press("Enter")
    _wait(lambda: page.get_by_text("The seed must be a whole number from 0 to 4,294,967,295").count(), 30,
          "the seed's refusal beside it")
    _wait(lambda: not start.is_enabled(), 10, "Start to be disabled")
