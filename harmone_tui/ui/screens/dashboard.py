"""The dashboard: live panels, the prediction-vs-truth chart over the whole run, models, events.

Panels (sparklines): quality (window R² or confidence), energy per inference with its source,
latency, and the drift statistic against its threshold. The chart (braille, with axes) covers
any window of the run with adaptation markers. The models panel shows EMA and share of steps per
model with the counters counted from events; the strip at the bottom lists recent events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Static

from harmone_tui import units
from harmone_tui.ui.figures import RunSeries, bucket_means, quality_series, step_history
from harmone_tui.ui.format import duration, energy_source, local_time, number
from harmone_tui.ui.screens.base import HarmoneScreen
from harmone_tui.ui.widgets.event_table import EventTable
from harmone_tui.ui.widgets.forecast_chart import ForecastChart
from harmone_tui.ui.widgets.metric_panel import MetricPanel
from harmone_tui.ui.widgets.model_scores import ModelRow, ModelScores
from mape.events import ADAPTATIONS

if TYPE_CHECKING:
    from harmone_tui.snapshot import RunSnapshot
    from harmone_tui.ui.session import RunSession

SPARK_SPAN = 2000  # steps of history in each sparkline
SPARK_BUCKETS = 48
RECENT = 200  # steps the current energy/latency figures average over


class DashboardScreen(HarmoneScreen):
    """Live view of the run; see the module docstring."""

    HELP = """
## Dashboard
Live panels, the prediction-vs-truth chart (focus it with **tab**: ←/→ pan, [ ] zoom,
home/end), models with their EMA and share of steps, and the latest events.

