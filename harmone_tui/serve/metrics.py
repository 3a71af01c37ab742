"""Prometheus metrics of `harmone serve` (``--metrics-port``): one series per served system.

The same names as a run's metrics (:mod:`harmone_tui.metrics`) with a ``system`` label:
``harmone_energy_joules_total{system,stage,model,version,source}`` (stage ``inference``, source
``reported``: the energy the managed system reports with each record), ``harmone_inferences_total
{system,model}``, ``harmone_adaptations_total{system,kind}``, and the gauges
``harmone_quality{system,metric}``, ``harmone_drift_statistic{system}``,
``harmone_active_model{system,model,version}`` (info-style), ``harmone_carbon_grams{system}``
and ``harmone_step{system}``. Updated after an intake is committed (on the event loop), read by
the endpoint's own thread; counters start at zero with the process, as Prometheus expects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harmone_tui import paths
from harmone_tui.carbon import resolve as resolve_carbon
from harmone_tui.serve.systems import Action, RemoteSystem, StepRecord


class ServeMetrics:
    """The served systems' metrics in a registry of their own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = r = CollectorRegistry()
        self.energy = Counter(
            "harmone_energy_joules",
            "Energy reported by the served systems, by stage, model and version",
            ["system", "stage", "model", "version", "source"],
            registry=r,
        )
        self.inferences = Counter(
            "harmone_inferences", "Records received, by model", ["system", "model"], registry=r
        )
        self.adaptations = Counter(
            "harmone_adaptations", "Decisions of the loop, by kind", ["system", "kind"], registry=r
        )
        self.quality = Gauge(
            "harmone_quality", "Windowed quality of the active model", ["system", "metric"],
            registry=r,
        )  # fmt: skip
        self.drift = Gauge(
            "harmone_drift_statistic", "Latest drift statistic", ["system"], registry=r
        )
        self.active = Gauge(
            "harmone_active_model", "1 for the model a system now serves",
            ["system", "model", "version"], registry=r,
        )  # fmt: skip
        self.carbon = Gauge(
            "harmone_carbon_grams", "CO2-equivalent of the reported energy", ["system"], registry=r
        )
        self.step = Gauge("harmone_step", "Records of the system so far", ["system"], registry=r)
        self._joules: dict[str, float] = {}
        self._active: dict[str, tuple[str, str]] = {}
        # the grid intensity and PUE in force ($HARMONE_GRID_INTENSITY, settings.toml, default)
        self.carbon_of: Callable[[float], float] = resolve_carbon(
            settings_path=paths.settings_file()
        ).grams

    def observe(
        self,
        system_id: str,
        remote: RemoteSystem,
        records: Sequence[StepRecord],
        actions: Sequence[Action],
    ) -> None:
        """One committed intake of ``system_id``."""
        totals: dict[tuple[str, int], list[float]] = {}
        for r in records:
            seen = totals.setdefault((r.model, r.version), [0, 0.0])
            seen[0] += 1
            seen[1] += r.energy_uj * 1e-6
        for (model, version), (count, joules) in totals.items():
            self.inferences.labels(system_id, model).inc(count)
            if joules > 0:
                self.energy.labels(system_id, "inference", model, str(version), "reported").inc(
                    joules
                )
            self._joules[system_id] = self._joules.get(system_id, 0.0) + max(joules, 0.0)
        for a in actions:
            self.adaptations.labels(system_id, a.kind).inc()
        self._gauges(system_id, remote)

    def _gauges(self, system_id: str, remote: RemoteSystem) -> None:
        status: dict[str, Any] = remote.status()
        if status.get("quality") is not None:
            self.quality.labels(system_id, remote.quality).set(status["quality"])
        if status.get("drift_statistic") is not None:
            self.drift.labels(system_id).set(status["drift_statistic"])
        active = (remote.active[0], str(remote.active[1]))
        if self._active.get(system_id) != active:
            if system_id in self._active:
                self.active.remove(system_id, *self._active[system_id])
            self.active.labels(system_id, *active).set(1)
            self._active[system_id] = active
        self.carbon.labels(system_id).set(self.carbon_of(self._joules.get(system_id, 0.0)))
        self.step.labels(system_id).set(remote.step)
