"""Typed parameters of river's drift detectors, checked when a policy is read, not when it runs.

``[drift.params]`` is passed to river as keyword arguments. river checks few of them itself, and
late: ``delta = "abc"`` for Page-Hinkley fails at the first update, ADWIN's ``clock = 0`` panics
in its Rust core at the first update, and KSWIN takes ``stat_size = 60, window_size = 100`` but
then cannot draw its 60-value reference sample from the 40 older values of its window. So each
parameter has a type and a range here, KSWIN's sizes are checked together, and the detector is
then built once, so that anything river itself refuses is reported by ``policy check`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mape.checks import Check, choice, number, period, window


def _positive(hi: float) -> Check:
    """A finite number in (0, hi]."""
    within = number(0.0, hi)

    def check(v: Any) -> str | None:
        problem = within(v)
        if problem is None and v <= 0:
            return f"must be > 0, got {v!r}"
        return problem

    return check


SCHEMA: dict[str, dict[str, Check]] = {
    "adwin": {
        "delta": _positive(1.0),
        "clock": period(1),
        "max_buckets": number(1, 1000, integer=True),
        "min_window_length": window(1),
        "grace_period": period(0),
    },
    "kswin": {
        "alpha": _positive(1.0),
        "window_size": window(2),
        "stat_size": window(1),
    },
    "page_hinkley": {
        "min_instances": period(1),
        "delta": number(0.0),
        "threshold": number(0.0),
        "alpha": _positive(1.0),
        "mode": choice(("up", "down", "both")),
    },
}
KSWIN_DEFAULTS = {"window_size": 100, "stat_size": 30}  # river's own defaults


def param_problems(detector: str, params: Mapping[str, Any], seed: int) -> list[tuple[str, str]]:
    """(parameter, what is wrong) for each bad parameter of ``detector``; [] when all are good.

    >>> param_problems("kswin", {"stat_size": 60}, 7)
    [('stat_size', 'must be at most half of window_size (100), got 60')]
    >>> param_problems("adwin", {"delta": "abc", "clock": 16}, 7)
    [('delta', "must be a number, got 'abc'")]
    """
    checks = SCHEMA.get(detector, {})
    problems: list[tuple[str, str]] = []
    for key, value in params.items():
        if key not in checks:
            known = ", ".join(checks) if checks else "none: kl uses window, bins and threshold"
            problems.append((key, f"not a parameter of detector {detector!r} (known: {known})"))
        elif (problem := checks[key](value)) is not None:
            problems.append((key, problem))
    if problems or not params:
        return problems
    if detector == "kswin" and (sizes := _kswin_sizes(params)) is not None:
        return [sizes]
    return _build(detector, params, seed)


def _kswin_sizes(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """KSWIN compares its newest ``stat_size`` values with as many drawn from the older ones."""
    window_size = params.get("window_size", KSWIN_DEFAULTS["window_size"])
    stat_size = params.get("stat_size", KSWIN_DEFAULTS["stat_size"])
    if 2 * stat_size <= window_size:
        return None
    if "stat_size" in params:
        return "stat_size", f"must be at most half of window_size ({window_size}), got {stat_size}"
    return "window_size", f"must be at least twice stat_size ({stat_size}), got {window_size}"


def _build(detector: str, params: Mapping[str, Any], seed: int) -> list[tuple[str, str]]:
    """Whatever river itself refuses when the detector is built with ``params``."""
    from mape.drift import RiverDetector

    try:
        RiverDetector(detector, params, seed)
    except Exception as exc:  # noqa: BLE001 - river's refusal, whatever its type, is the message
        key = next(iter(params), "")
        return [(key, f"refused by river's {detector} ({type(exc).__name__}: {exc})")]
    return []
