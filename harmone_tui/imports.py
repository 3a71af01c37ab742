"""Imported models (``harmone models import``) joining an engine before a run or a compare.

An import is stored as versions of a model the engine does not define; the newest version's
``meta["imported"]`` says how to run it. Every model a policy names that the engine lacks and the
store holds as an import is handed to :meth:`engines.base.Engine.adopt` before the policy's
models are checked, so a policy names an import like any other model.
"""

from __future__ import annotations

from collections.abc import Iterable

from engines.base import Engine, EngineError
from mape.model_repo import ModelRepository


def adopt_imports(
    engine: Engine, repo: ModelRepository, models: Iterable[str], source: str
) -> None:
    """Let ``engine`` take on the imported ``models`` ``repo`` holds; EngineError naming
    ``source`` (the policy) and the model when the engine cannot run one."""
    own = {m.name for m in engine.models()}
    for model in models:
        if model in own:
            continue
        latest = repo.latest(engine.name, model)
        if latest is None or "imported" not in latest.meta:
            continue
        problem = engine.adopt(model, latest.meta)
        if problem:
            raise EngineError(f"{source}: model {model}: {problem}")
        own.add(model)
