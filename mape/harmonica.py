"""Importing a Harmonica policy (JSON) into this app's TOML policy format.

Harmonica described a policy as a boundary on one quality attribute plus tactics::

    {"policy_id": "reg_harmone_score", "quality_attribute": "score",
     "adaptation_boundary": {"type": "STATIC_THRESHOLD", "condition": "LESS_THAN",
                             "threshold": 0.78},
     "tactics": [{"tactic_id": "execute_mape_plan", ...}],
     "secondary_boundaries": [{"quality_attribute": "kl_div", "condition": "GREATER_THAN",
                               "threshold": 0.1, "tactic_id": "handle_data_drift"}]}

The mapping: the primary boundary becomes ``[switch].min_score`` (``score`` keeps the energy term,
``r2_score``/``confidence`` make it quality only, ``beta = 1``); ``execute_mape_plan`` is HarmonE's
full plan (switching and drift handling), ``switch_model*`` switching alone, no tactic no
adaptation (a single model, named by a ``*_single_<model>`` id); a ``kl_div`` secondary boundary
sets the drift detector's threshold. Dashboard-only fields (``associated_qas``, endpoints,
priorities) have no meaning here and are listed as notes. Anything else is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mape.policy import PolicyError

ENGINE_MODELS = {"regression": ("linear", "svm", "lstm"), "vision": ("yolo_n", "yolo_s", "yolo_m")}
QUALITY_ONLY = ("r2_score", "r2", "confidence")
FULL_PLAN = ("execute_mape_plan",)
SWITCH_ONLY = ("switch_model", "switch_model_r2_baseline", "switch_model_confidence_baseline")
DRIFT_TACTICS = {
    "handle_data_drift": "reuse_or_retrain",
    "retrain_model": "retrain",
    "retrain": "retrain",
}
IGNORED = ("associated_qas", "description", "version")


@dataclass
class Imported:
    """The policy in this app's terms: a preset to start from, dotted changes, and notes."""

    name: str
    base: str
    changes: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _engine(policy_id: str, quality: str) -> str:
    if policy_id.startswith("cv_") or quality == "confidence":
        return "vision"
    return "regression"


def _threshold(boundary: Any, where: str) -> tuple[str, float]:
    if not isinstance(boundary, Mapping):
        raise PolicyError(f"{where}: must be an object with condition and threshold")
    kind = boundary.get("type", "STATIC_THRESHOLD")
    if kind != "STATIC_THRESHOLD" or boundary.get("dynamic_logic"):
        raise PolicyError(
            f"{where}.type: only STATIC_THRESHOLD boundaries can be imported, got {kind!r}"
        )
    condition = boundary.get("condition")
    if condition not in ("LESS_THAN", "GREATER_THAN"):
        raise PolicyError(
            f"{where}.condition: must be LESS_THAN or GREATER_THAN, got {condition!r}"
        )
    value = boundary.get("threshold")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{where}.threshold: must be a number, got {value!r}")
    return condition, float(value)


def from_harmonica(data: Any, source: str) -> Imported:
    """Translate Harmonica JSON (already parsed); :class:`PolicyError` names the offending field.

    >>> p = from_harmonica({"policy_id": "reg_switch_r2", "quality_attribute": "r2_score",
    ...     "adaptation_boundary": {"condition": "LESS_THAN", "threshold": 0.7},
    ...     "tactics": [{"tactic_id": "switch_model_r2_baseline"}]}, "x.json")
    >>> p.base, p.changes["switch.min_score"], p.changes["score.beta"]
    ('switch', 0.7, 1.0)
    """
    if not isinstance(data, Mapping):
        raise PolicyError(f"{source}: a Harmonica policy is a JSON object")
    policy_id = data.get("policy_id")
    if not isinstance(policy_id, str) or not policy_id:
        raise PolicyError(f"{source}: policy_id: missing or not a string")
    quality = str(data.get("quality_attribute", "score"))
    engine = _engine(policy_id, quality)
    out = Imported(name=policy_id.replace("_", "-"), base="harmone")
    notes = out.notes
    tactics = data.get("tactics") or []
    if not isinstance(tactics, list):
        raise PolicyError(f"{source}: tactics: must be a list")
    ids = [str(t.get("tactic_id") or "") for t in tactics if isinstance(t, Mapping)]
    active = [t for t in ids if t]
    unknown = [t for t in active if t not in FULL_PLAN + SWITCH_ONLY]
    if unknown:
        raise PolicyError(
            f"{source}: tactics.tactic_id: unknown tactic {unknown[0]!r}"
            f" (known: {', '.join(FULL_PLAN + SWITCH_ONLY)})"
        )
    condition, threshold = _threshold(
        data.get("adaptation_boundary"), f"{source}: adaptation_boundary"
    )
    models = ENGINE_MODELS[engine]
    if not active:
        single = next((m for m in models if policy_id.endswith(f"_single_{m}")), models[-1])
        out.base = f"single-{single}"
        out.changes.update({"engine": engine, "models": [single], "start_model": single})
        notes.append(
            f"no tactic: {single} alone, no adaptation (boundary {condition} {threshold} unused)"
        )
    else:
        if condition != "LESS_THAN":
            raise PolicyError(
                f"{source}: adaptation_boundary.condition: switching acts when {quality} falls"
                " below the threshold; use LESS_THAN"
            )
        out.base = "harmone" if active[0] in FULL_PLAN else "switch"
        out.changes.update(
            {"engine": engine, "models": list(models), "switch.min_score": threshold}
        )
        out.changes["start_model"] = models[-1]
        if quality in QUALITY_ONLY:
            out.changes["score.beta"] = 1.0
            notes.append(f"{quality}: the score is quality alone (beta = 1)")
        elif quality != "score":
            raise PolicyError(f"{source}: quality_attribute: {quality!r} cannot be imported")
        if engine != "regression":
            out.changes["score.initial"] = {}
    _secondary(data.get("secondary_boundaries") or [], source, out)
    for key in data:
        if key in IGNORED:
            notes.append(f"{key}: dashboard-only, not imported")
    out.changes["name"] = out.name
    out.changes["description"] = f"imported from Harmonica policy {policy_id}"
    return out


def _secondary(boundaries: Any, source: str, out: Imported) -> None:
    if not isinstance(boundaries, list):
        raise PolicyError(f"{source}: secondary_boundaries: must be a list")
    for i, b in enumerate(boundaries):
        where = f"{source}: secondary_boundaries[{i}]"
        if not isinstance(b, Mapping):
            raise PolicyError(f"{where}: must be an object")
        attribute = b.get("quality_attribute")
        if attribute != "kl_div":
            raise PolicyError(
                f"{where}.quality_attribute: only kl_div can be imported, got {attribute!r}"
            )
        condition, threshold = _threshold(b, where)
        if condition != "GREATER_THAN":
            raise PolicyError(f"{where}.condition: drift is KL above a threshold; use GREATER_THAN")
        tactic = b.get("tactic_id")
        if tactic not in DRIFT_TACTICS:
            raise PolicyError(
                f"{where}.tactic_id: unknown drift tactic {tactic!r}"
                f" (known: {', '.join(DRIFT_TACTICS)})"
            )
        out.changes.update(
            {
                "drift.enabled": True,
                "drift.detector": "kl",
                "drift.threshold": threshold,
                "drift.on_drift": DRIFT_TACTICS[tactic],
            }
        )
        out.notes.append(
            f"kl_div > {threshold}: KL drift (shared bin edges), on_drift = {DRIFT_TACTICS[tactic]}"
        )
