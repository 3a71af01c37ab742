"""The working copy a Harmonica user's MAPE files run in, and the knowledge files in it.

Harmonica's files find their knowledge relative to themselves (``../knowledge/``) and import each
other by bare module name, and its managed system ran them with the system folder as working
directory. The copy is laid out the same way::

    <root>/mape_logic/   the user's directory, copied (so their files are never written to)
    <root>/knowledge/    predictions.csv, model.csv, thresholds.json, mape_info.json

harmone keeps the knowledge up to date from its own run (seeds/001, shared/harmonica.md §1.4, §1.7):

- ``predictions.csv``: one row per step, Harmonica's columns ``true_value, predicted_value,
  model_used, inference_time`` (s) ``, energy`` (µJ); appended before each call into the code;
- ``model.csv``: the active model's name. The user's ``execute`` writes its choice there; harmone
  reads it after the call and writes the active model back when it does not take the choice;
- ``thresholds.json``: the policy's thresholds under Harmonica's keys, at start and on a change;
- ``mape_info.json``: created with Harmonica's initial state; afterwards the user's code owns it
  (its read pointer, EMA scores, recovery counter) and harmone updates only ``event_counters``.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harmone_common.files import write_text_atomic
from mape.policy import Policy

PREDICTION_COLUMNS = ("true_value", "predicted_value", "model_used", "inference_time", "energy")
HARMONICA_EMA = {"lstm": 0.82, "linear": 0.75, "svm": 0.79}  # mape_info.json as shipped
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", "knowledge")
MAX_MODEL_NAME = 200


def thresholds(policy: Policy, ceiling_uj: float | None) -> dict[str, float]:
    """``thresholds.json`` from a policy (HarmonE's keys; E_M is the calibrated ceiling when the
    policy says ``auto``)."""
    s, w = policy.score, policy.switch
    top = s.energy_ceiling_uj
    e_max = float(top) if not isinstance(top, str) else ceiling_uj
    return {
        "min_score": w.min_score,
        "max_energy": w.energy_budget,
        "beta": s.beta,
        "gamma": s.ema_weight,
        "alpha": w.explore,
        "E_m": s.energy_floor_uj,
        "E_M": round(e_max, 3) if e_max is not None and math.isfinite(e_max) else 25000,
    }


def initial_info(policy: Policy) -> dict[str, Any]:
    """``mape_info.json`` as Harmonica starts it, for this policy's models."""
    info: dict[str, Any] = {"last_line": 0, "current_energy_threshold": 1}
    info.update({f"{m}_version": 1 for m in policy.models})
    info["ema_scores"] = {
        m: policy.score.initial.get(m, HARMONICA_EMA.get(m, 0.8)) for m in policy.models
    }
    info["recovery_cycles"] = 0
    info["event_counters"] = {
        "model_switches": 0,
        "retrains": 0,
        "vmr_events": 0,
        "mape_k_energy_uJ": 0.0,
    }
    info["simple_switch_counters"] = {"simple_switches": 0}
    return info


def _cell(value: float) -> str:
    return "" if value != value else repr(float(value))


class KnowledgeFiles:
    """The working copy under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logic = root / "mape_logic"
        self.knowledge = root / "knowledge"
        self.predictions = self.knowledge / "predictions.csv"
        self.model_file = self.knowledge / "model.csv"
        self.thresholds_file = self.knowledge / "thresholds.json"
        self.info_file = self.knowledge / "mape_info.json"
        self.rows = 0

    def create(self, folder: Path, policy: Policy, model: str, ceiling_uj: float | None) -> None:
        """Copy the user's ``folder`` and write the first knowledge files."""
        if self.root.exists():
            shutil.rmtree(self.root)
        shutil.copytree(folder, self.logic, ignore=IGNORED)
        self.knowledge.mkdir(parents=True)
        with self.predictions.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow(PREDICTION_COLUMNS)
        self.write_model(model)
        self.write_thresholds(policy, ceiling_uj)
        write_text_atomic(self.info_file, json.dumps(initial_info(policy), indent=2) + "\n")

    def write_model(self, model: str) -> None:
        write_text_atomic(self.model_file, model)

    def read_model(self) -> str:
        """What ``model.csv`` says now (stripped; "" if missing or unreadable)."""
        try:
            text = self.model_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text.strip()[:MAX_MODEL_NAME]

    def write_thresholds(self, policy: Policy, ceiling_uj: float | None) -> None:
        text = json.dumps(thresholds(policy, ceiling_uj), indent=2) + "\n"
        write_text_atomic(self.thresholds_file, text)

    def append_predictions(
        self,
        truth: Sequence[float],
        prediction: Sequence[float],
        models: Iterable[str],
        latency_s: Sequence[float],
        energy_uj: Sequence[float],
    ) -> None:
        """Append one row per step (a missing truth is an empty cell)."""
        rows = [
            (_cell(t), _cell(p), m, f"{lat:.6g}", f"{e:.6g}")
            for t, p, m, lat, e in zip(truth, prediction, models, latency_s, energy_uj, strict=True)
        ]
        with self.predictions.open("a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        self.rows += len(rows)

    def update_counters(self, counters: Mapping[str, float]) -> None:
        """Set ``event_counters`` in ``mape_info.json``, keeping every key the user's code wrote.
        A file the code left unreadable is written afresh from the counters alone."""
        try:
            info = json.loads(self.info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        held = info.get("event_counters")
        info["event_counters"] = {**(held if isinstance(held, dict) else {}), **counters}
        write_text_atomic(self.info_file, json.dumps(info, indent=2) + "\n")
