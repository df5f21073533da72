"""The Train page's short start for a first-time visitor, and where nnplay's lecture notes come from.

``welcome()`` draws, at the top of the Train page (the app's landing page, where ``/`` leads), three
lines on what to do first, two buttons to the pages to visit next and one sentence on the notes
(``NOTES``). It shows only while the workspace has no runs and the learner has not closed it, so a
returning learner never spends a click on it; closing is kept for the workspace like the smoothing
(``ui.kept_choices.restore_setting``). ``NOTES`` is also the tooltip of the Train page's presets.
What does not live here: the presets themselves (``nnplay.config.PRESETS``) and the runs (``ui.workspace_runs``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import restore_setting, save_setting, session_runs

CLOSED = "train_welcome_closed"  # the kept setting: the learner closed the start box
PAGES = Path(__file__).parent.parent.parent / "pages"  # absolute: the same under app.py and in tests

NOTES = ("nnplay follows five Korean lecture notes (blog posts), numbered 000 to 004: 000 an MLP in PyTorch, "
         "001 activation functions, 002 a 3-layer network in numpy, 003 hyperparameters and a CNN, 004 numpy → "
         "autograd → nn → optim. Presets and lessons name the note they come from.")
STEPS = (
    "1. Press **Start** under the settings and watch the network learn; *Quick run on a subset* takes seconds.\n"
    "2. Change a setting or load a preset, then train again: your runs are listed and compared below.\n"
    "3. Then try your model: draw a digit for it to read, or see which test images it gets wrong."
)
LINKS = (("draw.py", "✏️ Draw a digit"), ("inspect.py", "🔬 Inspect its mistakes"))


def shown(closed: bool, has_runs: bool) -> bool:
    """The start box is for a first visit: no runs in the workspace yet, and not closed."""
    return not closed and not has_runs


def _close() -> None:
    st.session_state[CLOSED] = True
    save_setting(CLOSED)


def welcome() -> None:
    """The start box, when ``shown``; nothing otherwise."""
    restore_setting(CLOSED, False, parse=lambda text: text == "True", valid=lambda value: isinstance(value, bool))
    if not shown(st.session_state[CLOSED], bool(session_runs())):
        return
    with st.container(border=True, key="train_welcome"):
        head, close = st.columns([6, 1], vertical_alignment="center")
        head.markdown("**New here? Start with these three steps.**")
        close.button("Close", key="train_welcome_close", on_click=_close, width="stretch",
                     help="hide this box; it also goes by itself once your workspace has a run")
        st.markdown(STEPS)
        row = st.container(horizontal=True, gap="small")
        for file, label in LINKS:
            if row.button(label, key=f"train_welcome_{Path(file).stem}"):
                st.switch_page(str(PAGES / file))
        st.caption(NOTES)
