"""The models of ended runs in memory, and handing freed memory back to the system.

``MODELS`` is a bounded LRU cache (``NNPLAY_MODEL_CACHE_MB``, default 128) of the models of runs that ended:
a run's model leaves the run when it ends and is read through here, reloaded from its checkpoint when it
was dropped. ``trim_heap_soon`` hands the heap a run's end freed back to the system (glibc's malloc_trim).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from torch import nn

from .. import settings
from ..memory import MALLOC_TRIM


class ModelCache:
    """The models of ended runs, at most ``max_bytes`` of weights (the most recently used one is kept even when
    larger), least recently used dropped first; a dropped model is loaded again from its run's checkpoint."""

    def __init__(self, max_bytes: int | None = None):  # None: NNPLAY_MODEL_CACHE_MB, read when a model is put
        self.max_bytes = max_bytes
        self._models: OrderedDict[str, tuple[nn.Module, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def size_of(model: nn.Module) -> int:
        return sum(t.numel() * t.element_size() for t in model.state_dict().values())

    def put(self, run_id: str, model: nn.Module) -> None:
        with self._lock:
            self._models[run_id] = (model, self.size_of(model))
            self._models.move_to_end(run_id)
            limit = self.max_bytes if self.max_bytes is not None else settings.value("NNPLAY_MODEL_CACHE_MB") * 2**20
            while len(self._models) > 1 and self.bytes > limit:
                self._models.popitem(last=False)

    def get(self, run_id: str) -> nn.Module | None:
        with self._lock:
            entry = self._models.get(run_id)
            if entry is None:
                return None
            self._models.move_to_end(run_id)
            return entry[0]

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self._models.values())

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._models.pop(run_id, None)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __len__(self) -> int:
        return len(self._models)


MODELS = ModelCache()


_MALLOC_TRIM = MALLOC_TRIM  # glibc's malloc_trim, or None (nnplay.memory)
TRIM_DELAY_S = 1.0


def trim_heap_soon(delay: float = TRIM_DELAY_S) -> bool:
    """Hand the memory a run's end freed back to the system, ``delay`` s from now (once the threads that
    delivered its last events have let go of them); False where the C library cannot.

    Why: a big run's model and checkpoints pass through this process in pieces under glibc's mmap threshold,
    and the heap keeps the freed pages, so the process would stay near its peak (scripts/bench_store.py
    --memory measures it)."""
    if _MALLOC_TRIM is None:
        return False
    timer = threading.Timer(delay, _MALLOC_TRIM, args=(0,))
    timer.daemon = True
    timer.start()
    return True
