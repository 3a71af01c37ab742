"""Versioned model files under ``models/<engine>/<model>/v<N>/``, written atomically and durably.

A trainer writes into a staging directory (``.staging-<owner>-*`` next to the versions, named
after the process that made it: see :mod:`mape.owner`). ``commit`` then, holding the store's
write lock (BEGIN IMMEDIATE, so processes sharing the data directory take turns), picks the next
version number, writes ``meta.json`` with a sha256 of every file, fsyncs, renames the directory to
``v<N>`` and records the row. The live model is never half-written; a crash leaves at most a
staging directory or a version directory without a row, which :meth:`clean_leftovers` removes
once its owner is gone.

A row's path is followed only inside ``models/``: a row edited to point elsewhere is refused.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mape import model_files, owner
from mape.knowledge import KnowledgeError, KnowledgeStore, VersionRow

MODELS_DIR = "models"  # rows name versions relative to the data dir, under this directory
STAGING_PREFIX = ".staging-"
_STAGING_OWNER = re.compile(r"^\.staging-(\d+-\d+)-")
_VERSION_DIR = re.compile(r"^v(\d+)$")


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


@dataclass(frozen=True)
class VersionState:
    """A store row with its directory (None if refused) and what is wrong with it (None: ok)."""

    row: VersionRow
    directory: Path | None
    problem: str | None

    @property
    def label(self) -> str:
        return f"{self.row.engine} {self.row.model} v{self.row.version}"


class ModelRepository:
    """Model versions on disk plus their rows in the knowledge store."""

    def __init__(self, root: Path, store: KnowledgeStore) -> None:
        self.root = root
        self.models_root = root / MODELS_DIR
        self.store = store
        self.refused: dict[tuple[str, str, int], str] = {}

    # writing ----------------------------------------------------------------------------------
    def staging_dir(self, engine: str, model: str) -> Path:
        """A fresh directory, owned by this process, for a trainer to write a new version into."""
        parent = self.models_root / engine / model
        parent.mkdir(parents=True, exist_ok=True)
        prefix = f"{STAGING_PREFIX}{owner.current_tag()}-"
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))

    def commit(
        self,
        engine: str,
        model: str,
        staging: Path,
        meta: dict[str, Any],
        reason: str,
        run_id: int | None,
    ) -> StoredVersion:
        """Turn a staging directory into the next version, atomically and durably."""
        files = model_files.checksums(staging)
        model_files.fsync_tree(staging)
        parent = self.models_root / engine / model
        created = time.time()
        with self.store.write_lock(durable=True):
            version = max(self.store.max_version(engine, model), self._max_dir_version(parent)) + 1
            full_meta = {
                **meta,
                "engine": engine,
                "model": model,
                "version": version,
                "files": files,
            }
            model_files.write_meta(staging, full_meta)
            final = parent / f"v{version}"
            staging.rename(final)
            try:
                model_files.fsync_dir(parent)
                rel = final.relative_to(self.root).as_posix()
                self.store.add_version(
                    VersionRow(engine, model, version, rel, created, run_id, reason, full_meta)
                )
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise
        return StoredVersion(engine, model, version, final, full_meta, reason, created)

    def adopt(self, source: StoredVersion, reason: str) -> StoredVersion:
        """Copy a version from another repository in as this one's next version (same meta).

        The copy must match the source's recorded checksums (KnowledgeError otherwise), so a
        damaged or replaced file is never re-recorded here as if it were the trained one.
        """
        staging = self.staging_dir(source.engine, source.model)
        shutil.copytree(source.directory, staging, dirs_exist_ok=True)
        (staging / model_files.META).unlink(missing_ok=True)
        recorded = source.meta.get("files")
        if recorded is not None and model_files.checksums(staging) != recorded:
            shutil.rmtree(staging, ignore_errors=True)
            raise KnowledgeError(
                f"{source.directory}: its files do not match their recorded checksums;"
                " not copied (`harmone models check` says which)"
            )
        dropped = ("engine", "model", "version", "files")
        meta = {k: v for k, v in source.meta.items() if k not in dropped}
        return self.commit(source.engine, source.model, staging, meta, reason, None)

    def remove(self, state: VersionState) -> None:
        """Delete a version: its row and (when inside ``models/``) its directory."""
        row = state.row
        with self.store.write_lock():
            self.store.remove_version(row.engine, row.model, row.version)
            if state.directory is not None and state.directory.is_dir():
                shutil.rmtree(state.directory)
        self.refused.pop((row.engine, row.model, row.version), None)

    def refuse(self, stored: StoredVersion, problem: str) -> None:
        """Leave a version out of :meth:`versions` for the rest of this process (it is damaged)."""
        self.refused[(stored.engine, stored.model, stored.version)] = problem

    # reading ----------------------------------------------------------------------------------
    def states(
        self, engine: str | None = None, model: str | None = None, verify: bool = False
    ) -> list[VersionState]:
        """Every row with its directory and problem; ``verify`` also checks files and checksums."""
        out = []
        models_root = self.models_root.resolve()
        for row in self.store.versions(engine, model):
            directory = (self.root / row.path).resolve()
            if not directory.is_relative_to(models_root):
                problem = f"its path {row.path!r} is outside {models_root}"
                out.append(VersionState(row, None, problem))
                continue
            if directory.parent != models_root / row.engine / row.model:
                out.append(
                    VersionState(
                        row,
                        None,
                        f"its path {row.path!r} is not under models/{row.engine}/{row.model}",
                    )
                )
                continue
            if not directory.is_dir():
                out.append(VersionState(row, directory, f"its directory {directory} is missing"))
                continue
            problem = model_files.problem_with(directory, row.meta) if verify else None
            out.append(VersionState(row, directory, problem))
        return out

    def versions(self, engine: str, model: str | None = None) -> list[StoredVersion]:
        """Committed versions whose directory is inside ``models/`` and present, oldest first.

        Rows refused for their path are also noted in :attr:`refused`, with the reason.
        """
        out = []
        for state in self.states(engine, model):
            row = state.row
            key = (row.engine, row.model, row.version)
            if state.problem is not None and state.directory is None:
                self.refused.setdefault(key, state.problem)
            if state.problem is not None or key in self.refused or state.directory is None:
                continue
            out.append(
                StoredVersion(
                    row.engine,
                    row.model,
                    row.version,
                    state.directory,
                    row.meta,
                    row.reason,
                    row.created_at,
                )
            )
        return out

    def verify(self, stored: StoredVersion) -> str | None:
        """What is wrong with a version's files against its row (None: intact)."""
        return model_files.problem_with(stored.directory, stored.meta)

    def latest(self, engine: str, model: str) -> StoredVersion | None:
        found = self.versions(engine, model)
        return found[-1] if found else None

    def get(self, engine: str, model: str, version: int) -> StoredVersion | None:
        return next((v for v in self.versions(engine, model) if v.version == version), None)

    def find_content(self, engine: str, model: str, files: dict[str, str]) -> StoredVersion | None:
        """A stored version of ``model`` with exactly these files (by checksum), if any."""
        key = model_files.content_key(files)
        for stored in self.versions(engine, model):
            recorded = stored.meta.get("files")
            if isinstance(recorded, dict) and model_files.content_key(recorded) == key:
                return stored
        return None

    # housekeeping -----------------------------------------------------------------------------
    def clean_leftovers(self) -> list[Path]:
        """Remove what crashed processes left (see :meth:`leftovers`); returns what was removed.

        Runs under the store's write lock, so no commit (rename, then row) is half-way through.
        """
        with self.store.write_lock():
            found = self._leftovers()
            for path in found:
                shutil.rmtree(path, ignore_errors=True)
        return found

    def leftovers(self) -> list[Path]:
        """Staging directories whose owner is gone, and version directories no row records."""
        with self.store.write_lock():
            return self._leftovers()

    def _leftovers(self) -> list[Path]:
        if not self.models_root.is_dir():
            return []
        recorded = {(self.root / r.path).resolve() for r in self.store.versions()}
        return [
            child
            for parent in sorted(p for p in self.models_root.glob("*/*") if p.is_dir())
            for child in sorted(parent.iterdir())
            if child.is_dir() and self._is_leftover(child, recorded)
        ]

    @staticmethod
    def _is_leftover(child: Path, recorded: set[Path]) -> bool:
        if child.name.startswith(STAGING_PREFIX):
            found = _STAGING_OWNER.match(child.name)
            return found is None or not owner.tag_alive(found.group(1))
        return _VERSION_DIR.match(child.name) is not None and child.resolve() not in recorded

    @staticmethod
    def _max_dir_version(parent: Path) -> int:
        if not parent.is_dir():
            return 0
        found = (_VERSION_DIR.match(p.name) for p in parent.iterdir())
        return max((int(m.group(1)) for m in found if m), default=0)
