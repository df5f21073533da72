"""Seed groups and which settings mattered, from a comparison table (``frame``).

``group_seeds(frame, metric)``: the runs that differ only in their seed as one row each, with the metric's
mean, standard deviation (n − 1; none for a single run), min, max and n, so the seed's share of a
difference can be read. ``importance(frame, metric)``: per setting, the Spearman correlation with the
metric and a random forest's importance (scikit-learn's ``RandomForestRegressor``, a fixed
``random_state``), with a sentence saying how many runs that rests on, or why there are no numbers.
Numeric settings enter as they are (Spearman and the forest only use their order); categorical ones
are one-hot: one row per value ("activation = tanh"), as are numeric ones with a missing value
("train_limit = all"). What does not live here: the table itself
(``frame``), figures (``nnplay.figures.compare``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .frame import CATEGORICAL, SETTINGS, category_text

MIN_RUNS = 5  # fewer runs than this with the metric: no numbers, a sentence
FOREST_TREES = 50  # the importances settle well before this on a sweep's few settings; 100 costs twice the time
FOREST_SEED = 0
GROUP_STATS = ("mean", "std", "min", "max")


def _check_metric(frame: pd.DataFrame, metric: str) -> None:
    if metric not in frame.columns:
        raise ValueError(f"the table has no column {metric!r}; choose one of its metrics.")
    if not pd.api.types.is_numeric_dtype(frame[metric]):
        raise ValueError(f"{metric!r} is not a number per run, so it cannot be summarised or rated.")


def group_seeds(frame: pd.DataFrame, metric: str, settings: Sequence[str] = SETTINGS) -> pd.DataFrame:
    """One row per seed group (runs whose settings are the same but for the seed), oldest group first: the
    group's ``settings`` (seed left out), ``seeds`` (their seeds as text), ``run_ids`` (a list), ``n`` (runs
    with a finite ``metric``) and ``<metric>_mean``, ``_std``, ``_min``, ``_max`` over those runs."""
    _check_metric(frame, metric)
    kept = [s for s in settings if s in frame.columns and s != "seed"]
    columns = ["seed_group", *kept, "seeds", "run_ids", "n", *(f"{metric}_{s}" for s in GROUP_STATS)]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    values = frame[metric].where(np.isfinite(frame[metric].astype(float)))
    work = frame.assign(_value=values)
    grouped = work.groupby("seed_group", sort=False)
    stats = grouped["_value"].agg(["mean", "std", "min", "max", "count"])
    first = grouped[kept].first() if kept else pd.DataFrame(index=stats.index)
    out = first.copy()
    out["seeds"] = grouped["seed"].agg(lambda s: ",".join(str(v) for v in s if pd.notna(v))) \
        if "seed" in frame.columns else ""
    out["run_ids"] = grouped["id"].agg(list)
    out["n"] = stats["count"].astype(int)
    for s in GROUP_STATS:
        out[f"{metric}_{s}"] = stats[s].astype(float)
    return out.reset_index()[columns]


@dataclass
class Importance:
    """Which settings mattered for ``metric``: ``table`` has one row per feature (a numeric setting, or one
    value of a categorical one): ``setting``, ``value`` ("" for a numeric setting), ``feature`` (its label),
    ``correlation`` (Spearman, −1…1) and ``importance`` (the forest's, summing to 1), highest importance
    first; empty when there are no numbers. ``sentence`` says what it rests on, or why there are none."""
    metric: str
    runs: int
    sentence: str
    table: pd.DataFrame
    constant: list[str] = field(default_factory=list)  # settings that never vary among these runs

    def by_setting(self) -> pd.DataFrame:
        """One row per setting: the forest's importance summed over its values, and its strongest correlation
        (by size, sign kept)."""
        if self.table.empty:
            return pd.DataFrame(columns=["setting", "correlation", "importance"])
        strongest = self.table.loc[self.table.groupby("setting")["correlation"]
                                   .apply(lambda c: c.abs().fillna(-1).idxmax())]
        out = pd.DataFrame({"setting": strongest["setting"].to_numpy(),
                            "correlation": strongest["correlation"].to_numpy()})
        out["importance"] = out["setting"].map(self.table.groupby("setting")["importance"].sum())
        return out.sort_values("importance", ascending=False, ignore_index=True)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (ties share their mean rank); NaN when either side is constant."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _features(frame: pd.DataFrame, settings: list[str]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The settings as a numeric matrix: numeric columns as they are, categorical ones one-hot."""
    columns, labels = [], []
    for s in settings:
        column = frame[s]
        # a missing value (all images, an unreadable setting) is a category of its own
        if s in CATEGORICAL or not pd.api.types.is_numeric_dtype(column) or column.isna().any():
            text = category_text(column, s)
            for value in sorted(text.unique()):
                columns.append((text == value).to_numpy(dtype=float))
                labels.append((s, value))
        else:
            columns.append(column.astype(float).to_numpy())
            labels.append((s, ""))
    return np.column_stack(columns), labels


def importance(frame: pd.DataFrame, metric: str, settings: Sequence[str] | None = None,
               min_runs: int = MIN_RUNS) -> Importance:
    """Per setting (``SETTINGS`` but the sweep's name, or those given), Spearman's correlation with ``metric``
    and a random forest's importance over the runs that have a finite ``metric`` (a missing setting counts
    as a value of its own, as in ``_features``);
    the settings that never vary among them are left out (``constant``). Fewer than ``min_runs`` runs, or
    no setting that varies: a sentence and no numbers."""
    _check_metric(frame, metric)
    label = metric.replace("_", " ")
    wanted = [s for s in (settings if settings is not None else [s for s in SETTINGS if s != "sweep"])]
    unknown = [s for s in wanted if s not in frame.columns]
    if unknown:
        raise ValueError(f"the table has no setting {', '.join(map(repr, unknown))}.")
    values = frame[metric].astype(float)
    usable = frame[np.isfinite(values)]
    n, total = len(usable), len(frame)
    left_out = f" ({total - n} of the {total} runs have no {label} and are left out)" if n < total else ""
    empty = pd.DataFrame(columns=["setting", "value", "feature", "correlation", "importance"])
    if n < min_runs:
        return Importance(metric, n, f"Only {n} run{'s' if n != 1 else ''} with a {label}{left_out}: at least "
                          f"{min_runs} are needed to say which settings mattered.", empty)
    varying = [s for s in wanted if usable[s].astype(object).where(usable[s].notna(), None).map(repr).nunique() > 1]
    constant = [s for s in wanted if s not in varying]
    if not varying:
        return Importance(metric, n, f"These {n} runs{left_out} all have the same settings, so none can be said to "
                          f"matter: vary a setting (a sweep) to rate it.", empty, constant)
    x, labels = _features(usable, varying)
    y = usable[metric].astype(float).to_numpy()
    if np.ptp(y) == 0:
        return Importance(metric, n, f"The {label} is {y[0]:g} in all {n} runs{left_out}, so no setting can be said "
                          f"to have changed it.", empty, constant)
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=FOREST_TREES, random_state=FOREST_SEED, n_jobs=1).fit(x, y)
    table = pd.DataFrame({
        "setting": [s for s, _ in labels], "value": [v for _, v in labels],
        "feature": [f"{s} = {v}" if v else s for s, v in labels],
        "correlation": [_spearman(x[:, i], y) for i in range(x.shape[1])],
        "importance": forest.feature_importances_,
    }).sort_values("importance", ascending=False, ignore_index=True)
    few = " That is few: read the numbers as hints." if n < 20 else ""
    same = f" {', '.join(constant)} never vary among them, so they are not rated." if constant else ""
    sentence = (f"Rests on {n} runs{left_out}: Spearman's correlation with the {label} and a random forest's "
                f"importance ({FOREST_TREES} trees), categorical settings one-hot (a row per value).{few}{same}")
    return Importance(metric, n, sentence, table, constant)
