"""Typed payloads of both APIs (pydantic): they validate requests, name the bad field, and make
the OpenAPI description at ``/openapi.json``.

Harmonica's models accept the keys its dashboard adds (``associated_qas``, ``description``...)
and give them back unchanged; harmone's ``/v1`` models refuse unknown keys, so a typo is an
error instead of a silently ignored field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harmone_tui.serve.harmonica_rules import Boundary, HarmonicaPolicy, Tactic, dynamic_factor

SYSTEM_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_BATCH = 10_000


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) > 2048:
        raise ValueError("must be an http:// or https:// URL")
    return value


class HarmonicaTactic(BaseModel):
    model_config = ConfigDict(extra="allow")
    tactic_id: str = Field(min_length=1, max_length=128)
    priority: int = 1
    tactic_type: str = "CORE"
    tactic_endpoint: str

    _check_url = field_validator("tactic_endpoint")(_url)


class HarmonicaBoundary(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    type: Literal["STATIC_THRESHOLD"] = "STATIC_THRESHOLD"
    condition: Literal["LESS_THAN", "GREATER_THAN"]
    threshold: float
    dynamic_logic: str | None = Field(None, description='"historic_avg * <factor>"')


class HarmonicaSecondary(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    quality_attribute: str = Field(min_length=1)
    condition: Literal["LESS_THAN", "GREATER_THAN"]
    threshold: float
    tactic_id: str = Field(min_length=1, max_length=128)


class HarmonicaPolicyIn(BaseModel):
    """Harmonica's policy JSON, as its dashboard posts it and its policies/*.json hold it."""

    model_config = ConfigDict(extra="allow")
    policy_id: str = Field(pattern=SYSTEM_ID)
    quality_attribute: str = Field(min_length=1, max_length=128)
    adaptation_boundary: HarmonicaBoundary
    tactics: list[HarmonicaTactic] = Field(default_factory=list, max_length=64)
    secondary_boundaries: list[HarmonicaSecondary] = Field(default_factory=list, max_length=64)
    associated_qas: list[str] = Field(default_factory=list)


def to_policy(body: Mapping[str, Any]) -> HarmonicaPolicy:
    """A policy JSON (as stored or posted) in evaluation form; ValueError for a bad
    ``dynamic_logic`` (pydantic's ValidationError, a ValueError too, for the rest)."""
    p = HarmonicaPolicyIn.model_validate(body)
    b = p.adaptation_boundary
    factor = dynamic_factor(b.dynamic_logic)
    return HarmonicaPolicy(
        p.policy_id,
        Boundary(p.quality_attribute, b.condition, b.threshold, factor=factor),
        tuple(Tactic(t.tactic_id, t.priority, t.tactic_endpoint) for t in p.tactics),
        tuple(
            Boundary(s.quality_attribute, s.condition, s.threshold, s.tactic_id)
            for s in p.secondary_boundaries
        ),
        dict(body),
    )


class StepIn(BaseModel):
    """One inference of the managed system."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    prediction: float
    truth: float | None = Field(None, description="the true value, when known (None: not yet)")
    model: str = Field(min_length=1, max_length=64)
    version: int = Field(1, ge=0)
    energy_uj: float = Field(0.0, ge=0, description="energy of this inference in µJ")
    latency_ms: float = Field(0.0, ge=0)
    drift: float | None = Field(None, description="what the drift detector sees (default: truth)")


class TelemetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[StepIn] = Field(min_length=1, max_length=MAX_BATCH)
    first_step: int | None = Field(
        None,
        ge=0,
        description="step of records[0]: a batch sent again after a lost answer"
        " is taken once (records the server already has are skipped)",
    )


class SystemIn(BaseModel):
    """Register (or re-register) a managed system. Give ``policy`` (TOML text) or ``preset``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    endpoint: str | None = Field(None, description="adaptor URL that receives tactics (POST)")
    policy: str | None = Field(None, max_length=65_536, description="policy TOML text")
    preset: str | None = Field(None, description="or the name of a preset policy")
    quality: Literal["r2", "mean_prediction"] = "r2"
    energy_profile_uj: dict[str, float] | None = Field(
        None, description="mean energy per call of each model (µJ); default: learnt"
    )

    _check_url = field_validator("endpoint")(lambda v: v if v is None else _url(v))


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    toml: str = Field(max_length=65_536)


class TelemetryFiled(BaseModel):
    """The answer to a Harmonica record: where it was filed and which tactics it fired."""

    status: str
    filed_under: list[str]
    tactics: list[str]
    coalesced: list[str]


class Decision(BaseModel):
    step: int
    kind: str
    text: str
    delivery_id: int | None = None


class TelemetryAck(BaseModel):
    system_id: str
    accepted: int
    step: int
    decisions: list[Decision]


class SystemOut(BaseModel):
    system_id: str
    kind: Literal["v1", "harmonica"]
    run_id: int
    endpoint: str | None
    policy: str
    records: int
    status: dict[str, Any]
    deliveries: dict[str, int]


class EventOut(BaseModel):
    id: int
    step: int
    ts: float
    kind: str
    text: str
    detail: dict[str, Any]


class DeliveryOut(BaseModel):
    id: int
    step: int
    tactic_id: str
    endpoint: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    coalesced: int
    http_status: int | None
    answer: str | None
    trigger_metric: str | None
    trigger_value: float | None
    created_at: float
    updated_at: float


class SeriesOut(BaseModel):
    """Recent figures for sparklines: (step, quality, energy) points, oldest first."""

    system_id: str
    quality_label: str
    energy_label: str
    points: list[tuple[int, float | None, float | None]]


class Problem(BaseModel):
    """Every 4xx/5xx answer: one line naming the field, and where it is."""

    error: str
    field: str | None = None