**Chart**: the truth is the solid line (⠤⠤⠤⠤), the prediction the dashed one (⠤ ⠤ ); the
whole run stays on it (older steps drawn from per-bucket means). Letters at the bottom mark
adaptations: **S** switch, **D** drift, **R** retrained version swapped in, **U** reuse of a
stored version, **P** policy change. **Models**: ▶ marks the active model; EMA is its score
(S = β·quality + (1-β)·(1 - E_norm), smoothed); steps is its share of the run.
"""

    _run_text = ""

    def compose_body(self) -> ComposeResult:
        with Grid(id="metrics"):
            yield MetricPanel("quality", id="quality-panel")
            yield MetricPanel("energy / inference", id="energy-panel")
            yield MetricPanel("latency", id="latency-panel")
            yield MetricPanel("drift", id="drift-panel")
        with Horizontal(id="middle"):
            yield ForecastChart(id="chart")
            with Vertical(id="side"):
                yield ModelScores(id="models")
                yield Static("", id="run-info")
        yield EventTable(id="recent")

    def on_mount(self) -> None:
        self.query_one("#recent", EventTable).border_title = "latest events (3: all)"
        self.query_one("#run-info", Static).border_title = "run"
        self.query_one(ForecastChart).focus()

    def refresh_data(self, session: RunSession) -> None:
        snap = session.snapshot
        table = self.query_one("#recent", EventTable)
        if len(session.events) > table.seen:
            table.add_events(session.events[table.seen :])
        if snap is None:  # the status bar and chart title carry the progress
            for panel in self.query(MetricPanel):
                panel.show("–", "", [])
            self.query_one(ForecastChart).border_title = f"{session.state}: {session.progress}"
            return
        info = snap.info
        self.query_one(ForecastChart).border_title = (
            "prediction vs truth" if info.quality_metric == "r2" else "confidence per image"
        )
        self._panels(snap, session)
        markers = [(e.step, e.kind) for e in session.events]
        self.query_one(ForecastChart).set_data(RunSeries(info.telemetry), markers)
        self._models(snap)
        self._run_info(snap, session)

    # panels ---------------------------------------------------------------------------------
    def _panels(self, snap: RunSnapshot, session: RunSession) -> None:
        info, policy = snap.info, snap.policy
        tel = info.telemetry
        n = min(snap.step, tel.count)
        lo, recent = max(0, n - SPARK_SPAN), max(0, n - RECENT)
        metric = "R²" if info.quality_metric == "r2" else "confidence"
        q_series = quality_series(
            info.quality, tel.prediction[lo:n], tel.truth[lo:n], SPARK_BUCKETS
        )
        ema = snap.ema.get(snap.active_model)
        low = policy.switch.enabled and ema is not None and ema < policy.switch.min_score
        self.query_one("#quality-panel", MetricPanel).show(
            f"{metric} {number(snap.quality)}",
            f"window of {policy.switch.window_steps} steps" + (" · below min" if low else ""),
            q_series,
            "warning" if low else "",
        )
        energy_j = float(np.mean(tel.energy_mj[recent:n])) / 1e3 if n else None
        e_norm = snap.e_norm.get(snap.active_model)
        source = energy_source(info.energy_source)
        self.query_one("#energy-panel", MetricPanel).show(
            f"{units.energy(energy_j)}  {source}",
            f"E_norm {number(e_norm, 2)}" if e_norm is not None else f"mean of last {RECENT} steps",
            bucket_means(tel.energy_mj[lo:n], SPARK_BUCKETS),
        )
        lat = tel.latency_ms[recent:n]
        self.query_one("#latency-panel", MetricPanel).show(
            f"{number(float(np.mean(lat)) if n else None)} ms",
            f"p95 {number(float(np.percentile(lat, 95)) if n else None)} ms",
            bucket_means(tel.latency_ms[lo:n], SPARK_BUCKETS),
        )
        self._drift_panel(snap, session)

    def _drift_panel(self, snap: RunSnapshot, session: RunSession) -> None:
        drift = snap.policy.drift
        stat = snap.drift_statistic
        threshold = snap.drift_threshold if snap.drift_threshold is not None else drift.threshold
        state = ""
        if stat is not None and threshold:
            state = "violated" if stat > threshold else "warning" if stat > 0.8 * threshold else ""
        if not drift.enabled:
            note = "drift detection off"
        elif stat is None and snap.step < drift.warmup_steps:
            note = f"warm-up until step {drift.warmup_steps:,}"
        else:
            note = f"threshold {number(threshold)} · {drift.detector}"
            if state == "violated":
                note += " · over"
        self.query_one("#drift-panel", MetricPanel).show(
            f"{drift.detector} {number(stat)}",
            note,
            step_history(session.drift, SPARK_BUCKETS),
            state,
        )

    def _models(self, snap: RunSnapshot) -> None:
        share = snap.info.telemetry.model_share()
        rows = [
            ModelRow(
                model,
                snap.versions.get(model),
                snap.ema.get(model),
                share.get(model, 0.0),
                model == snap.active_model,
            )
            for model in snap.policy.models
        ]
        counters = {name: snap.counters.get(name, 0) for name in ADAPTATIONS}
        self.query_one(ModelScores).show(rows, counters, self.narrow)

    def _run_info(self, snap: RunSnapshot, session: RunSession) -> None:
        info = snap.info
        energy = f"{energy_source(info.energy_source)}"
        if info.j_per_cpu_s and info.calibrated:  # the profile's file: doctor, the summary
            energy += f" {info.j_per_cpu_s:.3g} J/CPU-s (profile)"
        elif info.j_per_cpu_s:
            energy += f" ({info.j_per_cpu_s:g} J per CPU-s)"
        wall = session.summary.get("wall_s") if session.summary else None
        started = local_time(info.started_at) if wall is None else ""
        lines = [
            f"run      #{info.run_id}"
            + (f" since {started}" if started else f" took {duration(wall)}"),
            f"policy   {snap.policy.name}",
            f"source   {snap.policy_source}",
            f"data     {info.data_name}",
            f"energy   {energy}",
            "decides  " + ("custom MAPE (7)" if snap.custom_mape is not None else "built-in plan"),
        ]
        text = "\n".join(lines)
        if text != self._run_text:
            self._run_text = text
            self.query_one("#run-info", Static).update(text)
