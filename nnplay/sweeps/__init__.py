"""Sweeps: many runs over a plan of settings, queued on the jobs backend like any run, kept in the run store.

One job per module: ``plan`` (``SweepPlan``, ``Axis``, ``SETTINGS``, ``MAX_RUNS``: what varies and the runs it
makes, checked as the Train page checks each field; JSON in and out). The public names are re-exported
here: ``from nnplay.sweeps import SweepPlan``. Nothing here imports streamlit.
"""

from .plan import (MAX_RUNS, MAX_SEEDS, SETTINGS, Axis, PlannedRun, Setting, SweepPlan, check_value, format_setting,
                   parse_values, range_values, run_key, run_name, seed_values)

__all__ = ["MAX_RUNS", "MAX_SEEDS", "SETTINGS", "Axis", "PlannedRun", "Setting", "SweepPlan", "check_value",
           "format_setting", "parse_values", "range_values", "run_key", "run_name", "seed_values"]
