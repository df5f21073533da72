"""A process's memory: handing freed heap back to the system, and reading what a process takes from /proc.

``trim_heap`` calls glibc's ``malloc_trim`` (``MALLOC_TRIM``; None where the C library has none: macOS, musl,
Windows): the app's runs (``runs.cache.trim_heap_soon``) and a pool worker after each run (``jobs.run_loop``)
call it. ``process_memory_mb`` reads a process's resident (RSS), proportional (PSS) and private (USS) memory,
the figures ``scripts/bench_class.py`` checks (and ``scripts/bench_store.py`` the RSS of), and ``peak_rss_mb`` a
process's peak (``scripts/bench_load.py``); ``held_together_mb`` the pages several processes hold, each page
once. Standard library only (numpy inside ``held_together_mb``): every process imports it cheaply.
"""

from __future__ import annotations

import sys


def _glibc_malloc_trim():
    """glibc's ``malloc_trim`` through ctypes (no maintained package wraps this one call); None elsewhere."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = _glibc_malloc_trim()


def trim_heap() -> bool:
    """Hand the heap's free pages back to the system now; False where the C library cannot.

    Why: glibc keeps freed pieces under its mmap threshold (a run's batches, a model's layers) in the heap, so a
    process that trained or read a model would stay near its peak."""
    if MALLOC_TRIM is None:
        return False
    MALLOC_TRIM(0)
    return True


def process_memory_mb(pid: int) -> dict[str, float]:
    """A process's memory in MB from Linux's ``/proc/PID/smaps_rollup``; zeros when it is gone (or not Linux).

    ``rss``: every page it maps, those it shares (torch's libraries, the page cache) counted in full, so a sum
    over processes counts them once per process; ``pss``: each shared page divided among the processes that map
    it, so a sum over processes is what they take together; ``uss``: its private pages, what its exit frees."""
    fields = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in fields:
                    fields[name] = int(value.split()[0])  # kB
    except (OSError, ValueError, IndexError):
        return {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    return {"rss": fields["Rss"] / 1024, "pss": fields["Pss"] / 1024,
            "uss": (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024}


def peak_rss_mb(pid: int | None = None) -> float | None:
    """The peak resident memory (VmHWM) of a process in MB; this process's when ``pid`` is None; None when gone."""
    if pid is None:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def held_together_mb(pids: list[int]) -> float | None:
    """The memory ``pids`` hold together in MB, each physical page counted once however many of them map it (the
    page frame numbers of ``/proc/PID/pagemap``); None where they cannot be read (not root, not Linux).

    Why beside a PSS sum: PSS divides a shared page among every process that maps it, other programs' too (another
    server's processes using the same torch), so on a shared machine a PSS sum comes out below what these hold."""
    import numpy as np

    frames = []
    try:
        for pid in pids:
            with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
                for line in maps:
                    start, end = (int(x, 16) for x in line.split()[0].split("-"))
                    if start >= 1 << 47:  # [vsyscall]: not in the page map
                        continue
                    pagemap.seek(start // 4096 * 8)
                    entries = np.frombuffer(pagemap.read((end - start) // 4096 * 8), dtype=np.uint64)
                    present = entries[(entries >> np.uint64(63)) == 1]
                    frames.append(present & np.uint64((1 << 55) - 1))
    except (OSError, ValueError):
        return None
    frames = np.concatenate(frames) if frames else np.zeros(0, np.uint64)
    if frames.size and not frames.any():  # page frame numbers read as 0 without CAP_SYS_ADMIN
        return None
    return len(np.unique(frames)) * 4096 / 2**20
