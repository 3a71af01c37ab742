"""The drift scenarios: each cuts a span of real PeMS rows and applies one realistic change.

Every scenario starts with ``LEAD_DAYS`` of clean rows, longer than the `harmone` policy's drift
warm-up (2,667 steps), so a policy has seen normal data before anything happens, and ends with
``TAIL_DAYS`` clean rows (recovery). Positions come from timestamps and the data (lanes, speed,
`% Observed`), never from fixed row numbers; random parts use a generator seeded per scenario.
``Layout.scale`` shrinks every duration for short inputs and quick checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scripts.scenario_source import ROWS_PER_DAY, Pool, ScenarioError

LEAD_DAYS = 10.0
TAIL_DAYS = 3.0
CLEAN = "clean"


@dataclass(frozen=True)
class Layout:
    """How long things last; ``scale`` < 1 shortens every duration alike."""

    scale: float = 1.0

    def rows(self, days: float) -> int:
        """Rows in ``days`` (scaled); at least one for any positive duration."""
        return max(1, round(days * ROWS_PER_DAY * self.scale)) if days > 0 else 0


@dataclass
class Scenario:
    """One scenario: rows ``[start, end)`` of the pool as the sensor reports them."""

    name: str
    description: str
    start: int
    end: int
    flow: np.ndarray  # what the stream carries; NaN is a blank cell
    true_flow: np.ndarray  # what a working sensor would have reported
    regime: np.ndarray  # per-row label: "clean" or the fault's name
    params: dict[str, Any] = field(default_factory=dict)


def _place(pool: Pool, want: int, length: int, name: str) -> int:
    """A midnight to start a span of ``length`` rows: the first at or after ``want`` that fits,
    else the last that fits."""
    mids = pool.midnights()
    fits = mids[mids + length <= len(pool)]
    if not len(fits):
        raise _too_short(pool, name, length)
    later = fits[fits >= want]
    return int(later[0] if len(later) else fits[-1])


def _too_short(pool: Pool, name: str, length: int) -> ScenarioError:
    return ScenarioError(
        f"scenario {name!r} needs {length} rows ({length / ROWS_PER_DAY:.1f} days) from a"
        f" midnight after the training rows; the weeks give {len(pool)} (add weeks, or use"
        f" --scale below 1)"
    )


def _day(pool: Pool, layout: Layout, days: float) -> int:
    """The row ``days`` (scaled) after the pool's first midnight."""
    mids = pool.midnights()
    return (int(mids[0]) if len(mids) else 0) + layout.rows(days)


def _base(pool: Pool, name: str, description: str, start: int, end: int) -> Scenario:
    flow = pool.flow[start:end].copy()
    regime = np.full(end - start, CLEAN, dtype=object)
    return Scenario(name, description, start, end, flow, flow.copy(), regime)


def _replace(
    pool: Pool,
    layout: Layout,
    name: str,
    text: str,
    offset: float,
    days: float,
    make: Callable[[Scenario, slice], dict[str, Any]],
) -> Scenario:
    """Lead-in, ``days`` of a fault whose values ``make`` writes, tail."""
    lead, fault, tail = layout.rows(LEAD_DAYS), layout.rows(days), layout.rows(TAIL_DAYS)
    start = _place(pool, _day(pool, layout, offset), lead + fault + tail, name)
    scenario = _base(pool, name, text, start, start + lead + fault + tail)
    rows = slice(lead, lead + fault)
    scenario.regime[rows] = name
    scenario.params = make(scenario, rows)
    return scenario


