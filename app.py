"""nnplay: the entry script. It only builds the navigation and the sidebar every page shares.

Run with ``streamlit run app.py``. Each page is a file in ``pages/`` with a stable URL path.
"""

from pathlib import Path

import streamlit as st

from nnplay.engine import device_name, pick_device
from nnplay.names import escape_markdown
from nnplay.settings import problems as settings_problems
from nnplay.ui import (freeze_long_lived_objects, keep_workspace_cookie, model_picker, send_replies_at_once, store,
                       training_backend, training_backend_caption, training_run, workspace_link, workspace_mode)
from nnplay.ui.class_view import announce_class, learner_name_box, shown_in_navigation, store_notice
from nnplay.ui.live import sidebar_status

st.set_page_config(page_title="nnplay", page_icon="🧠", layout="wide")
bad_settings = settings_problems()  # every NNPLAY_* setting, checked before anything uses one
for sentence in bad_settings:
    st.error(sentence, icon=":material/settings:")
if bad_settings:
    st.stop()
send_replies_at_once()  # once per process: Streamlit's server leaves Nagle's algorithm on (nnplay/ui/sockets.py)
freeze_long_lived_objects()  # once per process, whichever page opens first: a full GC then never stalls training
training_backend()  # the worker pool starts with the first page, warm for the first Start
announce_class()  # once per process in class mode: the teacher's link (with a token made now) goes to the log

PAGES_DIR = Path(__file__).parent / "pages"
# (file, title, icon, url path): a page is registered when its file exists; a file is named as its url path, since
# a fresh server looks its first link up among pages/'s files (tests/test_page_class.py)
PAGES = [
    ("train.py", "Train", "🏋️", "train"),
    ("inspect.py", "Inspect", "🔬", "inspect"),
    ("draw.py", "Draw", "✏️", "draw"),
    ("digits.py", "Your digits", "✍️", "digits"),
    ("activations.py", "Activations", "📈", "activations"),
    ("forward.py", "Forward pass", "🧮", "forward"),
    ("experiments.py", "Experiments", "🧪", "experiments"),
    ("sweeps.py", "Sweeps", "🧹", "sweeps"),
    ("compare.py", "Compare runs", "📊", "compare"),
    ("papers.py", "Published results", "📜", "papers"),
    ("scratch.py", "From scratch", "🪜", "scratch"),
    ("class.py", "Class", "🏫", "class"),
]

pages = [
    st.Page(str(PAGES_DIR / file), title=title, icon=icon, url_path=path)
    for file, title, icon, path in PAGES
    if (PAGES_DIR / file).exists()
]


def _home() -> None:
    """The app's root URL opens the Train page at its own address, /train."""
    st.switch_page(pages[0])


# Streamlit serves the default page at "/" and nowhere else, so the default is this small
# redirect: every real page keeps a URL path that can be bookmarked (/train included). The
# navigation menu is hidden and drawn below from the real pages only.
nav = st.navigation([st.Page(_home, title="nnplay", url_path="home", default=True), *pages], position="hidden")


@st.cache_resource
def _device_label() -> str:
    return device_name(pick_device())


with st.sidebar:
    st.markdown("### 🧠 nnplay")
    for page in pages:
        if shown_in_navigation(page.url_path):  # the Class page: the teacher's only
            st.page_link(page)
    st.divider()
    training_backend_caption(f"Device: **{_device_label()}**")  # redraws itself while a Ray cluster is reached
    running = training_run()
    status = sidebar_status(running)  # the live view reruns the page when its news say otherwise
    if running is not None:  # the words of the runs list and the live view
        st.caption(f"Training: **{escape_markdown(running.name)}** ({status})")
    model_picker()
    runs_store = store()
    if runs_store.notice:
        st.warning(store_notice(runs_store.notice), icon="⚠️")
    if workspace_mode() == "local":  # a shared server's paths are its own, not its learners'
        st.caption(f"Runs are kept in `{runs_store.home}`" + (" (read-only)" if runs_store.read_only else ""))
    link = workspace_link()
    if link:
        st.caption(f"Your workspace, to open it in another browser: [{link}]({link})")
    learner_name_box()  # class mode: a learner's display name, asked for on the first visit
    keep_workspace_cookie()

nav.run()
