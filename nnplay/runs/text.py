"""What a page says about a run, once: its name, status, progress, data and what stops it before Start.

``run_name`` (told apart by the time it was started), ``status_word``/``status_text``/``queue_text``,
``progress_text`` (a queued run's place, in class mode with its expected wait; epoch, step, ETA, samples/s; the ETA and the rate count training time only and wait
until they were measured over a real interval), ``format_duration``, ``data_label`` and
``start_refusals`` (class mode's limits per learner, a batch larger than the data, a missing device, not
enough memory beside the runs already admitted: ``admission.refusal_for``).
"""

from __future__ import annotations

import time

from ..classroom.limits import class_mode, limit_refusals
from ..classroom.wait import wait_text
from ..config import ConfigError, ModelConfig, TrainConfig
from ..engine import pick_device
from ..models import describe
from ..names import format_duration  # noqa: F401 - re-exported: the pages read it from here
from ..store import SETTINGS_UNREADABLE, data_text
from .admission import refusal_for
from .run import Run


def run_name(model_cfg: ModelConfig, number: int, when: float | None = None) -> str:
    """ "run 2 · 14:02:31 · MLP 784-256-10 relu": the workspace's count (``Store.next_run_number``), the local
    time it started, the model."""
    return f"run {number} · {time.strftime('%H:%M:%S', time.localtime(when))} · {describe(model_cfg)}"



def queue_text(run: Run, with_wait: bool = False) -> str | None:
    """ "queued, position 2 of 3: all 2 workers are busy" for a run waiting in the jobs queue, else None; with
    ``with_wait`` in class mode, its expected wait too: "… · about 1 min 30 s to wait (from measured epoch times)"
    (``classroom.wait``). The wait goes in the progress line only: a live view reruns its page when the status
    changes, and the wait changes as it counts down."""
    job = run.job
    if run.status != "queued" or job is None:
        return None
    position = job.position()
    if position is None:
        return None
    wait = wait_text(run) if with_wait and class_mode() else ""
    return f"{position} · {wait}" if wait else str(position)


def status_word(run: Run) -> str:
    """The run's status in one word: "starting" for a queued run a worker has already taken (its first events
    are on their way: the sidebar, drawn as Start is pressed, would otherwise say "queued" while it trains)."""
    if run.status == "queued" and run.job is not None and run.job.position() is None:
        return "starting"
    return run.status


def status_text(run: Run) -> str:
    """The run's status as a word, "queued, position N of M: why", or "diverged at step N"."""
    if run.status == "diverged" and run.history.end is not None:
        return f"diverged at step {run.history.end.step}"
    return queue_text(run) or status_word(run)


def progress_text(run: Run) -> str:
    """ "epoch 2/10 · step 300/2,350 · ETA 1 min 05 s · 41,000 samples/s · CPU (2 threads)".

    The ETA and the rate read "…" until the steps after the first burst have been timed; the ETA
    shows only while the run is active (a paused run's ETA stands still).
    """
    if run.history.start is None:
        if not run.active:
            return run.status
        return queue_text(run, with_wait=True) or "starting: building the model and moving the data to the device…"
    p = run.progress()
    rate = f"{p['samples_per_s']:,.0f} samples/s" if p["samples_per_s"] else "… samples/s"
    parts = [f"epoch {p['epoch']}/{p['epochs']}", f"step {p['step']:,}/{p['total']:,}"]
    if run.active:
        parts.append(f"ETA {format_duration(p['eta_s'])}")
    parts += [rate, p["device"]]
    return " · ".join(parts)


TRAIN_ACCURACY_NOTE = ("Train accuracy is measured on each batch while the network is still learning during "
                       "the epoch; test accuracy after the epoch, on the network as it then is. So early on, "
                       "train accuracy trails test accuracy.")


def data_label(run: Run) -> str:
    """ "MNIST sample", "mnist", "fashion-mnist (5000/all)", "mnist + your digits": which data a run trained on."""
    if run.unreadable:
        return SETTINGS_UNREADABLE  # not the data of the defaults that stand in for them
    d = run.data_cfg
    name = data_text(d.dataset, run.data_source, d.extra_data is not None)
    return name + (f" ({d.train_limit or 'all'}/{d.test_limit or 'all'})" if d.train_limit or d.test_limit else "")


def start_refusals(model_cfg: ModelConfig, train_cfg: TrainConfig, train_size: int | None,
                   memory_limit: tuple[int | None, str] | None = None, replacing: str | None = None,
                   workspace: str | None = None, store=None) -> dict[str, str]:
    """What stops these configs from training here, by config field: a batch larger than the training set
    (``batch_size``), a device this machine lacks (``device``), more memory than is available beside the runs
    already queued or starting in this process, from any workspace (``hidden``, or ``channels`` for a CNN).
    Empty when Start may go ahead. ``memory_limit`` replaces the measured one; ``replacing``: the id of the
    run this Start stops first (not counted). ``workspace`` (with its ``store``): in class mode, the learner's
    limits (``classroom.limits``: parameters, epochs, runs queued at once), beside the field they name."""
    refusals: dict[str, str] = {}
    if workspace is not None:
        refusals.update(limit_refusals(store, workspace, [(model_cfg, train_cfg)],
                                       leave_out=[replacing] if replacing else []))
    if train_size is not None and train_cfg.batch_size > train_size:
        refusals["batch_size"] = (f"batch size {train_cfg.batch_size:,} is larger than the training set "
                                  f"({train_size:,} images); choose at most {train_size:,}.")
    try:
        pick_device(train_cfg.device)
    except ConfigError as err:
        refusals[err.field] = str(err)
        return refusals
    memory = refusal_for([(model_cfg, train_cfg)], memory_limit, replacing)
    if memory:
        refusals["hidden" if model_cfg.family == "mlp" else "channels"] = memory
    return refusals
