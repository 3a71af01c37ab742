"""Engine names to factories. Heavy back ends are imported inside the factory, never at import."""

from __future__ import annotations

from pathlib import Path

from engines.base import Engine, EngineError

ENGINES = ("regression", "vision", "fake")


def create_engine(
    name: str,
    *,
    data: Path | None = None,
    column: str = "flow",
    train: Path | None = None,
    train_column: str = "flow",
    work_dir: Path | None = None,
    config_dir: Path | None = None,
    gaps: str = "hold",
) -> Engine:
    """Build an engine over ``data`` (None: the bundled sample stream of that engine).

    ``gaps`` is the regression engine's policy for empty cells (hold, skip, refuse).
    ``work_dir`` and ``config_dir`` are given by the caller (``harmone_tui.paths``: engines never
    build a location of their own): the vision engine keeps its generated dataset and extracted
    zips in ``work_dir`` and Ultralytics' config in ``config_dir``; it needs both.
    """
    if name == "regression":
        from engines.regression.factory import create_regression_engine

        return create_regression_engine(data, column, train, train_column, gaps)
    if name == "vision":
        try:
            from engines.vision.engine import create_vision_engine
        except ImportError as exc:
            raise EngineError(
                f"the vision engine needs the [vision] extra (torch, ultralytics): {exc}"
            ) from None
        if work_dir is None or config_dir is None:
            raise ValueError("the vision engine needs a work_dir and a config_dir")
        return create_vision_engine(data, work_dir, config_dir=config_dir)
    if name == "fake":  # deterministic and instant: UI tests, snapshots, demos
        from engines.fake import create_fake_engine

        return create_fake_engine(data, column)
    raise EngineError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
