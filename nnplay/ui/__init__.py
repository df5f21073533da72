"""The app glue: the only part of nnplay that imports streamlit.

One module per job: ``server`` (what the app frame starts once per process, and ``ensure_navigation``),
``data`` (the dataset cached per process, its one-line notice), ``drawn`` (the digit last drawn),
``workspace`` (the run store, this browser's workspace and its cookie), ``workspace_runs`` (its runs),
``settings`` (choices kept across reloads, the model pick), ``model_picker`` (the one model picker),
``sweeps`` (experiments and races), ``sweep_builder`` (the Sweeps page's
pure helpers, no streamlit), ``widgets`` (``folded_code``), ``number_box`` (a number typed in a text
box, refused with a sentence when the page cannot take it), ``canvas`` (the Draw page's faster
canvas), ``live`` (a run's live view, polled from a ``feed`` file while it trains; its JavaScript is
``live_run.js``), ``feed`` (that file's writer, no streamlit), ``run_link`` (a run's link
``/train?run=<id>``; another workspace's run read-only), ``watch`` (the Train page's "Watch it learn"
toggle, Step and speed), the Train page's parts (``runs_panel``: the runs list, Compare and Load a model;
``export_panel``; ``outcome``: how a run ended, in a sentence, no streamlit) and ``sockets`` (Nagle's
algorithm off on the web server's sockets, no streamlit). Pages import what they need from here.
"""

from .canvas import fast_canvas
from .data import cached_mnist, dataset_or_stop, learner_mnist, show_data_notice
from .drawn import DRAWN_KEY, drawn_digit, remember_drawn_digit
from .live import FEEDS_KEY, drop_live_feed, live_run_view, plotly_figure, preload_live_view
from .model_picker import default_model, model_for_page, model_picker, picked_model, picked_run
from .server import (ensure_navigation, freeze_long_lived_objects, send_replies_at_once, training_backend,
                     training_backend_caption)
from .kept_choices import restore_setting, save_setting
from .sweeps import SWEEPS_KEY, restore_sweep, session_sweeps, sweep_store
from .widgets import folded_code
from .workspace import keep_workspace_cookie, store, workspace, workspace_link, workspace_mode
from .workspace_runs import add_run, copy_to_my_runs, remove_run, run_by_id, session_runs, space_used, training_run

__all__ = [
    "fast_canvas", "cached_mnist", "learner_mnist", "dataset_or_stop", "show_data_notice", "DRAWN_KEY", "drawn_digit",
    "remember_drawn_digit", "FEEDS_KEY", "drop_live_feed", "live_run_view", "plotly_figure", "preload_live_view",
    "default_model", "model_for_page", "model_picker", "picked_model", "picked_run", "ensure_navigation",
    "freeze_long_lived_objects", "send_replies_at_once", "training_backend", "training_backend_caption",
    "restore_setting", "save_setting",
    "SWEEPS_KEY", "restore_sweep", "session_sweeps", "sweep_store", "folded_code", "keep_workspace_cookie", "store",
    "workspace", "workspace_link", "workspace_mode", "add_run", "copy_to_my_runs", "remove_run", "run_by_id",
    "session_runs", "space_used", "training_run",
]
