"""The adaptation policy: frozen dataclasses plus strict validation (DESIGN.md §5).

A policy is read from TOML (``mape.policy_file``); every key is checked against the schema below.
Unknown keys, wrong types and out-of-range values are refused with the file, line and key named.
Field help texts double as the TUI editor's help.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mape.drift import RIVER_PARAMS

DETECTORS = ("kl", "adwin", "kswin", "page_hinkley")
ON_DRIFT = ("reuse_or_retrain", "retrain", "alert", "ignore")
DRIFT_INPUTS = ("truth", "error")


class PolicyError(Exception):
    """A policy that cannot be used; the message names file, line and key."""


@dataclass(frozen=True)
class ScorePolicy:
    beta: float = 0.95
    energy_floor_uj: float = 0.0
    energy_ceiling_uj: float | str = "auto"
    ema_weight: float = 0.8
    initial: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SwitchPolicy:
    every_steps: int = 267
    window_steps: int = 267
    min_score: float = 0.78
    explore: float = 0.1
    energy_budget: float = 1.0
    recovery_cycles: int = 3
    min_dwell_steps: int = 267
    enabled: bool = True


@dataclass(frozen=True)
class DriftPolicy:
    detector: str = "kl"
    input: str = "truth"
    window: int = 1200
    bins: int = 50
    threshold: float = 0.75
    every_steps: int = 20
    warmup_steps: int = 2667
    cooldown_steps: int = 2667
    on_drift: str = "reuse_or_retrain"
    reuse_threshold: float = 0.75
    enabled: bool = True
    settle_steps: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrainPolicy:
    window: int = 1200
    every_steps: int = 0
    delay_steps: int = 267


@dataclass(frozen=True)
class Policy:
    name: str = "harmone"
    engine: str = "regression"
    models: tuple[str, ...] = ("linear", "svm", "lstm")
    start_model: str = "lstm"
    seed: int = 7
    description: str = ""
    score: ScorePolicy = field(default_factory=ScorePolicy)
    switch: SwitchPolicy = field(default_factory=SwitchPolicy)
    drift: DriftPolicy = field(default_factory=DriftPolicy)
    retrain: RetrainPolicy = field(default_factory=RetrainPolicy)

    def with_values(self, **changes: Any) -> Policy:
        return replace(self, **changes)


Check = Callable[[Any], str | None]


def _num(lo: float | None = None, hi: float | None = None, integer: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or (integer and not isinstance(v, int)):
            return f"must be {'an integer' if integer else 'a number'}, got {v!r}"
        if lo is not None and v < lo:
            return f"must be >= {lo}, got {v!r}"
        if hi is not None and v > hi:
            return f"must be <= {hi}, got {v!r}"
        return None

    return check


def _choice(options: tuple[str, ...]) -> Check:
    def check(v: Any) -> str | None:
        if v not in options:
            return f"must be one of {', '.join(options)}; got {v!r}"
        return None

    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else f"must be a string, got {v!r}"


def _ceiling(v: Any) -> str | None:
    if v == "auto":
        return None
    return _num(lo=0.0)(v)


def _initial(v: Any) -> str | None:
    if not isinstance(v, Mapping):
        return f"must be a table of model = score, got {v!r}"
    for k, s in v.items():
        problem = _num(0.0, 1.0)(s)
        if problem:
            return f"{k}: {problem}"
    return None


def _params(v: Any) -> str | None:
    if not isinstance(v, Mapping):
        return f"must be a table of detector parameters, got {v!r}"
    for k, x in v.items():
        if isinstance(x, bool) or not isinstance(x, int | float | str):
            return f"{k}: must be a number or a string, got {x!r}"
    return None


def _models(v: Any) -> str | None:
    if not isinstance(v, list | tuple) or not v or not all(isinstance(m, str) for m in v):
        return f"must be a non-empty list of model names, got {v!r}"
    return None


SCHEMA: dict[str, dict[str, Check]] = {
    "": {
        "name": _text,
        "engine": _text,
        "models": _models,
        "start_model": _text,
        "seed": _num(0, integer=True),
        "description": _text,
    },
    "score": {
        "beta": _num(0.0, 1.0),
        "energy_floor_uj": _num(lo=0.0),
        "energy_ceiling_uj": _ceiling,
        "ema_weight": _num(0.0, 1.0),
        "initial": _initial,
    },
    "switch": {
        "every_steps": _num(1, integer=True),
        "window_steps": _num(2, integer=True),
        "min_score": _num(-1.0, 1.0),
        "explore": _num(0.0, 1.0),
        "energy_budget": _num(0.0, 1.0),
        "recovery_cycles": _num(0, integer=True),
        "min_dwell_steps": _num(0, integer=True),
        "enabled": _bool,
    },
    "drift": {
        "detector": _choice(DETECTORS),
        "input": _choice(DRIFT_INPUTS),
        "window": _num(10, integer=True),
        "bins": _num(2, 1000, integer=True),
        "threshold": _num(lo=0.0),
        "every_steps": _num(1, integer=True),
        "warmup_steps": _num(0, integer=True),
        "cooldown_steps": _num(0, integer=True),
        "on_drift": _choice(ON_DRIFT),
        "reuse_threshold": _num(lo=0.0),
        "enabled": _bool,
        "settle_steps": _num(0, integer=True),
        "params": _params,
    },
    "retrain": {
        "window": _num(20, integer=True),
        "every_steps": _num(0, integer=True),
        "delay_steps": _num(0, integer=True),
    },
}

SECTION_TYPES: dict[str, type] = {
    "score": ScorePolicy,
    "switch": SwitchPolicy,
    "drift": DriftPolicy,
    "retrain": RetrainPolicy,
}

Locator = Callable[[str, str], int | None]


def _where(source: str, locate: Locator | None, section: str, key: str) -> str:
    line = locate(section, key) if locate else None
    dotted = f"{section}.{key}" if section else key
    return f"{source}:{line}: {dotted}" if line else f"{source}: {dotted}"


def policy_from_mapping(
    data: Mapping[str, Any], source: str = "<policy>", locate: Locator | None = None
) -> Policy:
    """Build a validated :class:`Policy`; unknown keys and bad values raise :class:`PolicyError`."""
    top: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTION_TYPES:
            if not isinstance(value, Mapping):
                raise PolicyError(f"{_where(source, locate, '', key)}: must be a table [{key}]")
            sections[key] = _section(value, key, source, locate)
        elif key in SCHEMA[""]:
            problem = SCHEMA[""][key](value)
            if problem:
                raise PolicyError(f"{_where(source, locate, '', key)}: {problem}")
            top[key] = tuple(value) if key == "models" else value
        else:
            known = ", ".join([*SCHEMA[""], *(f"[{s}]" for s in SECTION_TYPES)])
            raise PolicyError(f"{_where(source, locate, '', key)}: unknown key (known: {known})")
    policy = Policy(**top, **sections)
    _check_consistency(policy, source, locate)
    return policy


def _section(value: Mapping[str, Any], section: str, source: str, locate: Locator | None) -> Any:
    checks = SCHEMA[section]
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in checks:
            raise PolicyError(
                f"{_where(source, locate, section, key)}: unknown key (known: {', '.join(checks)})"
            )
        problem = checks[key](v)
        if problem:
            raise PolicyError(f"{_where(source, locate, section, key)}: {problem}")
        out[key] = dict(v) if isinstance(v, Mapping) else v
    return SECTION_TYPES[section](**out)


def _check_consistency(policy: Policy, source: str, locate: Locator | None) -> None:
    if policy.start_model not in policy.models:
        raise PolicyError(
            f"{_where(source, locate, '', 'start_model')}: {policy.start_model!r} is not in models "
            f"{list(policy.models)}"
        )
    for name in policy.score.initial:
        if name not in policy.models:
            raise PolicyError(
                f"{_where(source, locate, 'score', 'initial')}: {name!r} is not in models"
            )
    if len(set(policy.models)) != len(policy.models):
        raise PolicyError(f"{_where(source, locate, '', 'models')}: a model is listed twice")
    allowed = RIVER_PARAMS.get(policy.drift.detector, ())
    for key in policy.drift.params:
        if key not in allowed:
            known = ", ".join(allowed) if allowed else "none: kl uses window, bins and threshold"
            raise PolicyError(
                f"{_where(source, locate, 'drift.params', key)}: not a parameter of detector"
                f" {policy.drift.detector!r} (known: {known})"
            )


def check_models(
    policy: Policy, known: list[str], source: str, locate: Locator | None = None
) -> None:
    """Refuse a policy naming a model its engine does not have (``locate`` adds the line)."""
    for name in policy.models:
        if name not in known:
            raise PolicyError(
                f"{_where(source, locate, '', 'models')}: unknown model {name!r} for engine"
                f" {policy.engine!r} (known: {', '.join(known)})"
            )


def policy_to_mapping(policy: Policy) -> dict[str, Any]:
    """The policy as plain TOML-ready data (the inverse of :func:`policy_from_mapping`)."""
    out: dict[str, Any] = {}
    for f in fields(policy):
        value = getattr(policy, f.name)
        if f.name in SECTION_TYPES:
            out[f.name] = {g.name: _plain(getattr(value, g.name)) for g in fields(value)}
        else:
            out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
