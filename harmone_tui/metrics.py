"""Prometheus metrics of a run (``--metrics-port``), with the official ``prometheus_client``.

Names follow Prometheus' conventions (base units, ``_total`` on counters, labels for
dimensions): ``harmone_energy_joules_total{stage,model,version,source}``,
``harmone_inferences_total{model}``, ``harmone_adaptations_total{kind}`` (the run's events),
and gauges ``harmone_quality{metric}``, ``harmone_drift_statistic``,
``harmone_drift_threshold``, ``harmone_active_model{model,version}`` (info-style: 1 for the
active model, the others absent), ``harmone_carbon_grams`` (CO₂e of the energy so far),
``harmone_step`` and ``harmone_run_info{run_id,policy,engine,mode}``.

The figures are updated by a listener of the runtime, on its event-loop thread, after every
batch (never on the inference path); the HTTP server answers scrapes from its own thread with
its own registry, so two runs in one process never share a metric. It listens on 127.0.0.1
unless told otherwise, and closes when the run ends.

Energy comes from the run's energy ledger (:mod:`harmone_tui.ledger`), read a few times a
second: every stage (inference per model and version, training per version produced, mape,
drift, store, frontend, startup, other), so the counters sum to the ledger's measured total;
the carbon gauge is the ledger's (the configured grid intensity and PUE). A counter goes up by
what its ledger total grew since the last read (:func:`energy_totals`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harmone_common.errors import HarmoneError
from harmone_tui.snapshot import RunListener, RunSnapshot

if TYPE_CHECKING:
    from harmone_tui.announce import Announcer
    from harmone_tui.ledger import EnergyLedger
    from harmone_tui.ledger_report import LedgerReport
    from harmone_tui.settings import RunSettings
    from harmone_tui.telemetry import Telemetry
    from mape.events import Event

EXTRA_HINT = "pip install 'harmone-tui[metrics]'"
LEDGER_EVERY_S = 0.25  # the ledger reads /proc and every thread's clock: a few times a second
EnergyKey = tuple[str, str, str, str]  # stage, model, version, source


class MetricsError(HarmoneError):
    """The metrics endpoint cannot be served (the port, or the library missing)."""


@dataclass
class MetricsServer:
    """The listening endpoint; ``port`` is the one bound (``--metrics-port 0``: any free one)."""

    host: str
    port: int
    server: Any
    thread: Any
    run: RunMetrics | None = None

    def watch(self, ledger: EnergyLedger) -> None:
        """The run's energy ledger, once the start-up made it."""
        if self.run is not None:
            self.run.ledger = ledger

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class RunMetrics(RunListener):
    """One run's metrics in a registry of their own, updated as a listener of the run."""

    def __init__(self, settings: RunSettings) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.settings = settings
        self.ledger: EnergyLedger | None = None  # set once the start-up has made it
        self.registry = CollectorRegistry()
        r = self.registry
        self.energy = Counter(
            "harmone_energy_joules",
            "Energy spent, by stage and by the model and version it was spent for",
            ["stage", "model", "version", "source"],
            registry=r,
        )
        self.inferences = Counter(
            "harmone_inferences", "Predictions made, by model", ["model"], registry=r
        )
        self.adaptations = Counter(
            "harmone_adaptations", "Events of the run (switch, drift, retrain, ...)", ["kind"],
            registry=r,
        )  # fmt: skip
        self.quality = Gauge(
            "harmone_quality", "Active model's windowed quality", ["metric"], registry=r
        )
        self.drift = Gauge("harmone_drift_statistic", "Latest drift statistic", registry=r)
        self.drift_threshold = Gauge(
            "harmone_drift_threshold", "Drift statistic above which drift is declared", registry=r
        )
        self.active = Gauge(
            "harmone_active_model", "1 for the model now serving", ["model", "version"], registry=r
        )
        self.carbon = Gauge(
            "harmone_carbon_grams", "CO2-equivalent of the energy counted so far", registry=r
        )
        self.step = Gauge("harmone_step", "Steps of the stream done", registry=r)
        self.info = Gauge(
            "harmone_run_info", "The run (always 1)", ["run_id", "policy", "engine", "mode"],
            registry=r,
        )  # fmt: skip
        self.drift.set(float("nan"))  # unknown until the detector has two windows
        self.drift_threshold.set(float("nan"))
        self._seen_step = 0
        self._synced = -LEDGER_EVERY_S
        self._exported: dict[EnergyKey, float] = {}
        self._active: tuple[str, str] | None = None

    # the listener (harmone_tui.snapshot.RunListener) ---------------------------------------
    def event(self, event: Event) -> None:
        self.adaptations.labels(str(event.kind)).inc()

    def snapshot(self, snap: RunSnapshot) -> None:
        end = snap.step
        start, self._seen_step = self._seen_step, max(self._seen_step, end)
        if self._active is None:
            labels = (str(snap.info.run_id), snap.policy.name, snap.info.engine, self.settings.mode)
            self.info.labels(*labels).set(1)
        if end > start:
            self._count(snap.info.telemetry, start, end)
        now = time.monotonic()
        due = now - self._synced >= LEDGER_EVERY_S or end >= snap.info.total
        if due and snap.state != "ready" and self.ledger is not None:  # before the 1st step,
            self._synced = now  # start-up still counts as other
            report = self.ledger.report()
            self._sync_energy(energy_totals(report))
            self.carbon.set(report.carbon_g)
        if snap.quality is not None:
            self.quality.labels(snap.info.quality_metric).set(snap.quality)
        if snap.drift_statistic is not None:
            self.drift.set(snap.drift_statistic)
        if snap.drift_threshold is not None:
            self.drift_threshold.set(snap.drift_threshold)
        active = (snap.active_model, str(snap.active_version))
        if active != self._active:
            if self._active is not None:
                self.active.remove(*self._active)
            self.active.labels(*active).set(1)
            self._active = active
        self.step.set(end)

    def _count(self, tel: Telemetry, start: int, end: int) -> None:
        """Add steps [start, end) (still held by the telemetry) to the inference counts."""
        index = tel.model_index[start:end]
        for m, n in enumerate(np.bincount(index.astype(np.int64), minlength=len(tel.models))):
            if n:
                self.inferences.labels(tel.models[m]).inc(int(n))

    def _sync_energy(self, totals: dict[EnergyKey, float]) -> None:
        """Counters up by what each total grew; a total that fell back (``other`` is a
        remainder, and start-up is taken out of it once) counts again only above its peak."""
        for key, joules in totals.items():
            grown = joules - self._exported.get(key, 0.0)
            if grown > 0:
                self.energy.labels(*key).inc(grown)
                self._exported[key] = joules


