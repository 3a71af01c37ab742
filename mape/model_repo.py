"""Versioned model files under ``models/<engine>/<model>/v<N>/``, written atomically.

A trainer writes into a staging directory (``.staging-*`` next to the versions); ``commit``
writes ``meta.json`` there, renames the directory to ``v<N>`` and only then records the version in
the knowledge store. The live model is never half-written, and a crash leaves at most a staging
directory, which is ignored and cleaned on the next start.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mape.knowledge import KnowledgeStore, VersionRow


@dataclass(frozen=True)
class StoredVersion:
    """A committed model version: where its files are and what we know about it."""

    engine: str
    model: str
    version: int
    directory: Path
    meta: dict[str, Any]
    reason: str
    created_at: float


class ModelRepository:
    """Model versions on disk plus their rows in the knowledge store."""

    def __init__(self, root: Path, store: KnowledgeStore) -> None:
        self.root = root
        self.models_root = root / "models"
        self.store = store

    def staging_dir(self, engine: str, model: str) -> Path:
        """A fresh directory for a trainer to write a new version into."""
        parent = self.models_root / engine / model
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))

    def clean_staging(self) -> None:
        """Remove staging directories left by a crash."""
        if not self.models_root.exists():
            return
        for stale in self.models_root.glob("*/*/.staging-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def commit(
        self,
        engine: str,
        model: str,
        staging: Path,
        meta: dict[str, Any],
        reason: str,
        run_id: int | None,
    ) -> StoredVersion:
        """Turn a staging directory into the next version, atomically."""
        version = max(self.store.max_version(engine, model), self._max_dir_version(engine, model)) + 1
        created = time.time()
        full_meta = {**meta, "engine": engine, "model": model, "version": version}
        (staging / "meta.json").write_text(json.dumps(full_meta, indent=2, default=str))
        final = self.models_root / engine / model / f"v{version}"
        staging.rename(final)
        rel = final.relative_to(self.root).as_posix()
        self.store.add_version(
            VersionRow(engine, model, version, rel, created, run_id, reason, full_meta)
        )
        return StoredVersion(engine, model, version, final, full_meta, reason, created)

    def adopt(self, source: StoredVersion, reason: str) -> StoredVersion:
        """Copy a version from another repository in as this one's next version (same meta)."""
        staging = self.staging_dir(source.engine, source.model)
        shutil.copytree(source.directory, staging, dirs_exist_ok=True)
        meta = {k: v for k, v in source.meta.items() if k not in ("engine", "model", "version")}
        return self.commit(source.engine, source.model, staging, meta, reason, None)

    def versions(self, engine: str, model: str | None = None) -> list[StoredVersion]:
        """Committed versions whose files are present, oldest first."""
        out = []
        for row in self.store.versions(engine, model):
            directory = self.root / row.path
            if directory.is_dir():
                out.append(
                    StoredVersion(
                        row.engine, row.model, row.version, directory, row.meta, row.reason,
                        row.created_at,
                    )
                )
        return out

    def latest(self, engine: str, model: str) -> StoredVersion | None:
        found = self.versions(engine, model)
        return found[-1] if found else None

    def get(self, engine: str, model: str, version: int) -> StoredVersion | None:
        return next((v for v in self.versions(engine, model) if v.version == version), None)

    def _max_dir_version(self, engine: str, model: str) -> int:
        parent = self.models_root / engine / model
        nums = [
            int(p.name[1:])
            for p in parent.glob("v*")
            if p.is_dir() and p.name[1:].isdigit()
        ]
        return max(nums, default=0)
