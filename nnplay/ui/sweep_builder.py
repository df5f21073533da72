"""The Sweeps page's pure helpers (no streamlit): the base configs a sweep starts from, the plan read from the
page's widgets with each refusal placed beside its setting, and how a sweep's runs read in its table.

What lives here: ``base_configs`` (a preset, or the Train page's settings, with the sweep's epochs and data
subset), ``default_range`` (what a setting's range boxes start with), ``read_axis``/``read_plan`` (widgets →
``nnplay.sweeps.SweepPlan``, refusals by setting; ``place_refusal``), ``halted``, ``run_status``/``run_why``,
``sweep_rows`` (the runs table), ``progress_sentence``; ``by_setting``/``best_sentence`` come from
``nnplay.sweeps.summary``. What does not: the plan, its checks and its estimate (``nnplay.sweeps``),
training (``nnplay.runs``), the widgets (``pages/sweeps.py``).
"""

from __future__ import annotations

import dataclasses
import math

from collections.abc import Mapping

from ..config import PRESETS, DataConfig, ModelConfig, TrainConfig
from ..sweeps import DEFAULT_ETA, SETTINGS, Axis, SweepPlan, format_setting, seed_values
from ..sweeps.halving import PREFIX as HALT_PREFIX
from ..sweeps.summary import best_sentence, by_setting  # noqa: F401 - the page's names for them

TRAIN_BASE = "train"  # "start from the Train page's settings" in the base choice
LIST, RANGE = "list", "range"  # how a setting's values are given
DEFAULT_VARY = ("lr", "batch_size")
BOX_FIELDS = {"first_seed": "seeds", "draw_seed": "draws"}  # a number box → where read_plan says a refusal of it
RANGE_START = {"lr": (1e-4, 1e-1, 4), "batch_size": (32, 512, 5), "epochs": (1, 5, 3), "width": (32, 512, 5),
               "depth": (1, 3, 3), "dropout": (0.0, 0.5, 3), "weight_decay": (1e-5, 1e-3, 3), "momentum": (0.0, 0.9, 4)}


def default_range(key: str) -> tuple[float, float, int, str]:
    """(low, high, count, scale) a setting's range boxes start with."""
    setting = SETTINGS[key]
    low, high, count = RANGE_START.get(key, (1, 10, 3))
    if setting.kind == "int":
        low, high = int(low), int(high)
    else:
        low, high = float(low), float(high)
    return low, high, count, setting.scale


def base_configs(base: str, train_configs: dict | None, epochs: int, train_limit: int | None,
                 test_limit: int | None) -> tuple[DataConfig, ModelConfig, TrainConfig]:
    """The configs every run starts from: the preset ``base`` (or the Train page's settings, ``TRAIN_BASE``), with
    the sweep's epochs and data subset (None: all images). Raises ConfigError (naming the field) for a bad one."""
    if base == TRAIN_BASE and train_configs and len(train_configs) == 3:
        data, model, train = train_configs["data"], train_configs["model"], train_configs["train"]
    else:
        data, model, train = PRESETS[base].apply(DataConfig(), TrainConfig())
    data = dataclasses.replace(data, train_limit=train_limit, test_limit=test_limit)
    return data, model, dataclasses.replace(train, epochs=epochs)


def read_axis(key: str, state: Mapping, prefix: str = "sweep_") -> Axis:
    """One varied setting's values from the page's widgets (``<prefix>kind_<key>``: list or range; the list's
    text ``<prefix>values_<key>``; the range's ``low_``, ``high_``, ``count_``, ``scale_``); ValueError naming it."""
    if state.get(f"{prefix}kind_{key}") == RANGE and SETTINGS[key].numeric:
        low, high = state.get(f"{prefix}low_{key}"), state.get(f"{prefix}high_{key}")
        count = state.get(f"{prefix}count_{key}")
        if low is None or high is None or count is None:
            raise ValueError(f"{SETTINGS[key].label}: give the range's low end, high end and count.")
        return Axis.of_range(key, low, high, int(count), state.get(f"{prefix}scale_{key}") or SETTINGS[key].scale)
    return Axis.of_list(key, state.get(f"{prefix}values_{key}", ""))


