"""What a sweep found, in words: its finished runs grouped by their settings (seeds together) and the best
setting with how much the seed alone moves it. The Sweeps page and ``python -m nnplay sweep`` both say it.
What does not live here: running the sweep (``live``), the runs table of the page (``nnplay.ui.sweep_builder``).
"""

from __future__ import annotations

import math

from .plan import SETTINGS, format_setting


def by_setting(entries) -> list[dict]:
    """The finished runs grouped by their settings (seeds together), best mean test accuracy first (of equal
    means, the narrower spread over seeds): the settings, how many seeds finished, the mean, lowest and highest
    test accuracy (in %) over them."""
    groups: dict[tuple, dict] = {}
    for settings, _seed, run, _early in entries:
        if run is None or run.status != "finished" or not run.history.epochs:
            continue
        accuracy = run.history.epochs[-1].test_accuracy
        if not math.isfinite(accuracy):
            continue
        key = tuple(sorted((k, format_setting(v)) for k, v in settings.items()))
        group = groups.setdefault(key, {"settings": settings, "values": []})
        group["values"].append(100 * accuracy)
    rows = []
    for group in groups.values():
        values = group["values"]
        row = {SETTINGS[k].label if k in SETTINGS else k: format_setting(v) for k, v in group["settings"].items()}
        row.update({"seeds": len(values), "mean test accuracy %": round(sum(values) / len(values), 2),
                    "lowest %": round(min(values), 2), "highest %": round(max(values), 2)})
        rows.append(row)
    # equal means: the setting its seeds agree on more first, then the sweep's order
    return sorted(rows, key=lambda r: (-r["mean test accuracy %"], r["highest %"] - r["lowest %"]))


def best_sentence(rows: list[dict], markdown: bool = True) -> str | None:
    """ "Best so far: Learning rate 0.01, Batch size 64: 93.1% test accuracy (mean of 3 seeds; the seed alone moves
    it from 92.5% to 93.6%)." from ``by_setting``'s rows; None before a run has finished.
    ``markdown``: the settings in bold (the page), or plain text (the command line)."""
    if not rows:
        return None
    best = rows[0]
    names = ", ".join(f"{k} {v}" for k, v in best.items() if k not in ("seeds", "mean test accuracy %", "lowest %",
                                                                        "highest %"))
    mean = best["mean test accuracy %"]
    if best["seeds"] == 1:
        spread = "one seed: train more seeds per setting to see how much the seed alone moves it"
    else:
        spread = (f"mean of {best['seeds']} seeds; the seed alone moves it from {best['lowest %']:.2f}% to "
                  f"{best['highest %']:.2f}%")
    bold = "**" if markdown else ""
    return f"Best so far: {bold}{names or 'the base settings'}{bold}: {mean:.2f}% test accuracy ({spread})."
