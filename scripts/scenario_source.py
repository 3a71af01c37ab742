"""Reading raw PeMS station weeks into one continuous pool of rows for the scenario builder.

Every position a scenario uses is computed from this pool (timestamps, lanes, `% Observed`),
never from row numbers of particular weeks, so the library can be rebuilt from other weeks.
The rows holding the models' training set are found by content and everything up to their end
is left out: a scenario never scores a model on data it was trained on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TIME = "5 Minutes"
FLOW = "Flow (Veh/5 Minutes)"
SPEED = "Speed (mph)"
OBSERVED = "% Observed"
LANE_FLOW = re.compile(r"^Lane (\d+) Flow \(Veh/5 Minutes\)$")
ROWS_PER_DAY = 288


class ScenarioError(Exception):
    """Bad input to the scenario builder; the message names the file or flag."""


@dataclass(frozen=True)
class Pool:
    """The usable rows of the given weeks, in time order (one row per 5-minute reading)."""

    stamps: tuple[str, ...]  # the timestamps as written in the source files
    time: pd.DatetimeIndex
    flow: np.ndarray
    lanes: np.ndarray  # (rows, lanes): per-lane flow, lane 1 first
    speed: np.ndarray
    observed: np.ndarray
    source: np.ndarray  # index into ``files`` of each row's week file
    files: tuple[str, ...]
    skipped_train_rows: int  # rows at the start left out (up to the end of the training set)

    def __len__(self) -> int:
        return len(self.flow)

    def midnights(self) -> np.ndarray:
        """Rows whose reading is at 00:00, where every scenario span starts."""
        return np.flatnonzero((self.time.hour == 0) & (self.time.minute == 0))

    def first_at(self, row: int, hour: int) -> int:
        """The first row at or after ``row`` whose reading is at ``hour``:00."""
        hits = np.flatnonzero((self.time.hour[row:] == hour) & (self.time.minute[row:] == 0))
        if not len(hits):
            raise ScenarioError(f"no reading at {hour:02d}:00 after {self.stamps[row]}")
        return row + int(hits[0])

    def weeks_of(self, start: int, end: int) -> list[str]:
        """Names of the week files whose rows lie in ``[start, end)``."""
        return [self.files[i] for i in sorted(set(self.source[start:end].tolist()))]


def week_files(paths: list[Path]) -> list[Path]:
    """The week files named, or every ``week*.csv`` of a directory named, in numeric order."""
    if len(paths) == 1 and paths[0].is_dir():
        found = list(paths[0].glob("week*.csv"))
        if not found:
            raise ScenarioError(f"--weeks {paths[0]}: no week*.csv files in this directory")
        return sorted(found, key=lambda p: (int(re.sub(r"\D", "", p.stem) or 0), p.name))
    for path in paths:
        if not path.is_file():
            raise ScenarioError(f"--weeks {path}: file not found")
    return list(paths)


def _read_week(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not a readable PeMS CSV ({exc})") from None
    lanes = sorted((int(m.group(1)), c) for c in frame.columns if (m := LANE_FLOW.match(c)))
    missing = [c for c in (TIME, FLOW, SPEED, OBSERVED) if c not in frame.columns]
    if missing or len(lanes) < 2:
        need = ", ".join(repr(c) for c in missing) or "at least two 'Lane N Flow' columns"
        raise ScenarioError(f"{path}: not a PeMS station export: missing {need}")
    columns = [FLOW, SPEED, OBSERVED, *(c for _, c in lanes)]
    bad = frame[columns].isna().any(axis=1) | frame[TIME].isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ScenarioError(f"{path}: row {row}: a blank cell in {', '.join(columns)}")
    out = pd.DataFrame({"stamp": frame[TIME].astype(str)})
    try:
        out["time"] = pd.to_datetime(out["stamp"], format="%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise ScenarioError(f"{path}: column {TIME!r}: {exc}") from None
    for name, column in (("flow", FLOW), ("speed", SPEED), ("observed", OBSERVED)):
        out[name] = pd.to_numeric(frame[column], errors="raise").astype(float)
    for number, column in lanes:
        out[f"lane{number}"] = frame[column].astype(float)
    return out


def _training_end(flow: np.ndarray, train: np.ndarray) -> int:
    """The row after the last training row if the training set occurs in ``flow``, else 0."""
    size = len(train)
    for start in np.flatnonzero(flow[: max(0, len(flow) - size + 1)] == train[0]):
        if np.array_equal(flow[start : start + size], train):
            return int(start) + size
    return 0


def read_pool(paths: list[Path], train: np.ndarray) -> Pool:
    """Concatenate the weeks in time order and drop the rows up to the training set's end."""
    files = week_files(paths)
    frames = []
    for index, path in enumerate(files):
        frame = _read_week(path)
        frame["source"] = index
        frames.append(frame)
    frames.sort(key=lambda f: f["time"].iloc[0] if len(f) else pd.Timestamp.max)
    data = pd.concat(frames, ignore_index=True)
    if len(data) and not data["time"].is_monotonic_increasing:
        raise ScenarioError("--weeks: the weeks overlap or their rows are not in time order")
    lane_columns = [c for c in data.columns if c.startswith("lane")]
    if data[lane_columns].isna().any().any():
        raise ScenarioError("--weeks: the weeks do not all have the same lanes")
    skip = _training_end(data["flow"].to_numpy(), np.asarray(train, dtype=float))
    data = data.iloc[skip:].reset_index(drop=True)
    return Pool(
        stamps=tuple(data["stamp"]),
        time=pd.DatetimeIndex(data["time"]),
        flow=data["flow"].to_numpy(),
        lanes=data[lane_columns].to_numpy(),
        speed=data["speed"].to_numpy(),
        observed=data["observed"].to_numpy(),
        source=data["source"].to_numpy(),
        files=tuple(p.name for p in files),
        skipped_train_rows=skip,
    )
