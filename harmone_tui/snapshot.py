"""The read model of a run: what front ends read, and the one interface through which they hear.

The runtime publishes an immutable :class:`RunSnapshot` after every inference batch and at every
change of state (ready, paused, running, the end). Headless progress, every TUI screen, the
status bar, exports and the summary read it; none of them reaches into the runtime's parts or
queries the knowledge store on a UI tick. What never changes during a run (its id, models,
quality function, the telemetry reader for dense series) is a :class:`RunInfo`, built once and
shared by every snapshot, so publishing costs a few fields per batch.

A front end hears of a run through a :class:`RunListener` (progress lines, snapshots, events,
the final summary): one method per fact, no dispatch on a kind string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harmone_tui.custom_mape import CustomView
    from harmone_tui.telemetry import Telemetry
    from mape.events import Event
    from mape.model_repo import StoredVersion
    from mape.policy_schema import Policy

QualityFn = Callable[[Sequence[float], Sequence[float | None]], float]


@dataclass(frozen=True)
class RunInfo:
    """What stays fixed for a whole run."""

    run_id: int
    started_at: float  # epoch seconds
    total: int  # steps the run takes at most (the stream or --steps)
    models: tuple[str, ...]  # loaded in this run, in the policy's order
    engine: str
    engine_models: tuple[str, ...]  # every model the engine offers
    quality_metric: str  # "r2" or "confidence"
    quality: QualityFn
    data_name: str
    energy_source: str  # "rapl" or "estimated"
    j_per_cpu_s: float | None  # the coefficient of an estimate
    telemetry: Telemetry = field(repr=False)
    """Dense per-step series (chart, sparklines): read only, views between batches."""
    calibrated: bool = False  # the coefficient comes from a calibration profile


@dataclass(frozen=True)
class RunSnapshot:
    """The run at one step, as every front end shows it; replaced whole, never changed."""

    info: RunInfo
    state: str  # ready, running, paused, finished, stopped, failed
    step: int
    speed: float | None  # steps per second asked for; None: as fast as it goes
    policy: Policy
    policy_source: str
    policy_text: str
    active_model: str
    active_version: int
    versions: Mapping[str, int]  # the version each model runs when active
    stored_versions: tuple[StoredVersion, ...]  # every stored version of the engine's models
    quality: float | None  # over the switch window (the loop's, or measured before its 1st cycle)
    ema: Mapping[str, float]
    e_norm: Mapping[str, float]
    drift_statistic: float | None
    drift_threshold: float | None
    decision: str
    reason: str
    decision_step: int | None
    energy_j: float  # inference energy so far
    counters: Mapping[str, int]  # mape.events.COUNTERS, counted from this run's events
    retraining: str | None  # the model a retrain is running for
    pending: tuple[str, ...]  # actions waiting for their step, as words
    custom_mape: CustomView | None = None  # a Harmonica user's MAPE files, when they decide


class RunListener:
    """What a front end hears of a run; each method does nothing unless overridden.

    Called on the event-loop thread, in order: progress lines during start-up, then snapshots
    and events while it runs, then the summary once when it ends (also when start-up failed
    after the run was created).
    """

    def progress(self, text: str) -> None:
        """A start-up step (reading data, a first-use training, loading a model)."""

    def snapshot(self, snap: RunSnapshot) -> None:
        """The run after a batch or a change of state."""

    def event(self, event: Event) -> None:
        """An adaptation or notable fact, as stored."""

    def finished(self, summary: dict[str, Any]) -> None:
        """The run ended; ``summary`` is what was stored with its final status."""
