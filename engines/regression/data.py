"""Reading a univariate stream from a CSV file, with one clear message per kind of bad input.

pandas' C parser reads only the wanted column, straight to float64 (a million rows in about
0.2 s). The separator is sniffed from the header (``,`` ``;`` tab ``|``); compressed files and a
UTF-8 BOM are handled; empty cells are *gaps*, handled by a stated policy (:data:`GAP_POLICIES`).
When pandas finds something wrong, :mod:`engines.regression.data_errors` reads the file again with
the ``csv`` module to name the line and column: the error path is slower, never the normal one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import EngineError
from engines.regression.data_errors import describe_problem
from engines.regression.data_file import DECOMPRESS_ERRORS, open_data_file
from engines.regression.limits import MAX_ROWS, VALUE_LIMIT

DEFAULT_COLUMN = "flow"
GAP_POLICIES = ("hold", "skip", "refuse")
DEFAULT_GAPS = "hold"
SEPARATORS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class ReadReport:
    """What reading did: data rows read, empty cells met, and what the gap policy made of them.

    ``held`` gaps took the previous value (the time axis keeps its length); ``skipped`` rows
    were left out (with ``hold``, only gaps before the first value, which have nothing to hold).
    """

    rows: int
    gaps: int
    gap_policy: str
    held: int
    skipped: int

    def note(self, path: Path, column: str) -> str | None:
        """One line for the user when there were gaps (None when there were none)."""
        if not self.gaps:
            return None
        done = {
            "hold": f"{self.held:,} held at the previous value",
            "skip": "skipped",
            "refuse": "refused",
        }[self.gap_policy]
        if self.gap_policy == "hold" and self.skipped:
            done += f", {self.skipped:,} leading ones skipped"
        return (
            f"{path}: {self.gaps:,} empty cells in column {column!r} of {self.rows:,} rows"
            f" ({done}; --gaps sets this)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "gaps": self.gaps,
            "gap_policy": self.gap_policy,
            "held": self.held,
            "skipped": self.skipped,
        }


def sniff_separator(header: str) -> str:
    """The separator that splits the header line most often (outside quotes); ``,`` if none.

    >>> sniff_separator("a;b;c"), sniff_separator("time\\tflow"), sniff_separator("flow")
    (';', '\\t', ',')
    """
    outside, quoted = [], False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    text = "".join(outside)
    counts = {sep: text.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _header(path: Path, first: bytes, column: str) -> tuple[str, int]:
    """The separator and the index of ``column``, from the file's first line."""
    if b"\x00" in first:
        raise EngineError(f"{path}: not a text CSV file (it holds NUL bytes)")
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise EngineError(f"{path}: not a text CSV file (cannot decode as UTF-8)") from None
    if not line.strip():
        raise EngineError(f"{path}: the file is empty (expected a header with a '{column}' column)")
    sep = sniff_separator(line)
    names = [name.strip() for name in next(csv.reader([line], delimiter=sep))]
    if column not in names:
        shown = ", ".join(repr(n[:40]) for n in names[:12] if n)
        raise EngineError(
            f"{path}: no column {column!r} (columns: {shown}); pick one with --column NAME"
        )
    return sep, names.index(column)


def _parse(path: Path, column: str) -> tuple[np.ndarray, str, int]:
    """The column as float64 (NaN for empty cells), the separator and the column's index."""
    import pandas as pd

    first, stream = open_data_file(path)
    with stream:
        sep, idx = _header(path, first, column)
        try:
            frame = pd.read_csv(
                stream,
                sep=sep,
                header=0,
                usecols=[idx],
                dtype="float64",
                engine="c",
                encoding="utf-8",
                keep_default_na=False,
                na_values=[""],
                nrows=MAX_ROWS + 1,
            )
        except (ValueError, pd.errors.ParserError) as exc:
            if isinstance(exc, UnicodeDecodeError):
                raise EngineError(f"{path}: not a text CSV file (cannot decode as UTF-8)") from None
            raise EngineError(describe_problem(path, column, sep, idx, str(exc))) from None
        except DECOMPRESS_ERRORS as exc:
            raise EngineError(f"{path}: cannot read ({exc})") from None
    values = frame.iloc[:, 0].to_numpy(dtype=float)
    if len(values) > MAX_ROWS:
        raise EngineError(
            f"{path}: more than {MAX_ROWS:,} rows; harmone reads at most {MAX_ROWS:,}"
            f" (cut the file, e.g. with head -n)"
        )
    return values, sep, idx


def apply_gap_policy(values: np.ndarray, policy: str) -> tuple[np.ndarray, int, int]:
    """``values`` with its NaN gaps held or skipped; also how many were held and skipped.

    >>> v, held, skipped = apply_gap_policy(np.array([np.nan, 1.0, np.nan, 3.0]), "hold")
    >>> v.tolist(), held, skipped
    ([1.0, 1.0, 3.0], 1, 1)
    >>> apply_gap_policy(np.array([1.0, np.nan, 3.0]), "skip")[0].tolist()
    [1.0, 3.0]
    """
    gap = np.isnan(values)
    if not gap.any():
        return values, 0, 0
    if policy == "skip":
        return values[~gap], 0, int(gap.sum())
    known = np.flatnonzero(~gap)
    if known.size == 0:
        return values[:0], 0, int(gap.size)
    last = np.maximum.accumulate(np.where(gap, 0, np.arange(values.size)))
    held = values[last][known[0] :]
    return held, int(gap[known[0] :].sum()), int(known[0])


def read_stream(
    path: Path, column: str = DEFAULT_COLUMN, min_rows: int = 6, gaps: str = DEFAULT_GAPS
) -> tuple[np.ndarray, ReadReport]:
    """Read one numeric column of a CSV file as a float array, and report what was done.

    Raises :class:`EngineError` naming the file (and the line and column, for a bad value) when
    the file is not a regular file, is missing, empty or too large, lacks the column, holds a
    value that is not a number or lies beyond ±:data:`VALUE_LIMIT`, holds a gap under
    ``gaps="refuse"``, or yields fewer than ``min_rows`` values.
    """
    if gaps not in GAP_POLICIES:
        raise EngineError(f"unknown gap policy {gaps!r} (known: {', '.join(GAP_POLICIES)})")
    path = Path(path)
    raw, sep, idx = _parse(path, column)
    gap_count = int(np.isnan(raw).sum())
    bad_value = not bool(np.all(np.abs(raw[~np.isnan(raw)]) <= VALUE_LIMIT))
    if bad_value or (gap_count and gaps == "refuse"):
        raise EngineError(describe_problem(path, column, sep, idx, gaps=gaps, gap_count=gap_count))
    values, held, skipped = apply_gap_policy(raw, gaps)
    if len(values) < min_rows:
        note = f", after leaving out {skipped} empty cells" if skipped else ""
        raise EngineError(
            f"{path}: only {len(values)} rows in column {column!r}{note}; need at least"
            f" {min_rows} (the model window plus one value to predict)"
        )
    return values, ReadReport(len(raw), gap_count, gaps, held, skipped)


def read_series(
    path: Path, column: str = DEFAULT_COLUMN, min_rows: int = 6, gaps: str = DEFAULT_GAPS
) -> np.ndarray:
    """:func:`read_stream` without the report."""
    return read_stream(path, column, min_rows, gaps)[0]
