"""A row's reproduction as runs in the store, and what they add up to.

Pressing reproduce on a row makes ``plan_runs(row, seeds)``: one run per seed (0, 1, …) in one group
``papers/<row key>/<time>``, kept as kind "sweep" (out of the Train list, in Compare runs). ``row_result`` reads
a row's latest group back from any list of runs (``workspace_runs(store, ws, kinds=("sweep",))``), so the table
fills in after a reload and for everyone in the workspace: the mean ± sample std of the test error over the
finished seeds, their mean wall time, and whether it matches (the mean within the paper's number plus twice the
spread). A figure row's result is a JSON document in the workspace's settings (``save_figure``/``load_figure``).
Nothing here trains or draws.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Sequence

from ..runs import Run
from .rows import Row

GROUP_PREFIX = "papers/"
DEFAULT_SEEDS = 3
MAX_SEEDS = 20
FIGURE_SETTING = "papers/figure/"  # + figure key: its last result, as JSON, in the workspace's settings


def group_of(row_key: str) -> str:
    """The prefix of every group that reproduces ``row_key``."""
    return f"{GROUP_PREFIX}{row_key}/"


def plan_runs(row: Row, seeds: int = DEFAULT_SEEDS) -> tuple[str, list[Run]]:
    """The group name and one unstarted run per seed 0 … seeds−1 for ``row``; ValueError for a bad count."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"give 1 to {MAX_SEEDS} seeds; got {seeds}.")
    group = f"{group_of(row.key)}{time.strftime('%Y-%m-%d %H:%M:%S')}"
    runs = []
    for seed in range(seeds):
        data, model, train = row.configs(seed)
        runs.append(Run(f"{row.title} · seed {seed}", data, model, train))
    return group, runs


def latest_runs(runs: Sequence[Run], row_key: str) -> list[Run]:
    """The runs of the newest group that reproduces ``row_key``, oldest first (none: [])."""
    mine = [r for r in runs if r.group.startswith(group_of(row_key))]
    if not mine:
        return []
    newest = max(mine, key=lambda r: r.created).group
    return sorted((r for r in mine if r.group == newest), key=lambda r: r.created)


@dataclass(frozen=True)
class RowResult:
    """What a row's seeds add up to: errors in %, seconds of wall time per seed."""

    runs: int
    finished: int
    active: int
    mean: float | None
    std: float | None
    seconds: float | None
    """Mean wall time of a finished seed (training plus the evaluation after each epoch)."""
    paper: float

    @property
    def matches(self) -> bool | None:
        """The mean within the paper's number plus twice the spread (lower is fine); None before a seed finished."""
        if self.mean is None:
            return None
        return self.mean <= self.paper + 2 * (self.std or 0.0)

    def spread_text(self) -> str:
        """"1.62 ± 0.05 % (3 seeds)", or what there is so far."""
        if self.mean is None:
            return f"{self.active} training" if self.active else "not run yet"
        seeds = f"{self.finished} seed{'s' if self.finished != 1 else ''}"
        return f"{self.mean:.2f} ± {self.std:.2f} % ({seeds})"

    def match_text(self) -> str:
        if self.matches is None:
            return ""
        if self.matches:
            return "yes" if self.mean >= self.paper else "yes (better)"
        return f"no (+{self.mean - self.paper:.2f})"


def row_result(row: Row, runs: Sequence[Run]) -> RowResult:
    """The result of ``runs`` (a row's group): finished seeds only; the sample std (0 for one seed)."""
    errors, seconds = [], []
    for run in runs:
        if run.status != "finished":
            continue
        final = run.final()
        if final["test_accuracy"] is None:
            continue
        errors.append(100.0 * (1.0 - final["test_accuracy"]))
        seconds.append(final["seconds"] + sum(e.eval_seconds for e in run._epochs()))
    active = sum(r.active for r in runs)
    if not errors:
        return RowResult(len(runs), 0, active, None, None, None, row.paper_error)
    mean = sum(errors) / len(errors)
    std = math.sqrt(sum((e - mean) ** 2 for e in errors) / (len(errors) - 1)) if len(errors) > 1 else 0.0
    return RowResult(len(runs), len(errors), active, mean, std, sum(seconds) / len(seconds), row.paper_error)


def results_table(rows: Sequence[Row], runs: Sequence[Run]) -> list[dict]:
    """One line per row: the paper's number beside the learner's, the time, the match and the note."""
    table = []
    for row in rows:
        result = row_result(row, latest_runs(runs, row.key))
        table.append({
            "paper": f"{row.cite}, {row.where.split(' (')[0]}",
            "result": row.title,
            "paper error %": row.paper_error,
            "nnplay error %": result.spread_text(),
            "time per seed": "" if result.seconds is None else f"{result.seconds:.0f} s",
            "matches": result.match_text(),
            "note": row.note,
        })
    return table


# ---------------------------------------------------------------------------------------------
# figure rows: one JSON document each in the workspace's settings


def save_figure(store, workspace: str, key: str, result: dict) -> None:
    """Keep a figure row's result (a JSON-able dict) for the workspace, with when it was made."""
    store.set_setting(workspace, FIGURE_SETTING + key, json.dumps({"made": time.time(), **result}))


def load_figure(store, workspace: str, key: str) -> dict | None:
    """A figure row's last result in the workspace, or None (none yet, or unreadable)."""
    text = store.setting(workspace, FIGURE_SETTING + key)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
