"""A Harmonica user's MAPE files decide for a run (`harmone --mape DIR`, `[mape] custom`).

harmone drives the cycle at its own step-based period, so a run stays deterministic:

- at every switch cycle (``switch.every_steps``) it appends the new steps to the working copy's
  ``knowledge/predictions.csv``, calls ``execute_mape("local")`` in the user's process (Harmonica's
  trigger for "your own analysis decides"), reads the
  model name ``execute`` wrote to ``knowledge/model.csv`` and, if it differs from the active
  model, switches through the normal effector (a ``switch`` event whose reason says "custom
  MAPE: ..."); then it polls ``monitor_mape()`` and ``monitor_drift()`` for the figures the UI
  shows;
- when harmone's drift detector fires, it calls ``execute_drift("acp")`` the same way (Harmonica's
  trigger for "the managing system found the drift").

harmone's own loop keeps running beside it, behind a :class:`Gate`: its figures (quality, EMA,
drift statistic) and its drift detection stay live, its actions are held. While the user's code
is in charge they are dropped; when a call fails (an exception, a hang past ``[mape] timeout_s``,
a crash, a flood of output, or a model name this run does not have) the failure is an ``error``
event and that cycle's held actions are applied (``on_error = "builtin"``) or dropped (``"stay"``:
no adaptation). After ``max_failures`` failed cycles in a row the user's code is ended and the
fallback decides for the rest of the run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harmone_tui import paths
from harmone_tui.threads import in_thread
from mape.custom.folder import check_folder
from mape.custom.knowledge_files import KnowledgeFiles
from mape.custom.process import CallResult, CustomProcess
from mape.effector import VersionInfo
from mape.events import EventKind
from mape.loop import MapeLoop
from mape.policy import Policy

# Harmonica's triggers: "local" = the files' own analysis decides whether to act (manage.py's
# loop); "acp" = the managing server already found the violation (here: harmone's drift detector)
TRIGGERS = {"execute_mape": "local", "execute_drift": "acp"}
# mape_info.json's event_counters (Harmonica's names) from the run's counters (mape/events.py)
COUNTED = {"model_switches": "switches", "retrains": "retrains", "vmr_events": "reuses"}
FALLBACK_TEXT = {"builtin": "harmone's built-in plan decides", "stay": "no adaptation"}


class Host(Protocol):
    """What the glue needs of the runtime (harmone_tui/runtime.py implements it)."""

    settings: Any
    policy: Policy
    telemetry: Any
    loop: MapeLoop
    meter: Any
    run_id: int
    active_model: str
    counters: dict[str, int]

    def event(self, kind: EventKind, detail: dict[str, Any]) -> Any: ...
    def progress(self, text: str) -> None: ...
    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None: ...
    def reuse_version(
        self, model: str, version: int, reason: str, detail: dict[str, Any]
    ) -> None: ...
    def start_retrain(
        self, model: str, values: Any, reason: str, detail: dict[str, Any]
    ) -> bool: ...
    def stored_versions(self, model: str) -> list[VersionInfo]: ...


@dataclass(frozen=True)
class CustomView:
    """The custom MAPE as front ends show it (a copy: safe to read from any screen)."""

    folder: str
    state: str  # starting | in charge | ended
    fallback: str
    pyrapl: str
    log: str
    figures: dict[str, Any] = field(default_factory=dict)
    figures_step: int | None = None
    decision: str = ""
    decision_step: int | None = None
    calls: int = 0
    failed_calls: int = 0
    calling: str = ""  # the call in progress, if any
    last_error: str | None = None
    last_error_step: int | None = None


class Gate:
    """The Effector harmone's own loop gets while a custom MAPE runs: events go through at once,
    actions are held until the cycle's custom calls tell whether to apply or drop them."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.held: list[tuple[str, tuple[Any, ...]]] = []
        self.drift = False

    def switch_model(self, model: str, reason: str, detail: dict[str, Any]) -> None:
        self.held.append(("switch_model", (model, reason, detail)))

    def reuse_version(self, model: str, version: int, reason: str, detail: dict[str, Any]) -> None:
        self.held.append(("reuse_version", (model, version, reason, detail)))

    def start_retrain(self, model: str, values: Any, reason: str, detail: dict[str, Any]) -> bool:
        self.held.append(("start_retrain", (model, values, reason, detail)))
        return True

    def record(self, kind: EventKind, detail: dict[str, Any]) -> None:
        self.drift = self.drift or kind == EventKind.DRIFT
        self.host.event(kind, detail)

    def stored_versions(self, model: str) -> list[VersionInfo]:
        return self.host.stored_versions(model)

    def take(self) -> tuple[list[tuple[str, tuple[Any, ...]]], bool]:
        held, drift = self.held, self.drift
        self.held, self.drift = [], False
        return held, drift

    def apply(self, held: list[tuple[str, tuple[Any, ...]]], why: str) -> None:
        """Apply held actions (the fallback), their events saying ``why``."""
        for method, args in held:
            *rest, detail = args
            getattr(self.host, method)(*rest, {**detail, "fallback": why})


