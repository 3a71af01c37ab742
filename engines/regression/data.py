"""Reading a univariate stream from CSV, with one clear message per kind of bad input."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from engines.base import EngineError

DEFAULT_COLUMN = "flow"


def read_series(path: Path, column: str = DEFAULT_COLUMN, min_rows: int = 6) -> np.ndarray:
    """Read one numeric column of a CSV file as a float array.

    Raises :class:`EngineError` naming the file (and the row, for bad values) when the file is
    missing, empty, lacks the column, holds a non-numeric or NaN value, or is shorter than
    ``min_rows``. Row numbers are the file's line numbers (the header is line 1).
    """
    path = Path(path)
    if not path.exists():
        raise EngineError(f"{path}: file not found")
    if path.is_dir():
        raise EngineError(f"{path}: is a directory, expected a CSV file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or not any(h.strip() for h in header):
                raise EngineError(f"{path}: the file is empty (expected a header with a '{column}' column)")
            names = [h.strip() for h in header]
            if column not in names:
                shown = ", ".join(repr(n) for n in names[:12] if n)
                raise EngineError(
                    f"{path}: no column {column!r} (columns: {shown}); pick one with --column NAME"
                )
            idx = names.index(column)
            values: list[float] = []
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                cell = row[idx].strip() if idx < len(row) else ""
                try:
                    value = float(cell)
                except ValueError:
                    raise EngineError(
                        f"{path}: row {line_no}, column {column!r}: {cell!r} is not a number"
                    ) from None
                if math.isnan(value) or math.isinf(value):
                    raise EngineError(f"{path}: row {line_no}, column {column!r}: value is {cell!r}")
                values.append(value)
    except UnicodeDecodeError:
        raise EngineError(f"{path}: not a text CSV file (cannot decode as UTF-8)") from None
    except csv.Error as exc:
        raise EngineError(f"{path}: malformed CSV ({exc})") from None
    if len(values) < min_rows:
        raise EngineError(
            f"{path}: only {len(values)} rows in column {column!r}; need at least {min_rows}"
            f" (the model window plus one value to predict)"
        )
    return np.asarray(values, dtype=float)
