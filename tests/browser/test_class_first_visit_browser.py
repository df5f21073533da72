"""Browser test of the first page a freshly started class-mode server is asked for (real headless Chromium).

What lives here: the teacher opens the link the server printed (``/class?token=…``) as the server's very first
page: no "Page not found" dialog, the token leaves the address bar, and a reload keeps the teacher in through the
cookie; a learner's first visit to /train on a fresh server shows no such dialog either. Until some run calls
``st.navigation``, Streamlit resolves the URL against the files of ``pages/`` (its legacy multipage mode), so a page
whose file name differs from its URL path got that dialog on a fresh server.
What does not live here: the live Class page (test_class_browser.py), deep links outside class mode
(test_navigation_browser.py).
"""

from __future__ import annotations

import pytest

from nnplay.devtools import wait_until as _wait

from .conftest import served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "browser-first-visit-token-0123"
NOT_FOUND = "Page not found"
SHOT = "/tmp/nnplay-class-first-visit-{}.png"


def _not_found_shown(page) -> bool:
    return page.get_by_text(NOT_FOUND).count() > 0


def test_the_teachers_first_visit_to_a_fresh_server_shows_no_page_not_found(browser, tmp_path):
    with served_app(tmp_path / "home", env={"NNPLAY_TEACHER_TOKEN": TOKEN}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        teacher = context.new_page()
        try:
            teacher.goto(url + f"/class?token={TOKEN}")  # the first page this server is asked for
            teacher.wait_for_selector("text=Leaderboard", timeout=90_000)
            _wait(lambda: "token" not in teacher.url, 30, "the token to leave the address bar")
            assert teacher.url.rstrip("/").endswith("/class")
            _wait(lambda: "nnplay_teacher=" in teacher.evaluate("document.cookie"), 30, "the teacher's cookie")
            teacher.wait_for_timeout(1000)  # the dialog, when sent, comes before the page's first elements
            assert not _not_found_shown(teacher)

            teacher.reload()  # no token now: the cookie keeps the teacher in
            teacher.wait_for_selector("text=Leaderboard", timeout=90_000)
            assert "The Class page is the teacher's" not in teacher.inner_text("body")
            assert not _not_found_shown(teacher)
        except Exception:
            teacher.screenshot(path=SHOT.format("teacher"), full_page=True)
            raise
        finally:
            context.close()


def test_a_learners_first_visit_to_train_on_a_fresh_server_shows_no_page_not_found(browser, tmp_path):
    with served_app(tmp_path / "home", env={"NNPLAY_TEACHER_TOKEN": TOKEN}) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        learner = context.new_page()
        try:
            learner.goto(url + "/train")  # the first page this server is asked for
            learner.wait_for_selector("text=Your name in this class", timeout=90_000)
            learner.wait_for_timeout(1000)
            assert not _not_found_shown(learner)
            assert learner.url.rstrip("/").endswith("/train")
        except Exception:
            learner.screenshot(path=SHOT.format("learner"), full_page=True)
            raise
        finally:
            context.close()
