"""A deep link on a freshly started server opens inside app.py's navigation (real Chromium).

What lives here: one test that starts its own server and asks it first for /draw, /train and /forward from
three browsers at once. With a folder
named ``pages/`` beside app.py, Streamlit would run pages/draw.py alone (its legacy multipage
mode: no sidebar, no shared frame) until some run calls ``st.navigation``;
``nnplay.ui.ensure_navigation`` turns that mode off through a private Streamlit flag. If a
Streamlit upgrade moves the flag, this test fails instead of the bug coming back silently (and so does
tests/test_hooks.py, which asks a fresh server for /draw over Streamlit's websocket, with no browser).
What does not live here: drawing on the canvas (test_draw_browser.py).
"""

from __future__ import annotations

import pytest

from tests.test_hooks import LINKED_TITLES as PAGE_TITLES  # app.py's pages a learner is linked to, in order

pytestmark = pytest.mark.browser


def test_a_deep_link_on_a_fresh_server_opens_inside_the_navigation(fresh_app_url, page, browser):
    """...and so do links that other browsers open at the same moment: each session's first run may begin in the
    legacy mode before one of them turns it off."""
    others = []
    for path in ("train", "forward"):  # the server's first sessions, side by side with this page's
        context = browser.new_context()
        others.append((path, context, context.new_page()))
        others[-1][2].goto(f"{fresh_app_url}/{path}")
    page.goto(f"{fresh_app_url}/draw")
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=90_000)  # the Draw page itself
    for path, context, other in [("draw", None, page)] + others:
        sidebar = other.locator("[data-testid='stSidebar']")
        sidebar.wait_for(timeout=30_000)
        other.get_by_text("Device:").wait_for(timeout=60_000)  # the shared frame's sidebar, not Streamlit's own list
        links = sidebar.locator("[data-testid='stPageLink'] a")
        links.first.wait_for(timeout=30_000)
        titles = [text.strip().splitlines()[-1].strip() for text in links.all_inner_texts()]  # icon, then title
        assert titles == PAGE_TITLES, path  # app.py's links, in order
        assert sidebar.get_by_text("nnplay").count() >= 1  # the shared frame's heading
        assert other.url.rstrip("/").endswith(f"/{path}")  # the link kept its address
        assert other.locator("[data-testid='stException']").count() == 0
        if context is not None:
            context.close()