def stuck(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    lead, fault, tail = layout.rows(LEAD_DAYS), layout.rows(2), layout.rows(TAIL_DAYS)
    start = _place(pool, _day(pool, layout, 0), lead + ROWS_PER_DAY + fault + tail, "stuck")
    first = pool.first_at(start + lead, 6)
    end = first + fault + tail
    scenario = _base(
        pool,
        "stuck",
        "the sensor freezes at its last reading at 06:00 for two"
        " days (the morning peak never shows), then recovers",
        start,
        end,
    )
    rows = slice(first - start, first - start + fault)
    value = float(pool.flow[first - 1])
    scenario.flow[rows] = value
    scenario.regime[rows] = "stuck"
    scenario.params = {"value": value, "frozen_at": pool.stamps[first]}
    return scenario


def dropouts(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    """Blank cells where PeMS imputed the value (`% Observed` < 100) plus four outages (1-12 h).

    Only the blank rows are labelled ``dropout``: with ``--gaps skip`` a reader drops exactly
    those rows and the labels of the others still hold.
    """
    lead, window, tail = layout.rows(LEAD_DAYS), layout.rows(4), layout.rows(TAIL_DAYS)
    mids = pool.midnights()
    fits = mids[(mids >= lead) & (mids + window + tail <= len(pool))]
    if not len(fits):
        raise _too_short(pool, "dropouts", lead + window + tail + ROWS_PER_DAY)
    imputed = np.concatenate([[0], np.cumsum(pool.observed < 100)])
    counts = imputed[fits + window] - imputed[fits]
    first = int(fits[int(np.argmax(counts))])  # the flakiest window; the earliest on a tie
    scenario = _base(
        pool,
        "dropouts",
        "a flaky detector: in the 4 days with the most rows PeMS"
        " imputed (% Observed < 100), those rows and four outages of 1 to 12 hours"
        " are blank cells",
        first - lead,
        first + window + tail,
    )
    blank = np.zeros(len(scenario.flow), dtype=bool)
    blank[lead : lead + window] = pool.observed[first : first + window] < 100
    outages = []
    for _ in range(4):
        length = max(1, round(int(rng.integers(12, 145)) * layout.scale))
        at = lead + int(rng.integers(0, window - length + 1))
        blank[at : at + length] = True
        outages.append([at, length])
    scenario.flow[blank] = np.nan
    scenario.regime[blank] = "dropout"
    scenario.params = {
        "window": [lead, lead + window],
        "imputed_rows": int(counts.max()),
        "outages": sorted(outages),
        "blank_rows": int(blank.sum()),
    }
    return scenario


def noise(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    """Eight bursts (30 min to 4 h) of a chattering detector in three days.

    In a burst every reading gets Gaussian noise and about one in four is a spurious multiple
    (2-5x) of the real count, as a loop detector that double-counts does.
    """

    def make(s: Scenario, rows: slice) -> dict[str, Any]:
        sigma = round(0.3 * float(np.std(s.flow[: rows.start])), 1)
        bursts = []
        for _ in range(8):
            length = max(1, round(int(rng.integers(6, 49)) * layout.scale))
            at = rows.start + int(rng.integers(0, rows.stop - rows.start - length + 1))
            bursts.append([at, length])
        s.regime[rows] = CLEAN
        for at, length in sorted(bursts):
            part = slice(at, at + length)
            gain = np.where(rng.random(length) < 0.25, rng.uniform(2, 5, length), 1.0)
            noisy = s.true_flow[part] * gain + rng.normal(0, sigma, length)
            s.flow[part] = np.maximum(0.0, np.round(noisy))
            s.regime[part] = "noise"
        return {"sigma": sigma, "spike_share": 0.25, "spike_gain": [2, 5], "bursts": sorted(bursts)}

    text = (
        "eight bursts of a chattering detector in three days: Gaussian noise (sigma = 0.3 x"
        " the lead-in's standard deviation) and one reading in four a 2-5x over-count"
    )
    return _replace(pool, layout, "noise", text, 3, 3, make)


def lane_closure(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    def make(s: Scenario, rows: slice) -> dict[str, Any]:
        lanes = pool.lanes[s.start : s.end]
        lane = int(np.argmax(lanes.mean(axis=0)))
        s.flow[rows] = s.true_flow[rows] - lanes[rows, lane]
        return {"lane": lane + 1}

    text = (
        "the busiest lane drops out of the total for five days (its loop fails, or the lane"
        " is closed and the count loses it): flow = total - that lane's flow"
    )
    return _replace(pool, layout, "lane_closure", text, 6, 5, make)


def lane_swap(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    def make(s: Scenario, rows: slice) -> dict[str, Any]:
        lanes = pool.lanes[s.start : s.end]
        lane = int(np.argmin(lanes.mean(axis=0)))
        s.flow[rows] = lanes[rows, lane]
        return {"lane": lane + 1}

    text = (
        "for three days the feed carries one lane's flow (the quietest lane) instead of"
        " the station total: a mis-mapped detector"
    )
    return _replace(pool, layout, "lane_swap", text, 9, 3, make)


def _speed_factor(s: Scenario, pool: Pool, lead: int) -> float:
    """Mean flow / mean speed over the lead-in: brings speed (mph) to the flow's level."""
    speed = pool.speed[s.start : s.start + lead]
    return round(float(s.true_flow[:lead].mean() / speed.mean()), 2)


def _write_speed(s: Scenario, pool: Pool, rows: slice, factor: float) -> None:
    s.flow[rows] = np.round(pool.speed[s.start : s.end][rows] * factor, 1)


def speed_swap(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    def make(s: Scenario, rows: slice) -> dict[str, Any]:
        factor = _speed_factor(s, pool, rows.start)
        _write_speed(s, pool, rows, factor)
        return {"factor": factor}

    text = (
        "for three days the feed carries the station's speed (mph) scaled into the flow"
        " range (x mean flow / mean speed of the lead-in): speed dynamics, flow's level"
    )
    return _replace(pool, layout, "speed_swap", text, 12, 3, make)


def ramp(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    gain = 2.0
    lead, up, hold, tail = (layout.rows(d) for d in (LEAD_DAYS, 5, 3, TAIL_DAYS))
    start = _place(pool, _day(pool, layout, 15), lead + up + hold + tail, "ramp")
    scenario = _base(
        pool,
        "ramp",
        f"the sensor's gain drifts from 1 to {gain:g} over five days"
        f" and stays at {gain:g} for three (peaks leave the training range)",
        start,
        start + lead + up + hold + tail,
    )
    factors = np.ones(len(scenario.flow))
    factors[lead : lead + up] = 1 + (gain - 1) * np.arange(1, up + 1) / up
    factors[lead + up : lead + up + hold] = gain
    scenario.flow = np.round(scenario.true_flow * factors, 1)
    scenario.regime[lead : lead + up] = "ramp"
    scenario.regime[lead + up : lead + up + hold] = "drifted"
    scenario.params = {"gain": gain}
    return scenario


def holiday_days(pool: Pool) -> list[str]:
    """Whole weekdays quieter on average than the median whole weekend day (YYYY-MM-DD)."""
    days = pool.time.normalize()
    whole = []
    for day in days.unique():
        mask = days == day
        if mask.sum() >= 0.9 * ROWS_PER_DAY:
            whole.append((day, float(pool.flow[mask].mean())))
    weekend = [mean for day, mean in whole if day.dayofweek >= 5]
    if not weekend:
        return []
    bar = float(np.median(weekend))
    return [day.strftime("%Y-%m-%d") for day, mean in whole if day.dayofweek < 5 and mean < bar]


def weekend(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    length = layout.rows(LEAD_DAYS + 11)
    holidays = holiday_days(pool)
    want = _day(pool, layout, 0)
    if holidays:  # the first holiday-like day in the span's last week
        holiday = int(np.flatnonzero(pool.time.normalize() == holidays[0])[0])
        want = holiday - layout.rows(LEAD_DAYS + 4)
    start = _place(pool, want, length, "weekend")
    scenario = _base(
        pool,
        "weekend",
        "real weekdays, weekends and holiday-like weekdays (quieter"
        " than the median weekend day), labelled by calendar; nothing is altered",
        start,
        start + length,
    )
    day_of_week = pool.time.dayofweek[start : start + length]
    dates = pool.time.strftime("%Y-%m-%d")[start : start + length]
    scenario.regime[day_of_week >= 5] = "weekend"
    scenario.regime[np.isin(dates, holidays)] = "holiday"
    scenario.params = {"holidays": [d for d in holidays if d in set(dates)]}
    return scenario


def recurring(pool: Pool, layout: Layout, rng: np.random.Generator) -> Scenario:
    """A -> B -> A -> B -> A: the second B is where a stored B model pays."""
    a, b, last = layout.rows(LEAD_DAYS), layout.rows(6), layout.rows(2)
    bounds = np.cumsum([0, a, b, a, b, last])
    start = _place(pool, _day(pool, layout, 0), int(bounds[-1]), "recurring")
    scenario = _base(
        pool,
        "recurring",
        "the feed alternates between flow (A, 10 days) and speed"
        " scaled into the flow range (B, 6 days): A B A B A; a model retrained on"
        " the first B can be reused on the second",
        start,
        start + int(bounds[-1]),
    )
    factor = _speed_factor(scenario, pool, a)
    for lo, hi in ((bounds[1], bounds[2]), (bounds[3], bounds[4])):
        _write_speed(scenario, pool, slice(int(lo), int(hi)), factor)
        scenario.regime[lo:hi] = "speed_swap"
    scenario.params = {"factor": factor}
    return scenario


BUILDERS: dict[str, Callable[[Pool, Layout, np.random.Generator], Scenario]] = {
    "stuck": stuck,
    "dropouts": dropouts,
    "noise": noise,
    "lane_closure": lane_closure,
    "lane_swap": lane_swap,
    "speed_swap": speed_swap,
    "ramp": ramp,
    "weekend": weekend,
    "recurring": recurring,
}
