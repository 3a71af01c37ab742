"""The adaptation policy: frozen dataclasses plus strict validation (DESIGN.md §5).

The fields, their defaults, rules and help live in :mod:`mape.policy_schema` (re-exported here,
where the rest of the code imports them from); this module checks a mapping read from TOML against
them. Unknown keys, wrong types and out-of-range values are refused with the file, line and key
named, all of them at once: fixing one problem per ``policy check`` is slow going. The document
(text, locations, edits, saving) is :class:`mape.policy_doc.PolicyDocument`.

>>> found = policy_problems({"seed": -1, "switch": {"explore": 2}}, "p.toml")[1]
>>> [str(p) for p in found]
['p.toml: seed: must be >= 0, got -1', 'p.toml: switch.explore: must be <= 1.0, got 2']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from harmone_common.errors import HarmoneError
from mape.policy_schema import (
    DETECTORS,
    DRIFT_INPUTS,
    ON_DRIFT,
    SCHEMA,
    SECTION_TYPES,
    SERVING,
    DriftPolicy,
    MapePolicy,
    Policy,
    RetrainPolicy,
    ScorePolicy,
    SwitchPolicy,
)
from mape.river_params import param_problems

__all__ = [
    "DETECTORS",
    "DRIFT_INPUTS",
    "ON_DRIFT",
    "SCHEMA",
    "SECTION_TYPES",
    "SERVING",
    "DriftPolicy",
    "Locator",
    "MapePolicy",
    "Policy",
    "PolicyError",
    "Problem",
    "RetrainPolicy",
    "ScorePolicy",
    "SwitchPolicy",
    "check_models",
    "error_of",
    "model_problems",
    "policy_from_mapping",
    "policy_problems",
    "policy_to_mapping",
]


class PolicyError(HarmoneError):
    """A policy that cannot be used; the message names file, line and key (of each problem)."""


Locator = Callable[[str, str], int | None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy, where it is: ``file:line: key: message``."""

    source: str
    line: int | None
    key: str  # dotted (``drift.params.delta``); "" for the file as a whole (not valid TOML)
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def error_of(problems: Iterable[Problem], source: str) -> PolicyError:
    """One error naming every problem: the problem itself if it is alone, else a list under a
    ``file: N problems`` line (the CLI prints it as one message, exit 2)."""
    found = list(problems)
    if len(found) == 1:
        return PolicyError(str(found[0]))
    listed = "".join(f"\n  {p}" for p in found)
    return PolicyError(f"{source}: {len(found)} problems{listed}")


class _Problems:
    """The problems found so far. Keys with a problem are remembered, so that a check across keys
    does not report a consequence of one again."""

    def __init__(self, source: str, locate: Locator | None) -> None:
        self.source, self.locate = source, locate
        self.found: list[Problem] = []
        self.bad: set[str] = set()

    def add(self, section: str, key: str, problem: str) -> None:
        line = self.locate(section, key) if self.locate else None
        dotted = f"{section}.{key}" if section else key
        self.found.append(Problem(self.source, line, dotted, problem))
        self.bad.add(dotted)

    def check(self, section: str, key: str, value: Any) -> bool:
        """Run the SCHEMA check of ``section.key`` on ``value``; False (and noted) if it fails."""
        problem = SCHEMA[section][key](value)
        if problem:
            self.add(section, key, problem)
        return problem is None

    def clean(self, *keys: str) -> bool:
        return not self.bad.intersection(keys)


def policy_problems(
    data: Mapping[str, Any], source: str = "<policy>", locate: Locator | None = None
) -> tuple[Policy, list[Problem]]:
    """The policy built from the valid keys of ``data`` (defaults elsewhere) and every problem."""
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
    return policy, found.found


def policy_from_mapping(
    data: Mapping[str, Any], source: str = "<policy>", locate: Locator | None = None
) -> Policy:
    """Build a validated :class:`Policy`; unknown keys and bad values raise :class:`PolicyError`
    (one message naming every problem)."""
    policy, problems = policy_problems(data, source, locate)
    if problems:
        raise error_of(problems, source)
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
        found.add(
            "", "start_model", f"{policy.start_model!r} is not in models {list(policy.models)}"
        )
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


def model_problems(
    policy: Policy, known: list[str], source: str, locate: Locator | None = None
) -> list[Problem]:
    """A problem for each model of ``policy`` its engine does not have (``known``)."""
    line = locate("", "models") if locate else None
    return [
        Problem(
            source,
            line,
            "models",
            f"unknown model {name!r} for engine {policy.engine!r} (known: {', '.join(known)})",
        )
        for name in policy.models
        if name not in known
    ]


def check_models(
    policy: Policy, known: list[str], source: str, locate: Locator | None = None
) -> None:
    """Refuse a policy naming a model its engine does not have (``locate`` adds the line)."""
    problems = model_problems(policy, known, source, locate)
    if problems:
        raise error_of(problems, source)


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
