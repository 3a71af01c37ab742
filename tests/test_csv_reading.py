"""Reading real CSV files: gaps, separators, compression, a BOM, files that are not files, values
too large to square, and the limits on what is read. Files are made from a real PeMS week."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import engines.regression.data as data_module
import engines.regression.data_file as data_file
from engines.base import EngineError
from engines.regression.data import read_series, read_stream
from tests.conftest import RAW_PEMS_WEEK

FLOW = "Flow (Veh/5 Minutes)"
FLOW_INDEX = 8  # the station's total flow, after the lane columns
BLANK_LINES = (11, 12, 501)  # file line numbers (the header is line 1)


def _lines() -> list[str]:
    return RAW_PEMS_WEEK.read_text().splitlines()


def _with_cells(tmp_path: Path, name: str, cells: dict[int, str]) -> Path:
    """The raw PeMS week with the flow cell of some lines replaced."""
    lines = _lines()
    for line_no, cell in cells.items():
        row = lines[line_no - 1].split(",")
        row[FLOW_INDEX] = cell
        lines[line_no - 1] = ",".join(row)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _expected() -> np.ndarray:
    return read_series(RAW_PEMS_WEEK, FLOW)


def test_blank_cells_hold_the_previous_value_by_default_and_are_counted(tmp_path: Path) -> None:
    path = _with_cells(tmp_path, "gaps.csv", {n: "" for n in BLANK_LINES})
    values, report = read_stream(path, FLOW)
    expected = _expected().copy()
    for line_no in BLANK_LINES:  # data row = line - 2; held = the value before it
        expected[line_no - 2] = expected[line_no - 3]
    assert len(values) == 2015 and values.tolist() == expected.tolist()
    assert report.to_dict() == {
        "rows": 2015,
        "gaps": 3,
        "gap_policy": "hold",
        "held": 3,
        "skipped": 0,
    }


def test_skip_drops_gaps_and_refuse_names_the_first_one(tmp_path: Path) -> None:
    path = _with_cells(tmp_path, "gaps.csv", {n: "" for n in BLANK_LINES})
    values, report = read_stream(path, FLOW, gaps="skip")
    assert len(values) == 2012 and (report.gaps, report.skipped) == (3, 3)
    with pytest.raises(EngineError) as info:
        read_stream(path, FLOW, gaps="refuse")
    assert str(info.value).startswith(f"{path}: line 11, column {FLOW!r}: empty cell (3 in")


def test_gaps_before_the_first_value_have_nothing_to_hold(tmp_path: Path) -> None:
    path = tmp_path / "lead.csv"
    path.write_text("time,flow\n0,\n1,\n2,5\n3,\n4,7\n5,8\n6,9\n7,10\n")
    values, report = read_stream(path, "flow")
    assert values.tolist() == [5.0, 5.0, 7.0, 8.0, 9.0, 10.0]
    assert (report.rows, report.gaps, report.held, report.skipped) == (8, 3, 1, 2)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_are_sniffed_from_the_header(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "week.csv"
    path.write_text("\n".join(sep.join(line.split(",")) for line in _lines()) + "\n")
    assert read_series(path, FLOW).tolist() == _expected().tolist()


def _compress(kind: str, data: bytes, path: Path) -> None:
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("week3.csv", data)
    else:
        compress = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind]
        path.write_bytes(compress(data))


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
def test_compressed_files_are_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"week3.csv.{kind}"
    _compress(kind, RAW_PEMS_WEEK.read_bytes(), path)
    assert read_series(path, FLOW).tolist() == _expected().tolist()


def test_a_bad_value_in_a_compressed_file_is_named_by_line(tmp_path: Path) -> None:
    source = _with_cells(tmp_path, "bad.csv", {40: "n/a"})
    path = tmp_path / "bad.csv.gz"
    _compress("gz", source.read_bytes(), path)
    expected = f"bad.csv.gz: line 40, column '{FLOW}': 'n/a' is not a number"
    with pytest.raises(EngineError, match=re.escape(expected)):
        read_series(path, FLOW)


def test_a_utf8_bom_and_crlf_line_ends_are_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + RAW_PEMS_WEEK.read_bytes().replace(b"\n", b"\r\n"))
    assert read_series(path, FLOW).tolist() == _expected().tolist()


@pytest.mark.parametrize("cell", ["1e300", "1.7e308", "-1e101", "inf"])
def test_values_too_large_to_square_are_refused_at_read_time(tmp_path: Path, cell: str) -> None:
    path = _with_cells(tmp_path, "huge.csv", {7: cell})
    with pytest.raises(EngineError) as info:
        read_series(path, FLOW)
    message = str(info.value)
    assert message.startswith(f"{path}: line 7, column {FLOW!r}: ")
    assert "1e+100" in message or "finite" in message
    assert "\n" not in message


def test_the_largest_allowed_value_is_read(tmp_path: Path) -> None:
    path = _with_cells(tmp_path, "edge.csv", {7: "-1e100"})
    assert read_series(path, FLOW)[5] == -1e100


def test_a_decimal_comma_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("zeit;flow\n1;12,5\n2;13\n")
    with pytest.raises(EngineError, match=r"line 2, column 'flow': '12,5' is not a number.*12\.5"):
        read_series(path, "flow")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (os.mkfifo(d / "pipe.csv"), d / "pipe.csv")[1], "is a named pipe (FIFO)"),
        (lambda d: Path("/dev/zero"), "is a character device"),
        (lambda d: d, "is a directory"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_without_opening_it(
    tmp_path: Path, make, message: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(EngineError) as info:
        read_series(path, "flow")
    assert str(info.value).startswith(f"{path}: {message}")


def test_the_row_limit_stops_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module, "MAX_ROWS", 1000)
    with pytest.raises(EngineError, match="more than 1,000 rows; harmone reads at most 1,000"):
        read_series(RAW_PEMS_WEEK, FLOW)


def test_the_byte_limit_stops_a_decompression_bomb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"flow\n" + b"1\n" * 2_000_000))  # 4 MB in ~4 KB
    monkeypatch.setattr(data_file, "MAX_BYTES", 1 << 20)
    with pytest.raises(EngineError, match="bomb.csv.gz: more than 1,048,576 bytes of CSV text"):
        read_series(path, "flow")


def test_a_binary_file_is_not_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "model.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(EngineError, match="model.csv: not a text CSV file"):
        read_series(path, "flow")
