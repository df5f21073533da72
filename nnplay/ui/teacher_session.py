"""Whether this session is the teacher's, and which runs it may open: the two questions every page asks in class mode.

``is_teacher`` (class mode on, and this session signed in with ``/class?token=…`` or its browser holding the
teacher's cookie), ``may_open_run`` (in class mode a learner opens their own runs only; the teacher any,
read-only). The sign-in itself and the Class page live in ``class_view``; this module stays small so that the
run links and the model picker can ask without importing the page.
"""

from __future__ import annotations

import streamlit as st

from ..classroom import teacher as classroom
from .workspace import workspace

TEACHER_KEY = "nnplay_teacher"  # session state: this session signed in as the teacher
TEACHER_COOKIE = "nnplay_teacher"


def is_teacher() -> bool:
    """Whether this session is the teacher's (class mode on, and signed in here or holding the teacher's cookie)."""
    if not classroom.class_mode():
        return False
    if st.session_state.get(TEACHER_KEY) is True:
        return True
    return classroom.session_matches(cookies().get(TEACHER_COOKIE))



def cookies() -> dict:
    """The cookies the browser sent when the page connected (Streamlit reads them once)."""
    return dict(st.context.cookies or {})



def may_open_run(run_workspace: str) -> bool:
    """Whether this session may open a run of ``run_workspace`` by its link: always outside class mode (read-only
    when not its own); in class mode a learner's own runs only, and the teacher's any."""
    return not classroom.class_mode() or run_workspace == workspace() or is_teacher()