def defined_functions(path: Path) -> set[str]:
    try:
        return set(_top_level(ast.parse(path.read_bytes())))
    except (OSError, SyntaxError, ValueError):
        return set()


def _top_level(tree: ast.Module) -> list[str]:
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


class CustomMape:
    """A run's custom MAPE: working copy, process, cycle; see the module docstring."""

    def __init__(self, host: Host, folder: Path) -> None:
        self.host = host
        self.folder = check_folder(folder)  # a policy given to the runtime directly is checked too
        self.gate = Gate(host)
        self.files: KnowledgeFiles | None = None
        self.process: CustomProcess | None = None
        self.in_charge = True
        self._stopping = False
        self.state = "starting"
        self._synced = 0
        self._target, self._why = "", ""  # the model this cycle's calls chose, and which call
        self._failed_in_row = 0
        self._cpu_s = 0.0
        self._view: dict[str, Any] = {}
        self._functions = {
            "execute": defined_functions(folder / "execute.py"),
            "monitor": defined_functions(folder / "monitor.py"),
        }

    # life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Lay out the working copy and start the user's process (a failure is an event)."""
        h = self.host
        root = h.settings.data_dir
        self.files = KnowledgeFiles(paths.custom_mape_dir(root, h.run_id))
        ceiling = h.loop.status().energy_ceiling_uj
        await in_thread(self.files.create, self.folder, h.policy, h.active_model, ceiling)
        self.process = CustomProcess(
            self.files.root,
            paths.custom_mape_log(root, h.run_id),
            h.policy.mape.timeout_s,
            h.policy.seed,
            h.meter.j_per_cpu_s,
        )
        h.progress(f"custom MAPE: starting {self.folder}")
        started = await in_thread(self.process.start)
        if self.process.pyrapl:
            h.progress(f"custom MAPE: {self.process.pyrapl}")
        self.state = "in charge"
        if not started.ok:
            self._failed("start", started.error or "?", [])

    def close(self) -> None:
        if self.process is not None:
            self.process.close()

    def interrupt(self) -> None:
        """The run is stopping: end a call in progress now, and call nothing more."""
        self.in_charge = False
        self._stopping = True
        if self.process is not None:
            self.process.kill()

    def policy_changed(self, policy: Policy) -> None:
        """New thresholds for the user's code; the directory itself is the run's."""
        if self.files is not None:
            self.files.write_thresholds(policy, self.host.loop.status().energy_ceiling_uj)
        if self.process is not None:
            self.process.timeout_s = policy.mape.timeout_s

    # the cycle --------------------------------------------------------------------------------
    async def cycle(self, step: int) -> None:
        """harmone's loop (behind the gate), then the user's calls that are due at ``step``."""
        h = self.host
        h.loop.cycle(step)
        held, drift = self.gate.take()
        if not self.in_charge or self.files is None:
            self._fallback(held, "custom MAPE ended")
            return
        # a drift is answered by execute_drift alone (Harmonica's "acp" trigger): the periodic
        # call due at the same cycle would only overrule or fail before it
        calls = []
        if drift and "execute_drift" in self._functions["execute"]:
            calls.append("execute_drift")
        elif step % h.policy.switch.every_steps == 0:
            calls.append("execute_mape")
        if not calls:
            return  # the user's code is in charge: harmone's own actions are dropped
        await in_thread(self._sync)
        self._target, self._why = h.active_model, ""
        for function in calls:
            problem = await self._execute(function)
            if self._stopping:
                return  # the call was ended by the stop, not by the user's code
            if problem is not None:
                self._failed(f"execute.{function}", problem, held, step)
                break
        else:
            self._failed_in_row = 0
            self._apply(step, calls)
        if "execute_mape" in calls and not self._stopping:
            await self._poll(step)

    async def _execute(self, function: str) -> str | None:
        """Call ``execute.function`` and note the model it wrote; what went wrong, if anything."""
        h, files = self.host, self.files
        assert files is not None
        result = await self._call("execute", function, TRIGGERS[function])
        if not result.ok:
            return result.error or "?"
        chosen = await in_thread(files.read_model)
        if chosen not in h.policy.models:
            return (
                f"{function} wrote {chosen!r} to model.csv; this run's models are"
                f" {', '.join(h.policy.models)}"
            )
        if chosen != self._target:
            self._target, self._why = chosen, function
        return None

    def _apply(self, step: int, calls: list[str]) -> None:
        """Switch to the model the cycle's calls left in model.csv (one switch at most)."""
        h, chosen = self.host, self._target
        if chosen == h.active_model:
            self._decide(step, "stay", f"custom MAPE: {' and '.join(calls)} kept {chosen!r}")
            return
        reason = f"custom MAPE: {self._why} wrote {chosen!r} to model.csv"
        h.switch_model(chosen, reason, {"trigger": self._why})
        self._decide(step, "switch", reason, chosen)

    async def _poll(self, step: int) -> None:
        figures: dict[str, Any] = {}
        for function in ("monitor_mape", "monitor_drift"):
            if function not in self._functions["monitor"]:
                continue
            result = await self._call("monitor", function)
            if self._stopping:
                return
            if not result.ok:
                self._error(f"monitor.{function}", result.error or "?", step)
            elif isinstance(result.value, dict):
                figures.update(result.value)
        if figures:
            self._view.update(figures=figures, figures_step=step)

    async def _call(self, module: str, function: str, *args: Any) -> CallResult:
        assert self.process is not None
        self._view["calling"] = f"{module}.{function}()"
        try:
            result = await in_thread(self.process.call, module, function, *args)
        finally:
            self._view["calling"] = ""
        self._view["calls"] = self._view.get("calls", 0) + 1
        self._cpu_s += result.cpu_s
        if not result.ok:
            self._view["failed_calls"] = self._view.get("failed_calls", 0) + 1
        return result

    def _sync(self) -> None:
        """Append the steps since the last call to predictions.csv; model.csv = the active model;
        mape_info.json's event counters from this run's events (in a thread)."""
        h, files = self.host, self.files
        assert files is not None
        tel = h.telemetry
        lo, hi = max(self._synced, tel.first_held), tel.count
        if hi > lo:
            names = tel.models
            files.append_predictions(
                tel.truth[lo:hi].tolist(),
                tel.prediction[lo:hi].tolist(),
                [names[i] for i in tel.model_index[lo:hi].tolist()],
                (tel.latency_ms[lo:hi] / 1e3).tolist(),
                (tel.energy_mj[lo:hi] * 1e3).tolist(),
            )
        self._synced = hi
        files.write_model(h.active_model)
        energy_uj = self._cpu_s * h.meter.j_per_cpu_s * 1e6
        counters: dict[str, float] = {k: h.counters[v] for k, v in COUNTED.items()}
        files.update_counters({**counters, "mape_k_energy_uJ": round(energy_uj, 1)})

    # failures ---------------------------------------------------------------------------------
    def _error(self, call: str, error: str, step: int | None = None) -> None:
        self._view.update(last_error=f"{call}: {error}", last_error_step=step)
        self.host.event(EventKind.ERROR, {"action": f"custom MAPE {call}", "error": error})

    def _failed(
        self, call: str, error: str, held: list[tuple[str, tuple[Any, ...]]], step: int = 0
    ) -> None:
        """A failed cycle: an error event, model.csv back to the active model, the fallback."""
        mape = self.host.policy.mape
        self._error(call, f"{error}; fallback: {FALLBACK_TEXT[mape.on_error]}", step)
        if self.files is not None:
            self.files.write_model(self.host.active_model)
        self._fallback(held, f"custom MAPE {call} failed")
        self._failed_in_row += 1
        if mape.max_failures and self._failed_in_row >= mape.max_failures and self.in_charge:
            self.in_charge = False
            self.state = "ended"
            self.close()
            self.host.event(
                EventKind.ERROR,
                {
                    "action": "custom MAPE",
                    "error": f"{self._failed_in_row} failed cycles in a row: the custom code is"
                    f" ended; from now on {FALLBACK_TEXT[mape.on_error]}",
                },
            )

    def _fallback(self, held: list[tuple[str, tuple[Any, ...]]], why: str) -> None:
        if self.host.policy.mape.on_error == "builtin":
            self.gate.apply(held, why)

    def _decide(self, step: int, action: str, reason: str, model: str | None = None) -> None:
        self._view.update(decision=reason, decision_step=step)
        self.host.loop.note_decision(step, action, reason, model)

    # front ends -------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What the run's summary says of the custom MAPE (JSON-ready)."""
        v = self.view()
        return {
            "dir": v.folder,
            "state": v.state,
            "on_error": self.host.policy.mape.on_error,
            "calls": v.calls,
            "failed_calls": v.failed_calls,
            "last_error": v.last_error,
            "pyrapl": v.pyrapl,
            "log": v.log,
        }

    def view(self) -> CustomView:
        process = self.process
        h = self.host
        return CustomView(
            folder=str(self.folder),
            state=self.state,
            fallback=FALLBACK_TEXT[h.policy.mape.on_error],
            pyrapl=process.pyrapl if process else "",
            log=str(paths.custom_mape_log(h.settings.data_dir, h.run_id)),
            **self._view,
        )
