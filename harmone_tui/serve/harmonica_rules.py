"""Harmonica's policy semantics on a telemetry record, without its bugs.

What a Harmonica user's policy JSON means here (see docs/serve.md for the differences):

- a record is filed under every policy whose ``quality_attribute`` key it holds (else under
  ``unassigned``);
- the primary boundary is violated when the value is LESS_THAN / GREATER_THAN the threshold and,
  with ``dynamic_logic = "historic_avg * <factor>"``, also beyond the mean of the earlier values of
  that attribute under that policy for that system times the factor (no earlier value: the
  static test alone decides). The mean is a running sum and count, never a re-scan;
- a violation posts the tactic with the lowest ``priority`` number;
- secondary boundaries are checked on every record (Harmonica checked them every 30 s against the
  latest record only, so a short excursion between two checks was never seen, and a stale record
  fired again every 30 s); they post to their tactic's endpoint, or to that of ``tactics[0]``.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONDITIONS = ("LESS_THAN", "GREATER_THAN")
DYNAMIC_RE = re.compile(r"^\s*historic_avg\s*\*\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")
SERIES_POINTS = 240
ENERGY_KEYS = ("energy", "normalized_energy", "energy_uj")


@dataclass(frozen=True)
class Tactic:
    tactic_id: str
    priority: int
    endpoint: str


@dataclass(frozen=True)
class Boundary:
    attribute: str
    condition: str
    threshold: float
    tactic_id: str = ""
    factor: float | None = None  # dynamic_logic "historic_avg * factor"


@dataclass(frozen=True)
class HarmonicaPolicy:
    """A validated Harmonica policy; ``body`` is the JSON as posted (returned unchanged)."""

    policy_id: str
    primary: Boundary
    tactics: tuple[Tactic, ...]
    secondary: tuple[Boundary, ...]
    body: Mapping[str, Any]

    @property
    def attribute(self) -> str:
        return self.primary.attribute

    def primary_tactic(self) -> Tactic | None:
        """The tactic with the lowest priority number (the first listed on a tie)."""
        return min(self.tactics, key=lambda t: t.priority) if self.tactics else None

    def endpoint_for(self, tactic_id: str) -> str | None:
        same = next((t for t in self.tactics if t.tactic_id == tactic_id), None)
        chosen = same or (self.tactics[0] if self.tactics else None)
        return chosen.endpoint if chosen else None


def dynamic_factor(text: str | None) -> float | None:
    """The factor of ``"historic_avg * <factor>"``; ValueError for any other text.

    >>> dynamic_factor("historic_avg * 0.9"), dynamic_factor(None)
    (0.9, None)
    """
    if text is None or not text.strip():
        return None
    match = DYNAMIC_RE.match(text)
    if not match:
        raise ValueError(f"must be 'historic_avg * <number>', got {text!r}")
    return float(match.group(1))


def violates(value: float, condition: str, threshold: float) -> bool:
    return value < threshold if condition == "LESS_THAN" else value > threshold


def numeric(value: Any) -> float | None:
    """A record's value as a finite float, or None (text, missing, NaN, true/false)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Trigger:
    """A tactic to post: which, where, and the value that fired it."""

    policy_id: str
    tactic_id: str
    endpoint: str
    metric: str
    value: float
    reason: str


@dataclass
class HarmonicaState:
    """One Harmonica system's state: running means per (policy, attribute) and recent values."""

    sums: dict[str, list[float]] = field(default_factory=dict)
    series: dict[str, deque[tuple[Any, ...]]] = field(default_factory=dict)

    def evaluate(
        self, policy: HarmonicaPolicy, record: Mapping[str, Any], seq: int
    ) -> list[Trigger]:
        """The tactics ``record`` fires under ``policy``; updates the running mean after."""
        out: list[Trigger] = []
        b = policy.primary
        value = numeric(record.get(b.attribute))
        key = f"{policy.policy_id}\x1f{b.attribute}"
        total = self.sums.get(key)
        if value is not None:
            if violates(value, b.condition, b.threshold):
                reason = f"{b.attribute} {value:g} {b.condition} {b.threshold:g}"
                fired = True
                if b.factor is not None and total and total[1] > 0:
                    limit = total[0] / total[1] * b.factor
                    fired = violates(value, b.condition, limit)
                    reason += f" and historic_avg*{b.factor:g} = {limit:.4g}"
                tactic = policy.primary_tactic()
                if fired and tactic is not None:
                    out.append(
                        Trigger(
                            policy.policy_id,
                            tactic.tactic_id,
                            tactic.endpoint,
                            b.attribute,
                            value,
                            reason,
                        )
                    )
            if total is None:
                total = self.sums[key] = [0.0, 0.0]
            total[0] += value
            total[1] += 1
        for s in policy.secondary:
            second = numeric(record.get(s.attribute))
            endpoint = policy.endpoint_for(s.tactic_id)
            if second is not None and endpoint and violates(second, s.condition, s.threshold):
                reason = f"{s.attribute} {second:g} {s.condition} {s.threshold:g} (secondary)"
                out.append(
                    Trigger(policy.policy_id, s.tactic_id, endpoint, s.attribute, second, reason)
                )
        self._remember(policy, record, seq, value)
        return out

    def _remember(
        self, policy: HarmonicaPolicy, record: Mapping[str, Any], seq: int, value: float | None
    ) -> None:
        energy = next((numeric(record.get(k)) for k in ENERGY_KEYS if k in record), None)
        ring = self.series.setdefault(policy.policy_id, deque(maxlen=SERIES_POINTS))
        ring.append((seq, value, energy))

    def historic_avg(self, policy_id: str, attribute: str) -> float | None:
        total = self.sums.get(f"{policy_id}\x1f{attribute}")
        return total[0] / total[1] if total and total[1] else None

    def dump(self) -> dict[str, Any]:
        """JSON-ready state, for the snapshot a restart resumes from."""
        return {"sums": self.sums, "series": {k: list(v) for k, v in self.series.items()}}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> HarmonicaState:
        state = cls(sums={k: list(v) for k, v in data.get("sums", {}).items()})
        for key, points in data.get("series", {}).items():
            state.series[key] = deque((tuple(p) for p in points), maxlen=SERIES_POINTS)
        return state
