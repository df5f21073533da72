"""The held-back test half (Kaggle's private leaderboard): in class mode the test set is split in two, a visible
half that training evaluates on and the pages show, and a hidden half only the leaderboard scores.

The split pairs the test images (0 and 1, 2 and 3, …) and a seeded coin picks which of each pair is hidden
(``hidden_mask``): exactly half of an even count, the same on every machine, and the first N images' split is
the first N of the whole set's, so a quick run on the first 1,000 test images evaluates on the visible ones
among them. ``visible_part``/``hidden_part`` cut an ``MnistData``; ``learner_part`` is what every learner-facing
page shows and scores on (the visible half in class mode, the whole test set outside it; ``ui.data.learner_mnist``
keeps it per process); ``score_hidden(run)`` scores an ended run's final model on the hidden half of its whole data
set and keeps the figure in the run's folder (``HIDDEN_FILE``); ``hidden_accuracy(run)`` reads it back (scoring
it first when it was never kept). What does not live here: training (``jobs.run_loop`` asks for ``visible_part`` through
``JobSpec.visible_test_only``), the leaderboard (the class page).
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..data import MnistData

log = logging.getLogger(__name__)

SPLIT_SEED = 26  # the split's seed: fixed, so every run of every learner is scored on the same hidden images
HIDDEN_FILE = "hidden.json"  # in the run's folder: {"hidden_accuracy": …, "hidden_images": …}
_BLOCK = 1 << 16  # coins are drawn for this many pairs at a time: the split of N images is a prefix of any longer one


def hidden_mask(n: int, seed: int = SPLIT_SEED) -> np.ndarray:
    """(n,) bool: True for the test images of the hidden half. One of each pair (2k, 2k+1), by a seeded coin."""
    pairs = (n + 1) // 2
    blocks = -(-pairs // _BLOCK)
    coins = np.concatenate([np.random.default_rng([seed, b]).random(_BLOCK) < 0.5 for b in range(blocks)]) \
        if blocks else np.zeros(0, bool)
    mask = np.zeros(2 * pairs, bool)
    mask[0::2] = coins[:pairs]
    mask[1::2] = ~coins[:pairs]
    return mask[:n]


def _part(data: MnistData, hidden: bool) -> MnistData:
    keep = hidden_mask(len(data.test_labels)) == hidden
    index = torch.from_numpy(np.flatnonzero(keep))
    return MnistData(data.train_images, data.train_labels, data.test_images[index], data.test_labels[index],
                     data.classes, data.dataset, data.source, data.notice)


def visible_part(data: MnistData) -> MnistData:
    """The data with the visible half of its test images only (the training images as they are)."""
    return _part(data, hidden=False)


def hidden_part(data: MnistData) -> MnistData:
    """The data with the hidden half of its test images only."""
    return _part(data, hidden=True)


def learner_part(data: MnistData) -> MnistData:
    """The data as a learner's pages may use it: in class mode (``teacher.class_mode``) the visible half of its
    test images only, so no page shows or scores a held-back image; outside class mode ``data`` itself."""
    from .teacher import class_mode

    return visible_part(data) if class_mode() else data


def score_hidden(run, data: MnistData | None = None) -> float | None:
    """Score an ended run's model on the hidden half of its data set's whole test set; keep and return it.
    None when the run has no usable model or no store to keep it in. ``data``: that data set, already loaded."""
    from ..config import DataConfig
    from ..data import load_mnist

    model = run.model if run.usable else None
    if model is None or run.store is None:
        return None
    if data is None:
        data = load_mnist(DataConfig(dataset=run.data_cfg.dataset, data_dir=run.data_cfg.data_dir, download=False))
    from ..engine import evaluate

    hidden = hidden_part(data)
    score = evaluate(model, hidden.test_images, hidden.test_labels).accuracy
    folder = run.store.run_dir(run.id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (HIDDEN_FILE + ".tmp")
        tmp.write_text(json.dumps({"hidden_accuracy": score, "hidden_images": len(hidden.test_labels)}))
        tmp.replace(folder / HIDDEN_FILE)
    except OSError as err:
        log.warning("the hidden score of run %s could not be kept: %s", run.id, err)
    return score


def kept_hidden_accuracy(store, run_id: str) -> float | None:
    """The hidden score kept in the run's folder, or None when there is none."""
    try:
        return float(json.loads((store.run_dir(run_id) / HIDDEN_FILE).read_text())["hidden_accuracy"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def hidden_accuracy(run) -> float | None:
    """The run's hidden score: the kept one, else scored now (an ended run whose score was never kept)."""
    if run.store is None:
        return None
    kept = kept_hidden_accuracy(run.store, run.id)
    if kept is not None or run.active:
        return kept
    return score_hidden(run)


_scorer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnplay-hidden-score")
_pending: dict[str, object] = {}
_pending_lock = threading.Lock()


def score_soon(run):
    """Score the run's hidden half in the background (one at a time: the queue's workers are not slowed by more);
    the future, so a test can wait for it."""
    def job():
        try:
            return score_hidden(run)
        except Exception:  # noqa: BLE001 - a score that cannot be made leaves the leaderboard to try again
            log.exception("the hidden score of run %s failed", run.id)
            return None
        finally:
            with _pending_lock:
                _pending.pop(run.id, None)

    with _pending_lock:
        future = _pending.get(run.id)
        if future is None:
            future = _pending[run.id] = _scorer.submit(job)
    return future