def read_plan(state: Mapping, base: tuple | None, prefix: str = "sweep_") -> tuple[SweepPlan | None, dict[str, str]]:
    """The plan the widgets describe, and each refusal by where it belongs: a varied setting's key, "seeds",
    "draws", "eta" or "plan" (a sentence about the whole: no setting, too many runs, a combination refused).
    The numbers (``seeds``, ``first_seed``, ``draws``, ``draw_seed``, ``eta``) are already read from their boxes."""
    errors: dict[str, str] = {}
    axes = []
    for key in state.get(f"{prefix}vary") or ():
        try:
            axes.append(read_axis(key, state, prefix))
        except ValueError as err:
            errors[key] = str(err)
    random_draws = state.get(f"{prefix}search") == "random"
    draws = state.get(f"{prefix}draws")
    if random_draws and draws is None:
        errors["draws"] = "Random draws: give how many, at least 1."
    try:
        seeds = seed_values(int(state.get(f"{prefix}seeds") or 0), int(state.get(f"{prefix}first_seed") or 0))
    except ValueError as err:
        errors["seeds"] = str(err)
    if errors or base is None:
        return None, errors
    data, model, train = base
    try:
        plan = SweepPlan(tuple(axes), data, model, train, seeds=seeds, mode="random" if random_draws else "grid",
                         draws=int(draws) if random_draws else 0,
                         draw_seed=int(state.get(f"{prefix}draw_seed") or 0) if random_draws else 0,
                         halving=bool(state.get(f"{prefix}early")), eta=int(state.get(f"{prefix}eta") or DEFAULT_ETA))
        plan.expand()  # a combination the configs refuse (nesterov without momentum…) is said before Start
    except ValueError as err:
        errors[place_refusal(err, [a.setting for a in axes])] = str(err)
        return None, errors
    return plan, errors


def place_refusal(err: Exception | str, varied: list[str]) -> str:
    """Where a refusal is shown: the setting a ``PlanError`` names (when the page has a row for it), else the
    varied setting whose label begins the sentence, "seeds", "draws", else "plan" (under the settings)."""
    named = getattr(err, "setting", None)
    if named in varied or named in ("seeds", "draws", "eta"):
        return named
    sentence = str(err)
    for key in varied:
        if sentence.startswith(SETTINGS[key].label + " ") or sentence.startswith(SETTINGS[key].label + ":"):
            return key
    if sentence.startswith("Seeds:"):
        return "seeds"
    if sentence.startswith("Random draws:"):
        return "draws"
    return "plan"


# ---------------------------------------------------------------------------------------------
# a sweep's runs, as its table shows them

STATUS_WORDS = {"queued": "queued", "running": "running", "paused": "paused", "finished": "finished",
                "stopped": "stopped", "interrupted": "interrupted", "diverged": "diverged", "error": "failed"}


def halted(run) -> str:
    """Why successive halving stopped the run (its message without the prefix), else ""."""
    return run.message.split(": ", 1)[-1] if run.message.startswith(HALT_PREFIX) else ""


def run_status(run, early: str = "") -> str:
    """ "finished", "running", "stopped early" (``early``: successive halving stopped it), "interrupted"…"""
    if run.status == "stopped" and early:
        return "stopped early"
    return STATUS_WORDS.get(run.status, run.status)


def run_why(run, early: str = "") -> str:
    """Why it ended as it did, where that needs saying: halving's reason, a failure's or divergence's message."""
    if run.status == "stopped" and early:
        return early
    return run.message if run.status in ("error", "diverged", "interrupted") else ""


def _number(value, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def sweep_rows(entries) -> list[dict]:
    """One row per run, from ``(settings, seed, run, early)``: the varied settings' values and the seed, the status
    (``early``: why successive halving stopped it), and its last epoch's test accuracy (in %) and loss (empty before its
    first epoch; a run not made yet, ``None``, is "not started")."""
    rows = []
    for i, (settings, seed, run, early) in enumerate(entries, start=1):
        row: dict = {"run": i}
        row.update({SETTINGS[k].label if k in SETTINGS else k: format_setting(v) for k, v in settings.items()})
        row["seed"] = seed
        epochs = run.history.epochs if run is not None else []
        row["status"] = run_status(run, early) if run is not None else "not started"
        row["epochs"] = len(epochs)
        row["test accuracy %"] = _number(100 * epochs[-1].test_accuracy, 2) if epochs else None
        row["test loss"] = _number(epochs[-1].test_loss, 4) if epochs else None
        row["why"] = run_why(run, early) if run is not None else ""  # last: a long sentence, often empty
        rows.append(row)
    return rows


def progress_sentence(runs) -> str:
    """ "5 of 12 runs done · 2 running · 5 queued" (with the interrupted, stopped and failed counted apart)."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    done = counts.get("finished", 0)
    parts = [f"{done} of {len(runs)} runs finished"]
    for status, word in (("running", "running"), ("paused", "paused"), ("queued", "queued"),
                         ("stopped", "stopped"), ("interrupted", "interrupted"), ("diverged", "diverged"),
                         ("error", "failed")):
        if counts.get(status):
            parts.append(f"{counts[status]} {word}")
    return " · ".join(parts)
