"""How a run ends: its final status, the summary so far, and what is closed on the way out.

Every way a run ends goes through :func:`close`: the stream or ``--steps`` ran out (``finished``),
a stop was asked for, by a key, a signal or a cancel (``stopped``), or an error ended it
(``failed``, the error in the summary). A start-up that ends early ends the same way, so a run
row is never left ``running`` by a live process that is done with it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from harmone_common.errors import HarmoneError
from harmone_tui.json_safe import finite

if TYPE_CHECKING:
    from harmone_tui.actions import ActionQueue
    from harmone_tui.settings import RunSettings
    from mape.knowledge import KnowledgeStore
    from mape.policy_schema import Policy


class Runtime(Protocol):
    """What ending a run reads and sets (``harmone_tui.runtime.Runtime`` is one).

    A protocol rather than an import, so that the runtime and this module do not import each
    other. The engine, telemetry, meter, pool and step writer exist only once start-up got that
    far, so they are read with ``getattr``.
    """

    status: str
    error: str | None
    stop_reason: str | None
    run_id: int
    wall_s: float
    policy: Policy
    settings: RunSettings
    store: KnowledgeStore
    actions: ActionQueue
    counters: dict[str, int]

    def flush(self) -> None: ...


def ending(exc: BaseException, stop_asked: bool) -> tuple[str, str | None]:
    """(status, error text) of a run that ``exc`` ended."""
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt) or stop_asked:
        return "stopped", None
    return "failed", str(exc) if isinstance(exc, HarmoneError) else f"{type(exc).__name__}: {exc}"


def close(runtime: Runtime) -> dict[str, Any]:
    """Store the steps so far, the final status and the summary; cancel pending actions; end the
    trainer worker, so that a training cannot hold up the process's exit.

    Every part is tried; the first failure is raised once all were (a step write that failed
    makes the run ``failed``). Returns the summary.
    """
    errors: list[Exception] = []
    writer = getattr(runtime, "step_writer", None)
    for part in (runtime.flush, writer.close if writer is not None else None):
        if part is None:
            continue
        try:
            part()
        except Exception as exc:  # noqa: BLE001 - raised below, after the rest is done
            errors.append(exc)
    if errors and runtime.status != "failed":
        runtime.status, runtime.error = ending(errors[0], stop_asked=False)
    runtime.actions.cancel_all()
    out = summary(runtime)
    if runtime.run_id:
        try:
            runtime.store.finish_run(runtime.run_id, runtime.status, out)
        except Exception as exc:  # noqa: BLE001 - the store, opened again, marks it interrupted
            errors.append(exc)
    pool = getattr(runtime, "pool", None)
    if pool is not None:
        pool.terminate()
    if errors:
        raise errors[0]
    return out


def summary(runtime: Runtime) -> dict[str, Any]:
    """The run's figures so far (what exists of them when it ended during start-up)."""
    rt = runtime
    out: dict[str, Any] = {
        "run_id": rt.run_id,
        "policy": rt.policy.name,
        "engine": rt.settings.engine,
        "status": rt.status,
    }
    if rt.stop_reason:
        out["stop_reason"] = rt.stop_reason
    if rt.error:
        out["error"] = rt.error
    telemetry, engine = getattr(rt, "telemetry", None), getattr(rt, "engine", None)
    if telemetry is not None and engine is not None:
        out.update(telemetry.summary(engine.quality_metric))
    else:
        out["steps"] = 0
    meter = getattr(rt, "meter", None)
    if meter is not None:
        out["energy_source"] = meter.source
        out["energy_detail"] = meter.detail
    out.update(rt.counters)
    out.update(
        wall_s=round(rt.wall_s, 3),
        data=str(rt.settings.data or "bundled sample"),
        data_dir=str(rt.settings.data_dir),
        serving=rt.policy.serving if engine is None else engine.serving,
    )
    if engine is not None and engine.data_read:
        out["data_read"] = engine.data_read
    return finite(out)