def energy_totals(report: LedgerReport) -> dict[EnergyKey, float]:
    """Cumulative joules per (stage, model, version, source) of the run's energy ledger:
    inference per model and version, training per version produced (the worker's time not yet
    tied to a version under model ""), every other stage with model and version "".

    The stages sum to the ledger's measured total (:mod:`harmone_tui.ledger`).
    """
    src = report.source
    out: dict[EnergyKey, float] = {}
    for item in report.inference:
        out[("inference", item.model, str(item.version), src)] = item.energy_j
    for trained in report.training:
        key = ("training", trained.model, str(trained.version), src)
        out[key] = out.get(key, 0.0) + trained.energy_j
    produced = sum(t.energy_j for t in report.training)
    out[("training", "", "", src)] = max(0.0, report.stages_j.get("training", 0.0) - produced)
    for stage, joules in report.stages_j.items():
        if stage not in ("inference", "training"):
            out[(stage, "", "", src)] = joules
    return out


def start_endpoint(port: int, host: str, registry: Any) -> MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a thread of its own."""
    try:
        from prometheus_client import start_http_server
    except ImportError:
        raise MetricsError(
            "--metrics-port needs the prometheus_client library", hint=EXTRA_HINT
        ) from None
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as exc:
        raise MetricsError(
            f"--metrics-port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})"
        ) from None
    return MetricsServer(host, server.server_port, server, thread)


def serve_metrics(settings: RunSettings, announce: Announcer) -> MetricsServer | None:
    """Start the endpoint of ``settings.metrics_port`` (None: no metrics) and let the run's
    metrics hear it; a port that cannot be bound is a :class:`MetricsError`. The ledger is
    handed over once made (:meth:`MetricsServer.watch`)."""
    if settings.metrics_port is None:
        return None
    try:
        metrics = RunMetrics(settings)
    except ImportError:
        raise MetricsError(
            "--metrics-port needs the prometheus_client library", hint=EXTRA_HINT
        ) from None
    endpoint = start_endpoint(settings.metrics_port, settings.metrics_host, metrics.registry)
    endpoint.run = metrics
    announce.listeners.insert(0, metrics)  # first: the other listeners see it up to date
    announce.progress(f"metrics on {endpoint.url}")
    return endpoint
