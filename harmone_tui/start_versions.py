"""Loading the versions a run starts with, passing over damaged ones instead of failing.

A version directory can be damaged (a truncated or empty ``model.pkl``, a missing or edited
``meta.json``, a file that no longer matches its recorded sha256) or refused (a row whose path
leaves ``models/``, a pickle holding an object our models never contain). Such a version must not
end the run with a traceback: it is reported once, as an ``error`` event that names the directory
and what to do, and the run goes on with the newest valid base version of that model. When no
valid version is left, a new one is trained on first use (and the run says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.base import Engine, EngineError, LoadedModel
from harmone_tui import paths
from harmone_tui.threads import in_thread
from harmone_tui.trainer_pool import TrainerPool, train_first_version
from mape.model_repo import ModelRepository, StoredVersion

Report = Callable[[dict[str, Any]], None]  # detail of an ``error`` event


class VersionUnusable(EngineError):
    """A stored version that cannot be loaded; the message names it and says what to do."""


@dataclass(frozen=True)
class StartVersion:
    stored: StoredVersion
    loaded: LoadedModel


def remedy(engine: str, model: str, version: int) -> str:
    return (
        f"`harmone models check` lists damaged versions;"
        f" `harmone models remove {engine} {model} {version}` deletes this one"
    )


def describe(exc: BaseException) -> str:
    """One line for why a load failed (an EngineError already says it)."""
    if isinstance(exc, EngineError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def load_checked(engine: Engine, repo: ModelRepository, stored: StoredVersion) -> LoadedModel:
    """Check a version's files against its row, then load it; VersionUnusable if either fails.

    A refused version is left out of ``repo.versions`` for the rest of the process, so reuse
    never picks it again.
    """
    problem = await in_thread(repo.verify, stored)
    if problem is None:
        try:
            return await in_thread(engine.load, stored.model, stored.version, stored.directory)
        except Exception as exc:  # noqa: BLE001 - any failure means the files are unusable
            problem = describe(exc)
    repo.refuse(stored, problem)
    short = problem.replace(f"{stored.directory}/", "")  # the directory is named once, below
    raise VersionUnusable(
        f"{stored.engine} {stored.model} v{stored.version} is damaged: {short}"
        f" (in {stored.directory})"
    )


def _base_versions(repo: ModelRepository, engine: str, model: str) -> list[StoredVersion]:
    """Base versions (not made by a run's retrain), newest first."""
    found = [v for v in repo.versions(engine, model) if v.meta.get("origin") != "retrain"]
    return found[::-1]


def engine_problem(engine: str, model: str, directory: Path, root: Path) -> str | None:
    """What the engine finds wrong with a version's files, without loading a framework
    (None: readable). Used where a full load would cost too much: checks and copies."""
    try:
        if engine == "regression":
            from engines.regression.engine import check_files

            check_files(model, directory)
        elif engine == "vision":
            from engines.vision.safe_load import check_version

            check_version(directory, paths.ultralytics_dir(root))
    except EngineError as exc:
        return str(exc)
    return None


def checked_base_version(
    repo: ModelRepository, engine: str, model: str, say: Callable[[str], None]
) -> StoredVersion | None:
    """The newest base version that passes the store's and the engine's checks, saying which
    were passed over (``compare`` copies it into its own data directory)."""
    for stored in _base_versions(repo, engine, model):
        problem = repo.verify(stored) or engine_problem(engine, model, stored.directory, repo.root)
        if problem is None:
            return stored
        say(f"not using {engine} {model} v{stored.version} ({stored.directory}): {problem}")
    return None


def report_refused_rows(
    repo: ModelRepository,
    engine: str,
    models: list[str],
    report: Report,
    seen: set[tuple[str, str, int]],
) -> None:
    """One error event per store row refused for its path (not followed, never loaded)."""
    for (eng, model, version), problem in sorted(repo.refused.items()):
        key = (eng, model, version)
        if eng != engine or model not in models or key in seen:
            continue
        seen.add(key)
        report(
            {
                "action": "load",
                "model": model,
                "version": version,
                "error": f"knowledge store row {eng} {model} v{version} refused: {problem};"
                f" {remedy(eng, model, version)}",
            }
        )


async def load_start_versions(
    engine: Engine,
    pool: TrainerPool,
    models: list[str],
    on_progress: Callable[[str], None],
    report: Report,
    run_id: int | None = None,
) -> dict[str, StartVersion]:
    """Each model's newest valid base version, loaded; first-use training where none is valid."""
    repo = pool.repo
    out: dict[str, StartVersion] = {}
    seen: set[tuple[str, str, int]] = set()
    untrained = [m for m in models if not _base_versions(repo, engine.name, m)]
    for model in models:
        trained_here = False
        while model not in out:
            candidates = _base_versions(repo, engine.name, model)
            report_refused_rows(repo, engine.name, models, report, seen)
            for stored in candidates:
                on_progress(f"loading {model} v{stored.version}")
                try:
                    out[model] = StartVersion(stored, await load_checked(engine, repo, stored))
                    break
                except VersionUnusable as exc:
                    seen.add((engine.name, model, stored.version))
                    rest = [v.version for v in candidates if v.version < stored.version]
                    then = f"trying v{rest[0]}" if rest else "no valid version is left"
                    report(
                        {
                            "action": "load",
                            "model": model,
                            "version": stored.version,
                            "error": f"{exc}; {then}. {remedy(engine.name, model, stored.version)}",
                        }
                    )
            if model in out:
                break
            if trained_here:
                raise EngineError(f"{model}: the version trained just now cannot be loaded")
            if candidates:
                on_progress(f"no valid version of {model} is left: training a new one")
            count = (
                f"{untrained.index(model) + 1}/{len(untrained)}" if model in untrained else "1/1"
            )
            await train_first_version(engine, pool, model, on_progress, run_id, count)
            trained_here = True
    return out
