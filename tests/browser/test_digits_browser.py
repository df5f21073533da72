"""The Your digits page in real headless Chromium: a digit drawn with the mouse on the canvas is saved, and a
reload (the workspace kept in its cookie, as on a server several people use) shows it kept.

What lives here: one end-to-end test on ``/digits`` with its own server in per-browser workspace mode: the page
asks for a 0, strokes on ``canvas.upper-canvas`` enable "Save as 0", Save keeps it and asks for a 1; after a
reload the count, the grid and the question are the same. What does not live here: the page's logic in detail
(tests/test_page_digits.py, AppTest), the store (tests/test_store_digits.py).
"""

from __future__ import annotations

import math

import pytest

from nnplay.devtools import wait_until

from .conftest import served_app
from .test_draw_browser import stroke

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_drawn_digit_is_saved_and_still_there_after_a_reload(browser, tmp_path):
    with served_app(tmp_path / "nnplay-home", workspaces="browser") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        page = context.new_page()
        try:
            page.goto(f"{url}/digits")
            page.get_by_role("heading", name="Draw a 0").wait_for(timeout=90_000)
            canvas = page.locator("canvas.upper-canvas").first
            canvas.wait_for(timeout=60_000)
            save = page.locator(".st-key-digits_save button")
            assert save.is_disabled()  # nothing drawn yet
            box = canvas.bounding_box()
            x, y = box["x"], box["y"]
            # a 0: an oval in one stroke
            stroke(page, [(x + 140 + 60 * math.sin(t / 20 * math.tau), y + 140 - 100 * math.cos(t / 20 * math.tau))
                          for t in range(21)])
            wait_until(lambda: save.is_enabled(), 60, "Save to be enabled by the drawing")
            assert "Save as 0" in save.inner_text()
            save.click()
            page.get_by_text("Kept your 0 (1 of 10). Now draw a 1.").wait_for(timeout=60_000)
            page.get_by_text("Your digits (1)").wait_for(timeout=30_000)
            # the workspace is kept in a cookie, written by the page: wait until the browser holds it
            wait_until(lambda: any(c["name"] == "nnplay_ws" for c in context.cookies()), 30, "the workspace cookie")
            page.goto(f"{url}/digits")  # a reload
            page.get_by_text("Your digits (1)").wait_for(timeout=90_000)
            assert page.get_by_role("heading", name="Draw a 1").count() == 1
            assert page.locator(".st-key-digits_save button").is_disabled()  # a fresh canvas
        finally:
            context.close()
