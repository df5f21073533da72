"""Numbers drawn from a run's curves, below the figures and the lessons that both use them.

``smooth``: TensorBoard's scalar smoothing (an exponential moving average, debiased at the start), the
Train page's smoothed loss and the learning-rate range test's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's scalar smoothing: an exponential moving average with start-up debiasing.

    ``weight`` 0 returns the values; near 1 smooths hard. Debiasing divides by ``1 − weight**n``
    so the first points are not pulled towards 0 (a constant series stays constant).
    Non-finite values pass through without entering the average, as TensorBoard does.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1); got {weight}.")
    out: list[float] = []
    last, n = 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1.0 - weight) * v
        n += 1
        out.append(last / (1.0 - weight ** n))
    return out
