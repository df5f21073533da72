"""The app glue: the only part of nnplay that imports streamlit.

``session`` (data cached per process, the run store and this browser's workspace, its runs, the one model picker, navigation),
``canvas`` (the Draw page's faster canvas), ``live`` (a run's live view, polled from a ``feed``
file while it trains; its JavaScript is ``live_run.js``), ``feed`` (that file's writer, no
streamlit), ``run_link`` (a run's link ``/train?run=<id>``; another workspace's run read-only),
``watch`` (the Train page's "Watch it learn" toggle, Step and speed) and ``sockets`` (Nagle's algorithm
off on the web server's sockets, no streamlit). Pages import what they need from here.
"""

from .canvas import fast_canvas
from .live import FEEDS_KEY, drop_live_feed, live_run_view, plotly_figure, preload_live_view
from .session import (DRAWN_KEY, SWEEPS_KEY, active_run, add_run, cached_mnist, copy_to_my_runs, current_model,
                      current_run, dataset_or_stop, default_model, drawn_digit, ensure_navigation,
                      folded_code, freeze_long_lived_objects, keep_setting, keep_workspace_cookie, kept_setting,
                      model_for_page, model_picker, remember_drawn_digit, remove_run, restore_sweep, run_by_id,
                      send_replies_at_once, session_runs, session_sweeps, space_used, store, show_data_notice,
                      sweep_store, training_backend, workspace, workspace_link)

__all__ = [
    "fast_canvas", "FEEDS_KEY", "drop_live_feed", "live_run_view", "plotly_figure", "preload_live_view", "DRAWN_KEY",
    "SWEEPS_KEY", "active_run", "add_run", "cached_mnist", "copy_to_my_runs", "current_model", "current_run",
    "dataset_or_stop", "default_model", "drawn_digit", "ensure_navigation", "folded_code", "freeze_long_lived_objects",
    "keep_setting", "keep_workspace_cookie", "kept_setting", "model_for_page", "model_picker", "remember_drawn_digit",
    "remove_run", "restore_sweep", "run_by_id", "send_replies_at_once", "session_runs", "session_sweeps",
    "show_data_notice", "space_used", "store", "sweep_store", "training_backend", "workspace", "workspace_link",
]
