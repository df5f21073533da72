"""Sweeps: many runs over a plan of settings, queued on the jobs backend like any run, kept in the run store.

One job per module: ``plan`` (``SweepPlan``, ``Axis``, ``SETTINGS``, ``MAX_RUNS``: what varies and the runs it
makes, checked as the Train page checks each field; JSON in and out), ``halving`` (successive halving's
decision, pure), ``estimate`` (the wall time from measured epoch times), ``live`` (``start_sweep``,
``load_sweep``, ``continue_sweep``, ``PlannedSweep``: a plan's runs on the jobs backend and in the store) and
``cli`` (``python -m nnplay sweep``). The public names are re-exported here: ``from nnplay.sweeps import
SweepPlan``. Nothing here imports streamlit.
"""

from .estimate import (DEFAULT_OVERHEAD_S, Measured, estimate_seconds, measured_runs, overhead_seconds, parameters,
                       run_overhead, run_seconds, worker_count)
from .halving import DEFAULT_ETA, Halt, decide, rungs
from .live import (LIVE, MAX_ACTIVE_SWEEPS, Halver, PlannedSweep, SweepRun, active_sweeps, continue_sweep,
                   ended_for_good, load_sweep, missing_runs, start_sweep)
from .plan import (MAX_RUNS, MAX_SEEDS, SETTINGS, Axis, PlanError, PlannedRun, Setting, SweepPlan, check_value,
                   format_setting, largest_run, parse_values, range_values, run_key, run_name, seed_values)

__all__ = ["DEFAULT_OVERHEAD_S", "Measured", "estimate_seconds", "measured_runs", "overhead_seconds", "parameters",
           "run_overhead", "run_seconds", "worker_count",
           "DEFAULT_ETA", "Halt", "decide", "rungs", "LIVE", "MAX_ACTIVE_SWEEPS", "Halver", "PlannedSweep",
           "SweepRun", "active_sweeps", "continue_sweep", "ended_for_good", "load_sweep", "missing_runs", "start_sweep",
           "MAX_RUNS", "MAX_SEEDS", "SETTINGS", "Axis", "PlanError", "PlannedRun", "Setting", "SweepPlan",
           "check_value", "format_setting", "largest_run", "parse_values", "range_values", "run_key", "run_name",
           "seed_values"]
