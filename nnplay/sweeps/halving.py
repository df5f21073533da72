"""Early stopping of hopeless runs by successive halving, as Ray Tune's ASHA does: a pure decision.

Rungs sit at epochs 1, η, η², … (η = 3 by default). When a run finishes a rung's epoch, its metric (test
accuracy: higher is better) is compared with the same epoch's metric of every run that has reached that rung
so far, itself included; unless it is in the top 1/η of them (the top ⌈n/η⌉ values), it is stopped. As in
ASHA the decision is taken once, when the run reaches the rung, against the runs that reached it before: the
first runs there always go on. A rung at a run's own last epoch stops nothing (the run is done anyway).
What lives here: ``rungs``, ``decide`` and ``Halt`` (the decision and the sentence a stopped run keeps as
its message). What does not: where the decision runs (``nnplay.sweeps.live``: a sweep's event hook).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PREFIX = "Stopped early by successive halving"  # how a halted run's message begins (a sweep knows it by this)
DEFAULT_ETA = 3
FRACTIONS = {2: "half", 3: "third", 4: "quarter", 5: "fifth"}


def rungs(eta: int = DEFAULT_ETA, epochs: int | None = None, first: int = 1) -> list[int]:
    """The rung epochs ``first``, ``first``·η, ``first``·η², … below ``epochs`` (a run's last epoch is no rung)."""
    if eta < 2:
        raise ValueError(f"successive halving keeps the top 1/η at each rung, with η ≥ 2; got {eta}.")
    limit = epochs if epochs is not None else 10_000
    out, rung = [], first
    while rung < limit:
        out.append(rung)
        rung *= eta
    return out


@dataclass(frozen=True)
class Halt:
    """A run stopped at a rung: its metric there, the cutoff (the lowest value kept) and how many runs reached it."""

    run: str
    epoch: int
    value: float
    cutoff: float
    reached: int
    eta: int

    def sentence(self, metric: str = "test accuracy") -> str:
        """ "Stopped early by successive halving: at epoch 1 its test accuracy 61.2% was below the top third
        (≥ 84.0%) of the 6 runs that reached epoch 1." """
        top = f"the top {FRACTIONS.get(self.eta, f'1/{self.eta}')}"
        value = "not a number" if math.isnan(self.value) else f"{self.value:.1%}"
        return (f"{PREFIX}: at epoch {self.epoch} its {metric} {value} was below {top} (≥ {self.cutoff:.1%}) of "
                f"the {self.reached} runs that reached epoch {self.epoch}.")


def _score(value: float) -> float:
    return -math.inf if value is None or math.isnan(value) else value  # a diverged run ranks last


def decide(curves: Mapping[str, Sequence[float]], run: str, eta: int = DEFAULT_ETA, epochs: int | None = None,
           first: int = 1) -> Halt | None:
    """Whether ``run`` stops now. ``curves``: each run's metric after each of its finished epochs so far
    (index 0 is epoch 1), ``run``'s last one just arrived; ``epochs``: how many epochs ``run`` trains in all.
    A ``Halt`` when its latest epoch is a rung and its metric there is below the top ⌈n/η⌉ of the n runs that
    reached that epoch; else None."""
    mine = curves[run]
    epoch = len(mine)
    if epoch == 0 or epoch not in rungs(eta, epochs, first):
        return None
    reached = [_score(c[epoch - 1]) for c in curves.values() if len(c) >= epoch]
    kept = sorted(reached, reverse=True)[:math.ceil(len(reached) / eta)]
    cutoff = kept[-1]
    value = _score(mine[epoch - 1])
    if value >= cutoff:
        return None
    return Halt(run, epoch, mine[epoch - 1] if mine[epoch - 1] is not None else math.nan, cutoff, len(reached), eta)
