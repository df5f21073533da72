"""The Class page (class mode, the teacher only): every learner's runs live, the leaderboard, Stop and the CSV.

The teacher opens ``/class?token=…`` once (the link the server printed at start); a cookie keeps them in. The
page is a frame around ``nnplay.ui.class_view.class_page``.
"""

import streamlit as st

from nnplay.ui import ensure_navigation
from nnplay.ui.class_view import class_page

ensure_navigation()
st.title("Class")
class_page()
