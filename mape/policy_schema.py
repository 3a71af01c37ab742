"""The policy's fields: each with its default, the rule its value must follow and one line of help.

Everything a person needs to know about a field sits on the field itself (dataclass metadata), so
the validator (:mod:`mape.policy`), the TUI editor, ``harmone policy show --explain`` and
docs/policy.md all read the same words, and a field added here without help or rule fails at
import. The dataclasses are frozen: a running loop swaps a whole policy, never edits one.

>>> SCHEMA["drift"]["settle_steps"](-1)
'must be >= 0, got -1'
>>> field_help(DriftPolicy, "settle_steps")
'act this many steps after a drift, on new-regime data only'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from typing import Any

from mape import checks as C
from mape.names import name_problem
from mape.river_params import SCHEMA as RIVER_PARAMS

DETECTORS = ("kl", "adwin", "kswin", "page_hinkley")
ON_DRIFT = ("reuse_or_retrain", "retrain", "alert", "ignore")
AFTER_DRIFT = ("clear", "slide")  # drift.after_drift: see mape.drift.KLDetector
DRIFT_INPUTS = ("truth", "error")
UNTRAINABLE = ("skip", "switch")  # retrain.untrainable: see mape.plan.plan_untrainable
SERVING = ("fast", "framework")  # how models are called: see Policy.serving
ON_ERROR = ("builtin", "stay")  # when a custom MAPE call fails: see MapePolicy.on_error


def spec(default: Any, rule: C.Rule, help: str) -> Any:
    """A policy field: its ``default``, the ``rule`` its value follows and one line of ``help``."""
    meta = {"rule": rule, "help": help}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


def _ceiling(v: Any) -> str | None:
    return None if v == "auto" else C.number(lo=0.0)(v)


def _initial(v: Any) -> str | None:
    if not isinstance(v, Mapping):
        return f"must be a table of model = score, got {v!r}"
    for k, s in v.items():
        problem = C.number(0.0, 1.0)(s)
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


NAME = C.Rule(name_problem, "letters, digits, _ . + - (at most 64, no '..')")
ENGINE = C.Rule(C.text.test, "regression | vision | a plug-in engine's name")
MODELS = C.Rule(_models, "non-empty list of the engine's models, none twice")
START = C.Rule(C.text.test, "one of models")
CEILING = C.Rule(_ceiling, '"auto" or >= 0')
INITIAL = C.Rule(_initial, "model = 0 to 1, for models in models")
PARAMS = C.Rule(
    _params,
    "per detector: " + "; ".join(f"{d}: {', '.join(keys)}" for d, keys in RIVER_PARAMS.items()),
)


@dataclass(frozen=True)
class ScorePolicy:
    beta: float = spec(0.95, C.number(0.0, 1.0), "S = beta*quality + (1-beta)*(1-E_norm)")
    energy_floor_uj: float = spec(0.0, C.number(lo=0.0), "E_norm = 0 at or below this energy (µJ)")
    energy_ceiling_uj: float | str = spec(
        "auto", CEILING, "E_norm = 1 at this energy (µJ); auto = costliest model measured"
    )
    ema_weight: float = spec(0.8, C.number(0.0, 1.0), "EMA <- w*S + (1-w)*EMA, active model only")
    initial: Mapping[str, float] = spec(
        {}, INITIAL, "starting EMA per model, e.g. linear = 0.75, lstm = 0.82"
    )


@dataclass(frozen=True)
class SwitchPolicy:
    every_steps: int = spec(267, C.period(1), "MAPE cycle period in steps")
    window_steps: int = spec(267, C.window(2), "quality window (rows of the active model only)")
    min_score: float = spec(
        0.78, C.number(-1.0, 1.0), "switch when the active model's EMA falls below"
    )
    explore: float = spec(0.1, C.number(0.0, 1.0), "probability of trying another model")
    energy_budget: float = spec(
        1.0, C.number(0.0, 1.0), "budget on E_norm; violation starts recovery cycles"
    )
    recovery_cycles: int = spec(
        3, C.period(0), "cycles without switching after an energy violation"
    )
    min_dwell_steps: int = spec(267, C.period(0), "no switch back within this many steps")
    enabled: bool = spec(True, C.boolean, "false: never switch models")


@dataclass(frozen=True)
class DriftPolicy:
    detector: str = spec(
        "kl", C.choice(DETECTORS), "kl: shared-edge histograms; others: river's detectors"
    )
    input: str = spec(
        "truth", C.choice(DRIFT_INPUTS), "what the detector watches: true values or |error|"
    )
    window: int = spec(1200, C.window(10), "current vs previous window of true values")
    bins: int = spec(50, C.number(2, 1000, integer=True), "KL histogram bins over both windows")
    threshold: float = spec(0.75, C.number(lo=0.0), "drift when the statistic exceeds this")
    every_steps: int = spec(20, C.period(1), "drift check period in steps")
    warmup_steps: int = spec(2667, C.period(0), "no drift checks before this step")
    cooldown_steps: int = spec(
        2667, C.period(0), "within this many steps of the last drift, only reuse (no retrain)"
    )
    on_drift: str = spec(
        "reuse_or_retrain", C.choice(ON_DRIFT), "what a drift does: reuse/retrain, log, nothing"
    )
    reuse_threshold: float = spec(
        0.75, C.number(lo=0.0), "reuse the closest stored version if its distance is below"
    )
    enabled: bool = spec(True, C.boolean, "false: no drift detection")
    settle_steps: int = spec(
        0, C.period(0), "act this many steps after a drift, on new-regime data only"
    )
    after_drift: str = spec(
        "clear",
        C.choice(AFTER_DRIFT),
        "kl, after a drift: clear both windows | slide (keep the newer one)",
    )
    params: Mapping[str, Any] = spec(
        {}, PARAMS, "river detector parameters, e.g. delta = 0.002 for adwin"
    )


@dataclass(frozen=True)
class RetrainPolicy:
    window: int = spec(1200, C.window(20), "retrain on the last N true values")
    every_steps: int = spec(0, C.period(0), "> 0: periodic retraining")
    delay_steps: int = spec(267, C.period(0), "steps between starting a retrain and swapping it in")
    untrainable: str = spec(
        "skip",
        C.choice(UNTRAINABLE),
        "model with no trainer (imported, naive): skip retrain | switch to best",
    )


@dataclass(frozen=True)
class MapePolicy:
    # A Harmonica user's monitor.py, analyse.py, plan.py, execute.py (docs/custom-mape.md).
    custom: str = spec(
        "", C.text, "dir of Harmonica MAPE files that decide; empty: built-in plan; next run"
    )
    timeout_s: float = spec(
        10.0, C.number(0.1, 3600.0), "seconds one call into the custom code may take"
    )
    on_error: str = spec(
        "builtin", C.choice(ON_ERROR), "a failed custom call: builtin plan decides, or stay"
    )
    max_failures: int = spec(
        3,
        C.number(0, 1000, integer=True),
        "failed cycles in a row that end the custom code; 0: never",
    )


@dataclass(frozen=True)
class Policy:
    name: str = spec("harmone", NAME, "policy name; also the file name when saved")
    engine: str = spec("regression", ENGINE, "the managed system this policy runs")
    models: tuple[str, ...] = spec(
        ("linear", "svm", "lstm"), MODELS, "models the loop may run, comma-separated"
    )
    start_model: str = spec("lstm", START, "model active at step 0")
    seed: int = spec(
        7, C.number(0, C.MAX_SEED, integer=True), "random seed (exploration, training)"
    )
    description: str = spec("", C.text, "one line shown by `harmone policy list`")
    # "fast": each model through its cheapest exact path (a dot product, ONNX Runtime), so its
    # energy per inference is the model's; "framework": through scikit-learn / Keras, as trained.
    serving: str = spec(
        "fast", C.choice(SERVING), "fast (same answers, less CPU) | framework; from next run"
    )
    # the [tables], each with one line of help for the docs
    score: ScorePolicy = field(
        default_factory=ScorePolicy, metadata={"help": "the score S that ranks models, and its EMA"}
    )
    switch: SwitchPolicy = field(
        default_factory=SwitchPolicy,
        metadata={"help": "when to leave the active model, and for which"},
    )
    drift: DriftPolicy = field(
        default_factory=DriftPolicy, metadata={"help": "drift detection, and what a drift triggers"}
    )
    retrain: RetrainPolicy = field(
        default_factory=RetrainPolicy,
        metadata={"help": "retraining: light models in a thread, the rest in a worker process"},
    )
    mape: MapePolicy = field(
        default_factory=MapePolicy,
        metadata={"help": "who decides: harmone's plan, or a Harmonica user's MAPE files"},
    )

    def with_values(self, **changes: Any) -> Policy:
        return replace(self, **changes)


SECTION_TYPES: dict[str, type] = {
    "score": ScorePolicy,
    "switch": SwitchPolicy,
    "drift": DriftPolicy,
    "retrain": RetrainPolicy,
    "mape": MapePolicy,
}


def keys(holder: type) -> list[Field[Any]]:
    """The value fields of ``holder`` (a section's dataclass, or Policy without its sections)."""
    return [f for f in fields(holder) if f.name not in SECTION_TYPES or holder is not Policy]


SCHEMA: dict[str, dict[str, C.Rule]] = {
    section_name: {f.name: f.metadata["rule"] for f in keys(holder)}
    for section_name, holder in {"": Policy, **SECTION_TYPES}.items()
}


def field_help(holder: type, key: str) -> str:
    """The help line of ``holder``'s field ``key``."""
    return str(next(f for f in fields(holder) if f.name == key).metadata["help"])
