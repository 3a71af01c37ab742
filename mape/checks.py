"""Value checks for policy keys: each takes a value and returns what is wrong with it, or None.

Numbers must be finite: TOML allows ``nan`` and ``inf``, and every comparison with NaN is false,
so ``threshold = nan`` silently turned drift detection off and ``min_score = nan`` switching.
Step counts have upper bounds for the same reason (a typo must fail at ``policy check``, not as a
run that never adapts or runs out of memory):

- a **window** is held in memory (the KL detector keeps two, a retrain copies one): at most
  ``MAX_WINDOW`` = 10**6 steps, 9.5 years of 5-minute data and tens of MB as Python floats;
- a **period** (every, warm-up, cool-down, dwell, delay) is only counted: at most ``MAX_PERIOD``
  = 10**7 steps, 95 years of 5-minute data or 17 days at HarmonE's 6.7 steps/s; anything longer
  is a typo or a timestamp, and ``enabled = false`` is the way to turn a mechanism off;
- the **seed** seeds NumPy, TensorFlow and torch, which take at most 2**32 - 1.

>>> number(0.0)(float("nan"))
'must be a finite number, got nan'
>>> number(1, MAX_PERIOD, integer=True)(10**12)
'must be <= 10000000, got 1000000000000'
>>> number(0.0, 1.0).range, period(0).range, choice(("up", "down")).range
('0 to 1', '0 to 10000000', 'up | down')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], str | None]

MAX_WINDOW = 10**6
MAX_PERIOD = 10**7
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Rule:
    """A check and, in words, the values it accepts: the range shown beside a policy field in the
    editor, ``harmone policy show --explain`` and docs/policy.md, so it cannot drift from the check.
    """

    test: Check
    range: str
    options: tuple[str, ...] = ()  # the values of a choice, offered as such by the editor

    def __call__(self, value: Any) -> str | None:
        return self.test(value)


def _shown(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _span(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{_shown(lo)} to {_shown(hi)}"
    if lo is not None:
        return f">= {_shown(lo)}"
    return f"<= {_shown(hi)}" if hi is not None else "any finite number"


def number(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Rule:
    """A finite number (an integer if ``integer``) within [lo, hi]."""

    def check(v: Any) -> str | None:
        wrong_type = isinstance(v, bool) or not isinstance(v, int | float)
        if wrong_type or (integer and not isinstance(v, int)):
            return f"must be {'an integer' if integer else 'a number'}, got {v!r}"
        if not math.isfinite(v):
            return f"must be a finite number, got {v!r}"
        if lo is not None and v < lo:
            return f"must be >= {lo}, got {v!r}"
        if hi is not None and v > hi:
            return f"must be <= {hi}, got {v!r}"
        return None

    return Rule(check, _span(lo, hi))


def window(lo: int) -> Rule:
    """A number of steps held in memory."""
    return number(lo, MAX_WINDOW, integer=True)


def period(lo: int) -> Rule:
    """A number of steps that is only counted."""
    return number(lo, MAX_PERIOD, integer=True)


def choice(options: tuple[str, ...]) -> Rule:
    def check(v: Any) -> str | None:
        if v not in options:
            return f"must be one of {', '.join(options)}; got {v!r}"
        return None

    return Rule(check, " | ".join(options), options)


def _boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else f"must be a string, got {v!r}"


boolean = Rule(_boolean, "true | false")
text = Rule(_text, "any text")
