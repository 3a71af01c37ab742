"""How a run ends: its final status, the summary so far, and what is closed on the way out.

Every way a run ends goes through :func:`close`: the stream or ``--steps`` ran out (``finished``),
a stop was asked for, by a key, a signal or a cancel (``stopped``), or an error ended it
(``failed``, the error in the summary). A start-up that ends early ends the same way, so a run
row is never left ``running`` by a live process that is done with it.

What there is to close is a :class:`RunParts`: the start-up fills it as it opens things (so a
start-up that fails closes what it opened, and only that); a runtime has every part.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harmone_common.errors import HarmoneError
from harmone_tui.json_safe import finite
from harmone_tui.run_context import context

if TYPE_CHECKING:
    from engines.base import Engine
    from engines.energy import EnergyMeter
    from harmone_tui.actions import ActionQueue
    from harmone_tui.custom_mape import CustomMape
    from harmone_tui.ledger import EnergyLedger
    from harmone_tui.metrics import MetricsServer
    from harmone_tui.settings import RunSettings
    from harmone_tui.telemetry import Telemetry
    from harmone_tui.trainer_pool import TrainerPool
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository
    from mape.policy_schema import Policy
    from mape.step_writer import StepWriter


@dataclass
class Outcome:
    """How the run stands: its status and, once it ended, why."""

    status: str = "starting"  # starting, ready, running, paused, finished, stopped, failed
    error: str | None = None
    stop_reason: str | None = None
    wall_s: float = 0.0  # running time, pauses left out


@dataclass
class RunParts:
    """The parts of a run, opened in this order by the start-up (None: not opened yet)."""

    settings: RunSettings
    policy: Policy
    counters: dict[str, int]
    outcome: Outcome = field(default_factory=Outcome)
    store: KnowledgeStore | None = None
    repo: ModelRepository | None = None
    step_writer: StepWriter | None = None
    engine: Engine | None = None
    meter: EnergyMeter | None = None
    pool: TrainerPool | None = None
    telemetry: Telemetry | None = None
    run_id: int = 0
    flush: Callable[[], None] | None = None  # hands the steps not yet stored to the writer
    actions: ActionQueue | None = None
    ledger: EnergyLedger | None = None
    metrics: MetricsServer | None = None  # --metrics-port
    energy_profile: dict[str, float] | None = None  # the start-up calibration, µJ per call
    speed: float | None = None  # the pace at the end (the TUI's + and - change it)
    custom: CustomMape | None = None  # a Harmonica user's MAPE files, once the runtime exists


def ending(exc: BaseException, stop_asked: bool) -> tuple[str, str | None]:
    """(status, error text) of a run that ``exc`` ended."""
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt) or stop_asked:
        return "stopped", None
    return "failed", str(exc) if isinstance(exc, HarmoneError) else f"{type(exc).__name__}: {exc}"


def close(parts: RunParts) -> dict[str, Any]:
    """Store the steps so far, the final status and the summary; cancel pending actions; end the
    trainer worker, so that a training cannot hold up the process's exit.

    Every part is tried; the first failure is raised once all were (a step write that failed
    makes the run ``failed``). Returns the summary.
    """
    errors: list[Exception] = []
    writer, outcome = parts.step_writer, parts.outcome
    for part in (parts.flush, writer.close if writer is not None else None):
        if part is None:
            continue
        try:
            part()
        except Exception as exc:  # noqa: BLE001 - raised below, after the rest is done
            errors.append(exc)
    if errors and outcome.status != "failed":
        outcome.status, outcome.error = ending(errors[0], stop_asked=False)
    if parts.actions is not None:
        parts.actions.cancel_all()
    out = summary(parts)
    if parts.run_id and parts.store is not None:
        try:
            parts.store.finish_run(parts.run_id, outcome.status, out)
        except Exception as exc:  # noqa: BLE001 - the store, opened again, marks it interrupted
            errors.append(exc)
    if parts.pool is not None:
        parts.pool.terminate()
    if parts.metrics is not None:
        parts.metrics.close()
    if errors:
        raise errors[0]
    return out


def summary(parts: RunParts) -> dict[str, Any]:
    """The run's figures so far (what exists of them when it ended during start-up)."""
    outcome, engine, policy, settings = parts.outcome, parts.engine, parts.policy, parts.settings
    out: dict[str, Any] = {
        "run_id": parts.run_id,
        "policy": policy.name,
        "engine": settings.engine,
        "status": outcome.status,
    }
    if outcome.stop_reason:
        out["stop_reason"] = outcome.stop_reason
    if outcome.error:
        out["error"] = outcome.error
    if engine is not None:
        out["engine"] = engine.name  # a plug-in given as a file or factory: its own name
    if parts.telemetry is not None and engine is not None:
        out.update(parts.telemetry.summary(engine.quality_metric))
    else:
        out["steps"] = 0
    if parts.meter is not None:
        out["energy_source"] = parts.meter.source
        out["energy_detail"] = parts.meter.detail
    if parts.ledger is not None:
        out["energy"] = parts.ledger.report().to_dict()
    out.update(parts.counters)
    out.update(
        wall_s=round(outcome.wall_s, 3),
        data=str(settings.data or "bundled sample"),
        data_dir=str(settings.data_dir),
        serving=policy.serving if engine is None else engine.serving,
    )
    if engine is not None and engine.data_read:
        out["data_read"] = engine.data_read
    speed_now = parts.speed if parts.run_id else settings.speed
    out.update(context(settings.mode, settings.speed, speed_now, out["steps"], outcome.wall_s))
    if parts.energy_profile is not None:  # what the run's decisions used for energy
        out["calibration_uj_per_call"] = parts.energy_profile
    if parts.custom is not None:
        out["custom_mape"] = parts.custom.summary()
    return finite(out)
