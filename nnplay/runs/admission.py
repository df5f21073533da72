"""Admission: whether runs about to start fit in memory beside the runs this process has already admitted.

``refusal_for(configs)`` takes the runs about to start, one or many (a Start on the Train page, a study's
runs, a sweep, the learning-rate range test), each a ``Run`` or a ``(ModelConfig, TrainConfig)`` pair, and
returns None when they fit in the memory available on their device, else one sentence that refuses them and
names what holds the memory; given the learner's ``workspace``, class mode's limits are checked first.
What they fit beside: the memory measured free now (``models.available_memory``:
runs that train hold theirs, so the measurement counts them) less what this process's runs of any workspace
that are queued or starting will take (``admitted_runs``: promised, not yet held). Every run of the list
counts; of the runs queued before it, only as many as train at once (``at_once``: the workers of the local pool
or the Ray cluster, the largest first; all of them in this process's threads, which train every run at once):
the rest wait for a worker, so a queued sweep of 100 runs does not refuse a Start beside it.
The estimate and the one-run sentence live in ``models`` (``estimate_memory``, ``memory_refusal``).
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import models
from ..classroom.limits import limit_refusal
from ..config import ConfigError, ModelConfig, TrainConfig
from ..engine import pick_device
from ..models import describe, estimate_memory, format_bytes
from ..names import plain_name
from .registry import REGISTRY, registry_lock
from .run import Run


def admitted_runs(device, exclude: Iterable[str] | str | None = None) -> list[Run]:
    """This process's runs (any workspace) whose memory on ``device``'s kind is promised but not yet taken: queued,
    or started without a step. A run that has trained a step holds its memory, so the measurement counts it.
    ``exclude``: run ids not counted (the run a Start replaces, the runs being admitted)."""
    left_out = {exclude} if isinstance(exclude, str) else set(exclude or ())
    with registry_lock:
        runs = [r for r in REGISTRY.values() if r.owned and r.active and not r.has_steps and r.id not in left_out]
    kept = []
    for run in runs:
        try:
            if pick_device(run.train_cfg.device).type == device.type:
                kept.append(run)
        except ConfigError:
            pass
    return kept


def at_once(runs: list[Run]) -> list[Run]:
    """Of ``runs`` (queued or starting), those whose memory is promised at once: as many as the backend trains side by
    side (the largest first), every one in this process's threads."""
    from ..jobs import threads_enabled
    from ..sweeps.estimate import worker_count  # the workers the Sweeps page's estimate and admission count too

    if threads_enabled() or len(runs) <= 1:
        return runs
    size = {r.id: estimate_memory(r.model_cfg, r.train_cfg).total for r in runs}
    return sorted(runs, key=lambda r: size[r.id], reverse=True)[:max(1, worker_count())]


def held_by(runs: list[Run]) -> str:
    """ "the run already queued or starting (run 3 · …)", "the 4 runs already queued or starting (a, b and 2
    more)"; "" for none."""
    if not runs:
        return ""
    names = ", ".join(plain_name(r.name, 60) for r in runs[:2])
    if len(runs) > 2:
        names += f" and {len(runs) - 2} more"
    return f"{'the run' if len(runs) == 1 else f'the {len(runs)} runs'} already queued or starting ({names})"


def _pair(item) -> tuple[ModelConfig, TrainConfig]:
    if isinstance(item, Run):
        return item.model_cfg, item.train_cfg
    model_cfg, train_cfg = item
    return model_cfg, train_cfg


def refusal_for(configs: Iterable, memory_limit: tuple[int | None, str] | None = None,
                replacing: str | None = None, workspace: str | None = None, store=None) -> str | None:
    """None when the runs ``configs`` (each a ``Run`` or a ``(ModelConfig, TrainConfig)`` pair) fit in memory
    together beside the runs already queued or starting here, else the sentence that refuses them.

    ``memory_limit`` (bytes, what they are) replaces the measured memory (a test's machine); ``replacing``: the id
    of a run that is stopped before these start (not counted). A device this machine lacks is refused too.
    ``workspace`` (with its ``store``): in class mode, the learner's limits come first (``classroom.limits``).
    """
    items = list(configs)
    ids = {item.id for item in items if isinstance(item, Run)}
    if replacing is not None:
        ids.add(replacing)
    if workspace is not None:
        limited = limit_refusal(store, workspace, [_pair(item) for item in items], leave_out=ids)
        if limited:
            return limited[1]
    groups: dict[str, tuple] = {}  # device type → (device, the pairs that train there)
    for item in items:
        model_cfg, train_cfg = _pair(item)
        try:
            device = pick_device(train_cfg.device)
        except ConfigError as err:
            return str(err)[:1].upper() + str(err)[1:]
        groups.setdefault(device.type, (device, []))[1].append((model_cfg, train_cfg))
    for device, pairs in groups.values():
        before = at_once(admitted_runs(device, exclude=ids))
        reserved = sum(estimate_memory(r.model_cfg, r.train_cfg).total for r in before)
        if len(pairs) == 1:
            sentence = models.memory_refusal(*pairs[0], device, memory_limit, reserved, held_by(before))
        else:
            sentence = _many_refusal(pairs, device, memory_limit, reserved, before)
        if sentence:
            return sentence
    return None


def _many_refusal(pairs: list[tuple[ModelConfig, TrainConfig]], device, memory_limit, reserved: int,
                  before: list[Run]) -> str | None:
    """``memory_refusal`` for several runs that start together: their sum, with the largest named."""
    available, what = memory_limit if memory_limit is not None else models.available_memory(device)
    estimates = [(estimate_memory(m, t), m) for m, t in pairs]
    total = sum(e.total for e, _ in estimates)
    if available is None or total + reserved <= available:
        return None
    largest, largest_model = max(estimates, key=lambda pair: pair[0].total)
    needs = (f"These {len(pairs)} runs need about {format_bytes(total)} together to train (the largest, "
             f"{describe(largest_model)}, about {format_bytes(largest.total)}: {largest.breakdown()})")
    fixes = "start fewer runs, or use fewer or narrower layers (or channels), or a smaller batch."
    if reserved and total <= available:  # they would fit alone: the runs before them hold the rest
        one = len(before) == 1
        return (f"{needs}, but of the {format_bytes(available)} of {what}, {format_bytes(reserved)} is held for "
                f"{held_by(before)}, which leaves {format_bytes(max(available - reserved, 0))}. Wait until "
                f"{'it has' if one else 'they have'} ended (or stop {'it' if one else 'them'}), or {fixes}")
    return f"{needs}, more than the {format_bytes(available)} of {what}; {fixes}"

