"""Data directories with real trained regression versions, and ways to damage them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from engines.base import TrainRequest
from engines.regression.training import train_model
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener
from mape.knowledge import KnowledgeStore
from mape.model_repo import ModelRepository, StoredVersion
from mape.policy_file import resolve_policy
from tests.mape.helpers import pems_stream


def repo_at(root: Path) -> ModelRepository:
    return ModelRepository(root, KnowledgeStore.open(root / "knowledge.sqlite3"))


def train_version(
    repo: ModelRepository, model: str = "linear", rows: int = 800, origin: str | None = None
) -> StoredVersion:
    """A real version trained in this process (the worker's function, without the worker);
    ``origin="retrain"`` marks it as a run's retrain (never a start version)."""
    staging = repo.staging_dir("regression", model)
    values = pems_stream()[:rows]
    result = train_model(TrainRequest("regression", model, values, staging))
    meta = {**result.meta, **({"origin": origin} if origin else {})}
    return repo.commit("regression", model, staging, meta, "first use", None)


def rewrite(stored: StoredVersion, name: str, data: bytes | None, record: bool) -> None:
    """Replace (None: delete) one file of a version; ``record`` also records the new state in
    meta.json and the store row, as someone who can write both would (so only the engine's own
    checks can notice)."""
    path = stored.directory / name
    if data is None:
        path.unlink()
    else:
        path.write_bytes(data)
    if not record:
        return
    meta = json.loads((stored.directory / "meta.json").read_text())
    if name == "meta.json":
        meta = json.loads(data) if data is not None else meta
    elif data is None:
        meta.get("files", {}).pop(name, None)
    else:
        meta.setdefault("files", {})[name] = hashlib.sha256(data).hexdigest()
    if name != "meta.json":
        (stored.directory / "meta.json").write_text(json.dumps(meta, indent=2))
    set_row(stored, meta_json=json.dumps(meta))


def set_row(stored: StoredVersion, **columns: Any) -> None:
    root = stored.directory.parents[3]
    with sqlite3.connect(root / "knowledge.sqlite3") as conn:
        for column, value in columns.items():
            conn.execute(
                f"UPDATE model_versions SET {column}=? WHERE engine=? AND model=? AND version=?",
                (value, stored.engine, stored.model, stored.version),
            )


class Said(RunListener):
    """Keeps the progress lines of a run."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def progress(self, text: str) -> None:
        self.lines.append(text)


def run_policy(
    root: Path, name: str = "single-linear", steps: int = 30, said: list[str] | None = None
) -> Runtime:
    """A real headless-equivalent run of a preset; progress lines go to ``said``."""
    policy, source, text = resolve_policy(name)
    runtime = Runtime(RunSettings(data_dir=root, steps=steps), policy, source, text)
    if said is not None:
        runtime.listeners.append(Said(said))
    asyncio.run(runtime.run())
    return runtime


def error_reasons(runtime: Runtime) -> list[str]:
    return [str(e.detail.get("error")) for e in runtime.store.events(runtime.run_id, ["error"])]
