"""What the energy ledger says at one moment: an immutable report, and its JSON (the ``energy``
block of a run's summary, stored with the run).

Base units only (J, CPU-seconds, gCO2e), the unit in every key; screens format them with
:mod:`harmone_tui.units`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harmone_tui.carbon import CarbonFactors

STAGES = ("inference", "mape", "drift", "training", "store", "frontend", "startup", "other")
STAGE_HELP = {
    "inference": "the active model's predict calls, per model and version",
    "mape": "MAPE cycles (monitor, plan, execute) and feeding their windows",
    "drift": "drift checks (the detector's statistic over its windows)",
    "training": "first-use training and retraining, per version: the trainer worker process,"
    " and light models trained in a thread of the run",
    "store": "knowledge-store writes: step rows (writer thread), events, run records",
    "frontend": "TUI rendering and input, or headless progress lines",
    "startup": "before the first step, what no other stage claimed: imports, reading the data,"
    " loading and calibrating the models",
    "other": "the rest: the stream, model loading on a switch, the event loop (and, with RAPL,"
    " everything else on the package)",
}
IN_PROCESS, IN_WORKER = "in-process", "worker"  # where a version was trained
RELATIVE_TOLERANCE = 0.01  # attributed stages may exceed the total by 1% of it ...
CPU_TOLERANCE_S = 0.02  # ... or by 20 ms of CPU time, whichever is larger (clock granularity)


def per_inference_j(summary: dict[str, Any]) -> float | None:
    """A stored summary's inference joules per step (older summaries kept millijoules).

    >>> per_inference_j({"energy_mj_per_inference": 2.0}), per_inference_j({})
    (0.002, None)
    """
    if summary.get("energy_j_per_inference") is not None:
        return float(summary["energy_j_per_inference"])
    old = summary.get("energy_mj_per_inference")
    return None if old is None else float(old) / 1000.0


@dataclass(frozen=True)
class InferenceItem:
    """Inference by one model version: steps run and what they cost."""

    model: str
    version: int
    steps: int
    cpu_s: float
    energy_j: float


@dataclass(frozen=True)
class TrainingItem:
    """One version trained in the run and its training's CPU time and energy."""

    model: str
    version: int
    origin: str  # "first use" or "retrain" (or the reason a tool gave)
    cpu_s: float
    energy_j: float
    where: str = IN_WORKER  # IN_WORKER (the trainer worker) or IN_PROCESS (a thread of the run)


@dataclass(frozen=True)
class LedgerReport:
    """Every joule of the process and its worker, by stage; ``stages_j`` sums to ``total_j``."""

    source: str
    j_per_cpu_s: float
    total_j: float
    process_cpu_s: float
    worker_cpu_s: float
    stages_j: dict[str, float]
    stages_cpu_s: dict[str, float]
    inference: tuple[InferenceItem, ...]
    training: tuple[TrainingItem, ...]
    excess_j: float
    carbon: CarbonFactors

    @property
    def attributed_j(self) -> float:
        """Joules of every stage but ``other``."""
        return sum(j for stage, j in self.stages_j.items() if stage != "other")

    @property
    def tolerance_j(self) -> float:
        return max(RELATIVE_TOLERANCE * self.total_j, CPU_TOLERANCE_S * self.j_per_cpu_s)

    @property
    def reconciled(self) -> bool:
        """Whether the attributed stages stay within the total (up to the tolerance)."""
        return self.excess_j <= self.tolerance_j

    @property
    def carbon_g(self) -> float:
        return self.carbon.grams(self.total_j)

    @property
    def inference_steps(self) -> int:
        return sum(item.steps for item in self.inference)

    def per_inference_j(self, include_all: bool = False) -> float | None:
        """Inference joules per step, or (``include_all``) the whole total per step."""
        steps = self.inference_steps
        if not steps:
            return None
        return (self.total_j if include_all else self.stages_j["inference"]) / steps

    def by_model(self) -> dict[str, float]:
        """Inference joules per model, over its versions."""
        out: dict[str, float] = {}
        for item in self.inference:
            out[item.model] = out.get(item.model, 0.0) + item.energy_j
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for a CSV or JSON Lines export (same columns in every row): one per stage
        (``item`` = "stage"), then one per inference model version and per trained version
        (their joules are inside their stage's row, not added to it)."""
        grams = self.carbon.grams
        base = {"model": None, "version": None, "origin": None, "steps": None}
        out = [
            {
                "item": "stage",
                "stage": stage,
                **base,
                "energy_j": self.stages_j[stage],
                "cpu_s": self.stages_cpu_s[stage],
                "carbon_g": grams(self.stages_j[stage]),
            }
            for stage in STAGES
        ]
        out += [
            {
                "item": "model_version",
                "stage": "inference",
                **base,
                "model": i.model,
                "version": i.version,
                "steps": i.steps,
                "energy_j": i.energy_j,
                "cpu_s": i.cpu_s,
                "carbon_g": grams(i.energy_j),
            }
            for i in self.inference
        ]
        out += [
            {
                "item": "trained_version",
                "stage": "training",
                **base,
                "model": t.model,
                "version": t.version,
                "origin": t.origin,
                "energy_j": t.energy_j,
                "cpu_s": t.cpu_s,
                "carbon_g": grams(t.energy_j),
            }
            for t in self.training
        ]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The summary's ``energy`` block."""
        grams = self.carbon.grams
        return {
            "source": self.source,
            "j_per_cpu_s": self.j_per_cpu_s,
            "energy_j": self.total_j,
            "carbon_g": self.carbon_g,
            "cpu_s": self.process_cpu_s + self.worker_cpu_s,
            "process_cpu_s": self.process_cpu_s,
            "worker_cpu_s": self.worker_cpu_s,
            "energy_j_per_inference": self.per_inference_j(),
            "energy_j_per_inference_all_stages": self.per_inference_j(include_all=True),
            "stages": {
                stage: {
                    "energy_j": self.stages_j[stage],
                    "cpu_s": self.stages_cpu_s[stage],
                    "carbon_g": grams(self.stages_j[stage]),
                }
                for stage in STAGES
            },
            "inference": [
                {
                    "model": i.model,
                    "version": i.version,
                    "steps": i.steps,
                    "cpu_s": i.cpu_s,
                    "energy_j": i.energy_j,
                    "energy_j_per_inference": i.energy_j / i.steps if i.steps else None,
                    "carbon_g": grams(i.energy_j),
                }
                for i in self.inference
            ],
            "training": [
                {
                    "model": t.model,
                    "version": t.version,
                    "origin": t.origin,
                    "where": t.where,
                    "cpu_s": t.cpu_s,
                    "energy_j": t.energy_j,
                    "carbon_g": grams(t.energy_j),
                }
                for t in self.training
            ],
            "reconciliation": {
                "attributed_j": self.attributed_j,
                "other_j": self.stages_j["other"],
                "excess_j": self.excess_j,
                "tolerance_j": self.tolerance_j,
                "reconciled": self.reconciled,
            },
            "carbon": self.carbon.to_dict(),
        }
