"""Plan: which model to run, and what to do about a drift; every decision carries its reason.

Switching is HarmonE's rule with two guards it lacked. When the Analyse phase finds a need:
with probability ``explore`` try another model at random, otherwise take the model with the best
EMA (staying put if that is the active one); after an energy violation, take the best *other* model.
The guards: no switch within ``min_dwell_steps`` of the last one (Harmonica switched 490 times in
64k predictions) and none during the recovery cycles after an energy violation.

On drift, ``reuse_or_retrain`` takes the stored version, of any of the policy's models, whose
training data is closest to the recent data (KL over that version's stored histogram edges), when
it is close enough: it keeps the running version if that is the one (the data came back to what it
was trained on: a fault ended, a false alarm), reuses another one otherwise. Nothing close enough:
it retrains the active model. The running version used to be left out of the candidates, so a
return to its own regime retrained it on data it already fitted (or reused a worse version); and
only the active model's versions used to count, so a regime that came back while another model
ran was retrained again instead of reusing the version trained on it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mape.analyse import SwitchNeed
from mape.drift import kl_to_summary
from mape.effector import VersionInfo


@dataclass(frozen=True)
class Decision:
    """A switch decision: ``action`` is ``switch``, ``stay`` or ``hold`` (a guard blocked it)."""

    action: str
    model: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


def best_model(
    ema: Mapping[str, float], candidates: Sequence[str], prefer: str | None = None
) -> str:
    """The candidate with the highest EMA; ties go to ``prefer``, then to the earlier candidate.

    >>> best_model({"a": 0.8, "b": 0.9, "c": 0.9}, ["a", "b", "c"])
    'b'
    >>> best_model({"a": 0.9, "b": 0.9}, ["a", "b"], prefer="b")
    'b'
    """
    top = max(ema.get(m, float("-inf")) for m in candidates)
    if prefer in candidates and ema.get(prefer, float("-inf")) == top:
        return prefer  # type: ignore[return-value]
    return next(m for m in candidates if ema.get(m, float("-inf")) == top)


def plan_switch(
    active: str,
    models: Sequence[str],
    ema: Mapping[str, float],
    need: SwitchNeed,
    rng: random.Random,
    explore: float,
    dwell_left: int = 0,
    recovery_left: int = 0,
) -> Decision:
    """HarmonE's switching rule with dwell and recovery guards (see the module docstring).

    ``rng`` is drawn from only when a score-driven switch is allowed, so the sequence of draws,
    and with it a run, depends on the seed and the data alone.

    >>> need = SwitchNeed("score", "EMA low")
    >>> ema = {"linear": 0.9, "lstm": 0.7}
    >>> plan_switch("lstm", ["linear", "lstm"], ema, need, random.Random(1), 0.0).model
    'linear'
    >>> rng = random.Random(1)
    >>> plan_switch("lstm", ["linear", "lstm"], ema, need, rng, 0.0, dwell_left=5).action
    'hold'
    """
    if need.cause is None:
        return Decision("stay", active, need.message)
    if recovery_left > 0:
        return Decision(
            "hold",
            active,
            f"{need.message}; recovering from an energy violation ({recovery_left} cycles left)",
        )
    if dwell_left > 0:
        return Decision("hold", active, f"{need.message}; dwell: {dwell_left} steps left")
    others = [m for m in models if m != active]
    if not others:
        return Decision("stay", active, f"{need.message}; no other model in the policy")
    scores = {m: round(float(ema[m]), 4) for m in models if m in ema}
    if need.cause == "energy":
        target = best_model(ema, others)
        return Decision(
            "switch",
            target,
            f"{need.message}: best other model by EMA",
            {"cause": "energy", "ema": scores},
        )
    if rng.random() < explore:
        target = others[rng.randrange(len(others))]
        return Decision(
            "switch",
            target,
            f"{need.message}: exploring (probability {explore})",
            {"cause": "explore", "ema": scores},
        )
    target = best_model(ema, list(models), prefer=active)
    if target == active:
        return Decision("stay", active, f"{need.message}, but {active} still has the best EMA")
    return Decision(
        "switch",
        target,
        f"{need.message}: {target} has the best EMA ({ema[target]:.3f})",
        {"cause": "score", "ema": scores},
    )


@dataclass(frozen=True)
class DriftPlan:
    """What to do about a drift: ``reuse`` (``model`` v``version``), ``keep`` (the running version
    fits), ``retrain``, ``alert`` or ``ignore``."""

    action: str
    reason: str
    version: int | None = None
    distances: dict[str, float] = field(default_factory=dict)
    model: str | None = None


def version_distances(
    values: Sequence[float] | np.ndarray, versions: Sequence[VersionInfo]
) -> dict[tuple[str, int], float]:
    """KL of ``values`` against each version's training-data histogram (versions with a summary).

    O(len(values) + versions x bins): the data behind a version is never reloaded.
    """
    out: dict[tuple[str, int], float] = {}
    for v in versions:
        if v.summary is not None and v.summary.hist:
            out[(v.model, v.version)] = kl_to_summary(values, v.summary.edges, v.summary.hist)
    return out


def plan_drift(
    on_drift: str,
    running: tuple[str, int],
    values: Sequence[float] | np.ndarray,
    versions: Sequence[VersionInfo],
    reuse_threshold: float,
    ema: Mapping[str, float] | None = None,
) -> DriftPlan:
    """The drift tactic of a policy applied to the stored versions of the policy's models.

    The candidate is the version trained on the data closest to the recent data, of any model:
    a version retrained on a regime comes back when the regime does, whichever model runs then.
    Ties (versions trained on the same data, such as every model's first version) go to the
    running version, then the running model, then the best EMA, then the newest version.

    >>> from engines.base import DataSummary
    >>> low = DataSummary.of([0.0] * 50 + [1.0] * 50, [0.0, 1.0, 2.0, 3.0])
    >>> high = DataSummary.of([2.5] * 100, [0.0, 1.0, 2.0, 3.0])
    >>> vs = [VersionInfo("m", 1, low, "first"), VersionInfo("m", 2, high, "drift")]
    >>> p = plan_drift("reuse_or_retrain", ("m", 2), [0.2, 0.7, 1.5, 0.1], vs, 0.75)
    >>> p.action, p.model, p.version
    ('reuse', 'm', 1)
    >>> plan_drift("reuse_or_retrain", ("m", 1), [0.2, 0.7, 1.5, 0.1], vs, 0.75).action
    'keep'
    >>> plan_drift("reuse_or_retrain", ("m", 1), [2.4, 2.6, 2.5], vs, 0.75).action  # v2 fits
    'reuse'
    >>> plan_drift("reuse_or_retrain", ("m", 2), [0.2, 0.1, 0.3], vs[1:], 0.75).action
    'retrain'
    >>> other = [VersionInfo("k", 1, low, "first"), *vs[1:]]   # k runs; m v2 fits
    >>> p = plan_drift("reuse_or_retrain", ("k", 1), [2.4, 2.6, 2.5], other, 0.75)
    >>> p.action, p.model, p.version
    ('reuse', 'm', 2)
    """
    if on_drift in ("ignore", "alert"):
        return DriftPlan(on_drift, f"on_drift = {on_drift!r}")
    if on_drift == "retrain":
        return DriftPlan("retrain", "on_drift = 'retrain'")
    if len(values) == 0:
        return DriftPlan("retrain", "no recent values to compare with stored versions")
    distances = version_distances(values, versions)
    shown = {f"{m} v{v}": round(d, 4) for (m, v), d in distances.items()}
    if not distances:
        return DriftPlan("retrain", "no stored version with a data summary", None, shown)
    scores = ema or {}
    best = min(
        distances,
        key=lambda mv: (
            distances[mv],
            mv != running,
            mv[0] != running[0],
            -scores.get(mv[0], float("-inf")),
            -mv[1],
        ),
    )
    name = f"{best[0]} v{best[1]}"
    kl = f"KL {distances[best]:.3f}"
    if distances[best] < reuse_threshold and best == running:
        return DriftPlan(
            "keep",
            f"the running {name} was trained on the closest data ({kl} <"
            f" reuse_threshold {reuse_threshold})",
            best[1],
            shown,
            best[0],
        )
    if distances[best] < reuse_threshold:
        return DriftPlan(
            "reuse",
            f"{name} was trained on the closest data ({kl} < reuse_threshold {reuse_threshold})",
            best[1],
            shown,
            best[0],
        )
    return DriftPlan(
        "retrain",
        f"closest stored version {name} is too far ({kl} >= reuse_threshold {reuse_threshold})",
        None,
        shown,
    )


def plan_untrainable(
    model: str, untrainable: str, trainable: Sequence[str], ema: Mapping[str, float]
) -> Decision:
    """What to do when ``model``, which has no trainer, would be retrained (policy key
    ``retrain.untrainable``): ``skip`` keeps it as it is; ``switch`` runs the trainable model of
    the policy with the best EMA instead (it is retrained at the next drift), or skips when the
    policy has none.

    >>> plan_untrainable("mine", "switch", ["linear", "svm"], {"linear": 0.7, "svm": 0.8}).model
    'svm'
    >>> plan_untrainable("mine", "switch", [], {}).action
    'skip'
    """
    if untrainable == "switch" and trainable:
        target = best_model(ema, list(trainable))
        return Decision(
            "switch",
            target,
            f"{model} has no trainer (untrainable = 'switch'): {target}, the trainable model"
            " with the best EMA, takes over",
        )
    why = "untrainable = 'skip'" if untrainable == "skip" else "no trainable model in the policy"
    return Decision("skip", model, f"{model} has no trainer: not retrained ({why})")
