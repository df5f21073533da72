"""Comparing many runs: one table row per run (settings and metric summaries), seed groups, which settings
mattered, and the table as CSV or Parquet.

``frame`` builds the table from the run store (two queries for any number of runs), ``groups`` groups runs
that differ only in their seed and rates the settings (Spearman correlation and a random forest's
importance), ``files`` writes the table. Headless: the figures live in ``nnplay.figures.compare``, the page
in ``pages/``.
"""

from ..store_compare import curve_histories, sweep_labels, sweep_names
from .files import to_csv, to_parquet, write_table
from .frame import (CATEGORICAL, DEFAULT_K, METRICS, RUN_INFO, SETTINGS, SUMMARIES, all_summaries, category_text,
                    epochs_frame, frame_from, read_epochs, runs_frame, settings_row, summarize, summary_label,
                    varying_settings)
from .groups import MIN_RUNS, Importance, group_seeds, importance

__all__ = [
    "CATEGORICAL", "DEFAULT_K", "METRICS", "RUN_INFO", "SETTINGS", "SUMMARIES", "all_summaries", "category_text",
    "epochs_frame", "frame_from", "read_epochs", "runs_frame", "settings_row", "summarize", "summary_label",
    "varying_settings", "MIN_RUNS", "Importance", "group_seeds", "importance", "to_csv", "to_parquet", "write_table",
    "sweep_names", "sweep_labels", "curve_histories",
]
