"""The models of a run: every version loaded so far, the version each model runs, the active one;
and the one place where a due action (switch, reuse, swap in a retrained version) takes effect.

Actions are plain data (:mod:`harmone_tui.actions`); :meth:`ModelSlots.apply` is what they do.
Each applied action is recorded as one event with its reason, through ``record``; a switch to
the model already active is a no-op and is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engines.base import DataSummary, Engine, LoadedModel
from harmone_tui.actions import Action, ReuseVersion, SwapRetrained, SwitchTo
from harmone_tui.start_versions import VersionUnusable, load_checked
from mape.effector import VersionInfo
from mape.events import EventKind
from mape.model_repo import ModelRepository

Record = Callable[[EventKind, dict[str, Any]], object]
OnActive = Callable[[str, int], None]  # (model, version) now runs: the MAPE loop is told


class ModelSlots:
    """Loaded versions by (model, version), the current version of each model, the active model."""

    def __init__(self, engine: Engine, repo: ModelRepository, active: str, record: Record) -> None:
        self.engine, self.repo = engine, repo
        self.active = active
        self.current: dict[str, int] = {}
        self.loaded: dict[tuple[str, int], LoadedModel] = {}
        self._record = record
        self.on_active: OnActive = lambda model, version: None  # the runtime tells its loop

    def start(self, model: str, version: int, loaded: LoadedModel) -> None:
        """``model`` starts the run with ``version`` (already loaded)."""
        self.loaded[(model, version)] = loaded
        self.current[model] = version

    def model(self, name: str) -> LoadedModel:
        """The current version of ``name``, loaded."""
        return self.loaded[(name, self.current[name])]

    def stored(self, model: str) -> list[VersionInfo]:
        """Every stored version of ``model`` as the MAPE loop sees it, oldest first."""
        return [
            VersionInfo(
                model,
                v.version,
                DataSummary.from_dict(v.meta["data_summary"]) if "data_summary" in v.meta else None,
                v.reason,
            )
            for v in self.repo.versions(self.engine.name, model)
        ]

    async def apply(self, action: Action) -> None:
        """Make one due action take effect now and record it."""
        previous = self.active
        if isinstance(action, SwitchTo):
            if action.model == previous:
                return
            await self._activate(action.model, self.current[action.model])
            detail = {"from": previous, "to": action.model, "reason": action.reason}
            self._record(EventKind.SWITCH, {**detail, **action.detail})
        elif isinstance(action, ReuseVersion):
            was = f"{previous} v{self.current[previous]}"
            await self._activate(action.model, action.version)
            self._record(
                EventKind.REUSE,
                {
                    "model": action.model,
                    "version": action.version,
                    "from": was,
                    "reason": action.reason,
                    **action.detail,
                },
            )
        else:
            await self._swap_retrained(action)

    async def _swap_retrained(self, action: SwapRetrained) -> None:
        try:
            trained = await action.task
        except Exception as exc:  # a failed retrain must not stop the run
            detail = {"action": "retrain", "model": action.model, "error": str(exc)}
            self._record(EventKind.ERROR, detail)
            return
        stored = trained.stored
        await self._load(action.model, stored.version)
        self.current[action.model] = stored.version
        if self.active == action.model:
            self.on_active(action.model, stored.version)
        self._record(
            EventKind.RETRAIN_DONE,
            {
                "model": action.model,
                "version": stored.version,
                "reason": action.reason,
                "train_cpu_s": round(trained.cpu_s, 3),
                "train_energy_j": round(trained.energy_j, 3),
                "validation_r2": stored.meta.get("validation_r2"),
                "persistence_validation_r2": stored.meta.get("persistence_validation_r2"),
                "rows": stored.meta.get("train_rows"),
            },
        )

    async def _load(self, model: str, version: int) -> None:
        key = (model, version)
        if key not in self.loaded:
            stored = self.repo.get(self.engine.name, model, version)
            if stored is None:
                raise VersionUnusable(f"{model} v{version} is not in the knowledge store")
            self.loaded[key] = await load_checked(self.engine, self.repo, stored)

    async def _activate(self, model: str, version: int) -> None:
        """Load (if needed) and make ``model`` v``version`` the active model from now on."""
        await self._load(model, version)
        self.current[model] = version
        self.active = model
        self.on_active(model, version)
