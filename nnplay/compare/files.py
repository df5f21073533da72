"""The comparison table as files: ``to_csv`` (text) and ``to_parquet`` (bytes) of any table, and
``write_table``: every run of a workspace (or of one sweep), one row each with its settings and every
summary of every metric, written atomically to a CSV or Parquet file (``python -m nnplay runs export --all``).
What does not live here: the table (``frame``), the command line's flags (``nnplay.cli``).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from .frame import DEFAULT_K, runs_frame

FORMATS = ("csv", "parquet")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists (a seed group's run ids) as text "a b c", so every cell is one value in any file."""
    listed = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, tuple))).any()]
    if not listed:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v: " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
                           for c in listed})


def to_csv(frame: pd.DataFrame) -> str:
    """The table as CSV text: a header, one line per row, an empty cell where a value is missing."""
    return _plain(frame).to_csv(index=False, lineterminator="\n")


def to_parquet(frame: pd.DataFrame) -> bytes:
    """The table as a Parquet file's bytes (pyarrow, which streamlit brings), column types kept."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise ValueError("writing Parquet needs the package pyarrow (streamlit installs it): pip install pyarrow")
    out = io.BytesIO()
    _plain(frame).to_parquet(out, index=False)
    return out.getvalue()


def write_table(store, workspace: str, path: str | Path, fmt: str, sweep: str | None = None,
                k: int = DEFAULT_K) -> int:
    """Write every run of ``workspace`` (of ``sweep`` only, when given), with every summary of every metric, to
    ``path`` as ``fmt`` ("csv" or "parquet"), atomically (a failure leaves no file); how many runs. No runs: a
    ``ValueError`` sentence and nothing written. Whether an existing file may be replaced is the caller's."""
    if fmt not in FORMATS:
        raise ValueError(f"a table is written as {' or '.join(FORMATS)}; got {fmt!r}.")
    frame = runs_frame(store, workspace, sweep, every_summary=True, k=k)
    if frame.empty:
        where = f"sweep {sweep!r} of workspace {workspace!r}" if sweep is not None else f"workspace {workspace!r}"
        raise ValueError(f"{where} has no runs, so there is nothing to export; nothing was written.")
    data = to_csv(frame).encode() if fmt == "csv" else to_parquet(frame)
    from ..export import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return len(frame)
