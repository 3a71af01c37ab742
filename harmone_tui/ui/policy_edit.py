"""The policy editor's model, without Textual: fields, parsing what is typed, validation.

Every field, its help and its choices come from the policy schema (:mod:`mape.policy_fields`), so
a field the MAPE code adds shows up in the editor with its help by itself. A typed value is parsed
by the field's kind, checked by the field's own rule (the message is the one ``harmone policy
check`` prints), then the whole policy is built with :func:`mape.policy.policy_from_mapping`,
which adds the cross-field checks. Applying and saving edit the policy's TOML through
:class:`mape.policy_doc.PolicyDocument` with :func:`changes`, so comments and key order survive.

>>> f = Field("switch", "min_score", 0.78)
>>> f.kind, f.parse("0.7"), f.show(0.7), f.help
('number', 0.7, '0.7', "switch when the active model's EMA falls below")
>>> Field("", "models", ("a", "b")).parse("a, b, c")
['a', 'b', 'c']
>>> changes({"seed": 8, "models": ("a",)}, {"seed": 7, "models": ["a"]})
{'seed': 8}
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from mape import policy as P
from mape.policy_fields import FieldInfo
from mape.policy_fields import policy_fields as schema_fields


@cache
def _infos() -> dict[str, FieldInfo]:
    return {info.path: info for info in schema_fields()}


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
    def info(self) -> FieldInfo:
        """The schema's entry for this key: help, range, rule and choices."""
        return _infos()[self.path]

    @property
    def options(self) -> tuple[str, ...]:
        return self.info.options

    @property
    def kind(self) -> str:
        """How the value is typed: number, text, choice, bool, list, table or auto_number."""
        if self.options:
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
        return self.info.help

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
                raise ValueError(
                    "write model = score pairs, e.g. linear = 0.75, lstm = 0.82"
                ) from None
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
        """The schema rule of this key (the same message as ``harmone policy check``)."""
        return self.info.rule(value)


def policy_fields() -> list[Field]:
    """Every field of every section, in schema order, with the dataclass defaults."""
    return [Field(info.section, info.key, info.default) for info in schema_fields()]


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


def same_value(a: Any, b: Any) -> bool:
    """Equal as policy values: a tuple equals a list, a mapping a dict."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return list(a) == list(b)
    if hasattr(a, "items") and hasattr(b, "items"):
        return dict(a) == dict(b)
    return bool(a == b)


def changes(values: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """The edited ``values`` that differ from the ``original`` policy's: what an edit writes into
    the TOML (an untouched default stays implicit, as the user wrote the file)."""
    return {
        path: value
        for path, value in values.items()
        if value is not None and not same_value(value, original.get(path))
    }
