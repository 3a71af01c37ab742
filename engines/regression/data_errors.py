"""Naming the first bad cell of a CSV column: file, line, column and what is wrong with it.

pandas says *that* a column holds something that is not a number, not *where* (and a value out
of range or a refused gap is found after parsing, by position among data rows, not by line). This
reads the file again with the ``csv`` module, which counts physical lines (quoted fields that
span lines included), and applies the same checks cell by cell. It runs only when reading failed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from engines.regression.data_file import open_data_file
from engines.regression.limits import MAX_ROWS, VALUE_LIMIT

DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _cell_problem(cell: str, gaps: str, gap_count: int) -> str | None:
    text = cell.strip()
    if not text:
        if gaps != "refuse":
            return None
        return f"empty cell ({gap_count:,} in the column); --gaps refuse stops at gaps"
    try:
        value = float(text)
    except ValueError:
        if DECIMAL_COMMA.fullmatch(text):
            return f"{text!r} is not a number (a decimal comma? write {text.replace(',', '.')})"
        return f"{text!r} is not a number"
    if not math.isfinite(value):
        return f"value is {text!r}; expected a finite number"
    if abs(value) > VALUE_LIMIT:
        return (
            f"{text} is out of range: values must lie within ±{VALUE_LIMIT:.0e}"
            f" (so that squared errors stay finite)"
        )
    return None


def describe_problem(
    path: Path,
    column: str,
    sep: str,
    idx: int,
    parser_message: str = "",
    gaps: str = "hold",
    gap_count: int = 0,
) -> str:
    """One line naming the first cell of column ``idx`` that reading refuses."""
    _, stream = open_data_file(path)
    with stream, io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=sep)
        try:
            next(reader, None)
            for count, row in enumerate(reader):
                if count > MAX_ROWS:
                    break
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line, as pandas skips it
                problem = _cell_problem(row[idx] if idx < len(row) else "", gaps, gap_count)
                if problem:
                    return f"{path}: line {reader.line_num}, column {column!r}: {problem}"
        except (csv.Error, UnicodeDecodeError) as exc:
            return f"{path}: malformed CSV near line {reader.line_num} ({exc})"
    detail = f": {parser_message}" if parser_message else ""
    return f"{path}: column {column!r} could not be read as numbers{detail}"
