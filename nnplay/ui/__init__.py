"""The app glue: the only part of nnplay that imports streamlit.

``session`` (data cached per process, the session's runs, the current model, navigation),
``canvas`` (the Draw page's faster canvas), ``live`` (a run's live view, polled from a ``feed``
file while it trains; its JavaScript is ``live_run.js``) and ``feed`` (that file's writer, no
streamlit). Pages import what they need from here.
"""

from .canvas import fast_canvas
from .live import FEEDS_KEY, drop_live_feed, live_run_view, preload_live_view
from .session import (DRAWN_KEY, RUNS_KEY, SWEEPS_KEY, active_run, add_run, cached_mnist, current_model,
                      current_run, dataset_or_stop, default_model, drawn_digit, ensure_navigation,
                      freeze_long_lived_objects, model_for_page, remember_drawn_digit, remove_run, session_runs,
                      session_sweeps, show_data_notice)

__all__ = [
    "fast_canvas", "FEEDS_KEY", "drop_live_feed", "live_run_view", "preload_live_view", "DRAWN_KEY", "RUNS_KEY",
    "SWEEPS_KEY", "active_run", "add_run", "cached_mnist", "current_model", "current_run", "dataset_or_stop",
    "default_model", "drawn_digit", "ensure_navigation", "freeze_long_lived_objects", "model_for_page",
    "remember_drawn_digit", "remove_run", "session_runs", "session_sweeps", "show_data_notice",
]
