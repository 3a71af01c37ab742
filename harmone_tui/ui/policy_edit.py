"""The policy editor's model, without Textual: fields, parsing what is typed, validation, saving.

Every field comes from :data:`mape.policy.SCHEMA`, so a field the MAPE code adds shows up in the
editor by itself. A typed value is parsed by the field's kind, checked by the field's own SCHEMA
check (the message is the one ``harmone policy check`` prints), then the whole policy is built with
:func:`mape.policy.policy_from_mapping`, which adds the cross-field checks. Saving edits the
original TOML text with tomlkit, so the user's comments and key order survive.

>>> f = Field("switch", "min_score", 0.78)
>>> f.kind, f.parse("0.7"), f.show(0.7)
('number', 0.7, '0.7')
>>> Field("", "models", ("a", "b")).parse("a, b, c")
['a', 'b', 'c']
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import tomlkit

from mape import policy as P
from mape.names import name_problem

CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("drift", "detector"): P.DETECTORS,
    ("drift", "on_drift"): P.ON_DRIFT,
    ("drift", "input"): getattr(P, "DRIFT_INPUTS", ("truth",)),
    ("", "serving"): P.SERVING,
}
HELP: dict[str, str] = {
    "name": "policy name; also the file name when saved",
    "models": "models the loop may run, comma-separated",
    "start_model": "model active at step 0",
    "seed": "random seed (exploration, training)",
    "serving": "fast (same answers, less CPU) | framework; from next run",
    "score.beta": "S = beta*quality + (1-beta)*(1-E_norm)",
    "score.energy_floor_uj": "E_norm = 0 at or below this energy (µJ)",
    "score.energy_ceiling_uj": "E_norm = 1 at this energy (µJ); auto = costliest model measured",
    "score.ema_weight": "EMA <- w*S + (1-w)*EMA, active model only",
    "score.initial": "starting EMA per model, e.g. linear = 0.75, lstm = 0.82",
    "switch.every_steps": "MAPE cycle period in steps",
    "switch.window_steps": "quality window (rows of the active model only)",
    "switch.min_score": "switch when the active model's EMA falls below",
    "switch.explore": "probability of trying another model",
    "switch.energy_budget": "budget on E_norm; violation starts recovery cycles",
    "switch.min_dwell_steps": "no switch back within this many steps",
    "drift.threshold": "drift when the statistic exceeds this",
    "drift.window": "current vs previous window of true values",
    "drift.warmup_steps": "no drift checks before this step",
    "drift.cooldown_steps": "no new drift within this many steps of the last",
    "drift.reuse_threshold": "reuse the closest stored version if its distance is below",
    "retrain.window": "retrain on the last N true values",
    "retrain.every_steps": "> 0: periodic retraining",
    "retrain.delay_steps": "steps between starting a retrain and swapping it in",
}


@dataclass(frozen=True)
class Field:
    """One editable key: ``section`` ('' for top level), ``key`` and its default value."""

    section: str
    key: str
    default: Any

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key

    @property
    def kind(self) -> str:
        """How the value is typed: number, text, choice, bool, list, table or auto_number."""
        if (self.section, self.key) in CHOICES:
            return "choice"
        if self.key == "energy_ceiling_uj":
            return "auto_number"
        d = self.default
        if isinstance(d, bool):
            return "bool"
        if isinstance(d, int | float):
            return "number"
        if isinstance(d, tuple | list):
            return "list"
        if isinstance(d, dict) or hasattr(d, "items"):
            return "table"
        return "text"

    @property
    def help(self) -> str:
        return HELP.get(self.path, "")

    def show(self, value: Any) -> str:
        """The text an input shows for ``value``."""
        if self.kind == "list":
            return ", ".join(str(v) for v in value)
        if self.kind == "table":
            return ", ".join(f"{k} = {v}" for k, v in dict(value).items())
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def parse(self, text: str) -> Any:
        """The value for typed ``text``; raises ValueError with a message for the user."""
        text = text.strip()
        kind = self.kind
        if kind in ("text", "choice"):
            return text
        if kind == "list":
            inner = text.strip("[]")
            return [part.strip().strip("'\"") for part in inner.split(",") if part.strip()]
        if kind == "table":
            inner = text.strip().removeprefix("{").removesuffix("}")
            try:
                return dict(tomllib.loads(f"v = {{{inner}}}")["v"])
            except tomllib.TOMLDecodeError:
                raise ValueError("write model = score pairs, e.g. linear = 0.75, lstm = 0.82") from None
        if kind == "bool":
            if text.lower() in ("true", "yes", "on", "1"):
                return True
            if text.lower() in ("false", "no", "off", "0"):
                return False
            raise ValueError("must be true or false")
        if kind == "auto_number" and text == "auto":
            return "auto"
        for convert in (int, float):
            try:
                return convert(text.replace("_", ""))
            except ValueError:
                continue
        raise ValueError(f"must be a number, got {text!r}")

    def check(self, value: Any) -> str | None:
        """The SCHEMA check of this key (the same message as ``harmone policy check``)."""
        return P.SCHEMA[self.section][self.key](value)


def policy_fields() -> list[Field]:
    """Every field of every section, in SCHEMA order, with the dataclass defaults."""
    defaults = P.policy_to_mapping(P.Policy())
    out: list[Field] = []
    for section, checks in P.SCHEMA.items():
        values = defaults if section == "" else defaults.get(section, {})
        for key in checks:
            out.append(Field(section, key, values.get(key)))
    return out


def current_values(policy: P.Policy) -> dict[str, Any]:
    """``path -> value`` of every field of ``policy``."""
    data = P.policy_to_mapping(policy)
    out = {}
    for f in policy_fields():
        holder = data if f.section == "" else data.get(f.section, {})
        out[f.path] = holder.get(f.key)
    return out


def to_mapping(values: dict[str, Any]) -> dict[str, Any]:
    """Nest ``path -> value`` into the TOML shape :func:`policy_from_mapping` reads."""
    out: dict[str, Any] = {}
    for path, value in values.items():
        if value is None:
            continue
        section, _, key = path.rpartition(".")
        (out.setdefault(section, {}) if section else out)[key] = value
    return out


def build(values: dict[str, Any], known_models: list[str] | None = None) -> P.Policy:
    """A validated Policy from edited values; raises :class:`mape.policy.PolicyError`."""
    policy = P.policy_from_mapping(to_mapping(values), "editor")
    if known_models is not None:
        P.check_models(policy, known_models, "editor")
    return policy


def render(original_text: str, values: dict[str, Any], original: dict[str, Any]) -> str:
    """The original TOML with changed keys rewritten (comments kept) and new keys added."""
    try:
        doc = tomlkit.parse(original_text)
    except Exception:
        doc = tomlkit.document()
    for path, value in values.items():
        section, _, key = path.rpartition(".")
        table: Any = doc
        if section:
            if section not in doc:
                if value == original.get(path):
                    continue
                doc[section] = tomlkit.table()
            table = doc[section]
        present = key in table
        if present and _same(table[key], value):
            continue
        if not present and value == original.get(path):
            continue  # an untouched default stays implicit, as the user wrote the file
        table[key] = value
    return tomlkit.dumps(doc)


def _same(item: Any, value: Any) -> bool:
    plain = item.unwrap() if hasattr(item, "unwrap") else item
    if isinstance(plain, list) and isinstance(value, tuple | list):
        return list(plain) == list(value)
    return bool(plain == value)


def check_name(name: str) -> str | None:
    """A problem with a policy name used as a file name, or None (mape's one rule)."""
    return name_problem(name)
