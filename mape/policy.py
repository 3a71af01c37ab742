"""The adaptation policy: frozen dataclasses plus strict validation (DESIGN.md §5).

A policy is read from TOML (``mape.policy_file``); every key is checked against the schema below
(the checks are in ``mape.checks``, river's parameters in ``mape.river_params``, the name rule in
``mape.names``). Unknown keys, wrong types and out-of-range values are refused with the file, line
and key named, all of them at once: fixing one problem per ``policy check`` is slow going.
Field help texts double as the TUI editor's help.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from harmone_common.errors import HarmoneError
from mape import checks as C
from mape.names import name_problem
from mape.river_params import param_problems

DETECTORS = ("kl", "adwin", "kswin", "page_hinkley")
ON_DRIFT = ("reuse_or_retrain", "retrain", "alert", "ignore")
DRIFT_INPUTS = ("truth", "error")
SERVING = ("fast", "framework")  # how models are called: see Policy.serving


class PolicyError(HarmoneError):
    """A policy that cannot be used; the message names file, line and key (of each problem)."""


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
    # "fast": each model through its cheapest exact path (a dot product, ONNX Runtime), so its
    # energy per inference is the model's; "framework": through scikit-learn / Keras, as trained.
    serving: str = "fast"
    score: ScorePolicy = field(default_factory=ScorePolicy)
    switch: SwitchPolicy = field(default_factory=SwitchPolicy)
    drift: DriftPolicy = field(default_factory=DriftPolicy)
    retrain: RetrainPolicy = field(default_factory=RetrainPolicy)

    def with_values(self, **changes: Any) -> Policy:
        return replace(self, **changes)


Check = C.Check
_num = C.number


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


def _name(v: Any) -> str | None:
    return name_problem(v)


SCHEMA: dict[str, dict[str, Check]] = {
    "": {
        "name": _name,
        "engine": C.text,
        "models": _models,
        "start_model": C.text,
        "seed": _num(0, C.MAX_SEED, integer=True),
        "description": C.text,
        "serving": C.choice(SERVING),
    },
    "score": {
        "beta": _num(0.0, 1.0),
        "energy_floor_uj": _num(lo=0.0),
        "energy_ceiling_uj": _ceiling,
        "ema_weight": _num(0.0, 1.0),
        "initial": _initial,
    },
    "switch": {
        "every_steps": C.period(1),
        "window_steps": C.window(2),
        "min_score": _num(-1.0, 1.0),
        "explore": _num(0.0, 1.0),
        "energy_budget": _num(0.0, 1.0),
        "recovery_cycles": C.period(0),
        "min_dwell_steps": C.period(0),
        "enabled": C.boolean,
    },
    "drift": {
        "detector": C.choice(DETECTORS),
        "input": C.choice(DRIFT_INPUTS),
        "window": C.window(10),
        "bins": _num(2, 1000, integer=True),
        "threshold": _num(lo=0.0),
        "every_steps": C.period(1),
        "warmup_steps": C.period(0),
        "cooldown_steps": C.period(0),
        "on_drift": C.choice(ON_DRIFT),
        "reuse_threshold": _num(lo=0.0),
        "enabled": C.boolean,
        "settle_steps": C.period(0),
        "params": _params,
    },
    "retrain": {
        "window": C.window(20),
        "every_steps": C.period(0),
        "delay_steps": C.period(0),
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


class _Problems:
    """The problems found so far, each as ``file:line: key: what``. Keys with a problem are
    remembered, so that a check across keys does not report a consequence of one again."""

    def __init__(self, source: str, locate: Locator | None) -> None:
        self.source, self.locate = source, locate
        self.lines: list[str] = []
        self.bad: set[str] = set()

    def add(self, section: str, key: str, problem: str) -> None:
        self.lines.append(f"{_where(self.source, self.locate, section, key)}: {problem}")
        self.bad.add(f"{section}.{key}" if section else key)

    def check(self, section: str, key: str, value: Any) -> bool:
        """Run the SCHEMA check of ``section.key`` on ``value``; False (and noted) if it fails."""
        problem = SCHEMA[section][key](value)
        if problem:
            self.add(section, key, problem)
        return problem is None

    def clean(self, *keys: str) -> bool:
        return not self.bad.intersection(keys)

    def raise_if_any(self) -> None:
        if len(self.lines) == 1:
            raise PolicyError(self.lines[0])
        if self.lines:
            listed = "".join(f"\n  {line}" for line in self.lines)
            raise PolicyError(f"{self.source}: {len(self.lines)} problems{listed}")


def policy_from_mapping(
    data: Mapping[str, Any], source: str = "<policy>", locate: Locator | None = None
) -> Policy:
    """Build a validated :class:`Policy`; unknown keys and bad values raise :class:`PolicyError`
    (one message naming every problem)."""
    found = _Problems(source, locate)
    top: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTION_TYPES:
            if isinstance(value, Mapping):
                sections[key] = _section(value, key, found)
            else:
                found.add("", key, f"must be a table [{key}]")
        elif key in SCHEMA[""]:
            if found.check("", key, value):
                top[key] = tuple(value) if key == "models" else value
        else:
            known = ", ".join([*SCHEMA[""], *(f"[{s}]" for s in SECTION_TYPES)])
            found.add("", key, f"unknown key (known: {known})")
    policy = Policy(**top, **sections)
    _check_consistency(policy, found)
    found.raise_if_any()
    return policy


def _section(value: Mapping[str, Any], section: str, found: _Problems) -> Any:
    """The section's dataclass from its valid keys (the others are noted in ``found``)."""
    checks = SCHEMA[section]
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in checks:
            found.add(section, key, f"unknown key (known: {', '.join(checks)})")
        elif found.check(section, key, v):
            out[key] = dict(v) if isinstance(v, Mapping) else v
    return SECTION_TYPES[section](**out)


def _check_consistency(policy: Policy, found: _Problems) -> None:
    """Checks across keys, each made only when the keys it reads were valid themselves."""
    if found.clean("start_model", "models") and policy.start_model not in policy.models:
        found.add("", "start_model",
                  f"{policy.start_model!r} is not in models {list(policy.models)}")
    if found.clean("score", "score.initial", "models"):
        for name in policy.score.initial:
            if name not in policy.models:
                found.add("score", "initial", f"{name!r} is not in models")
    if found.clean("models") and len(set(policy.models)) != len(policy.models):
        found.add("", "models", "a model is listed twice")
    if found.clean("drift", "drift.detector", "drift.params"):
        drift = policy.drift
        for key, problem in param_problems(drift.detector, drift.params, policy.seed):
            found.add("drift.params", key, problem)


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
