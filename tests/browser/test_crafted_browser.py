"""Browser test for a renamed run (issue 27 point 12), in headless Chromium against the served app.

What lives here: after Rename, the runs list's selector and the sidebar's model picker show the new name
at once (no other click). What does not live here: the rename's logic (tests/test_crafted_values.py, AppTest).
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
