"""`harmone models import regression NAME FILE`: a model trained elsewhere, checked, then stored.

The file (scikit-learn pickle or joblib, Keras ``.keras``, ONNX) is copied into a staging
directory and run exactly as a run will run it (``RegressionEngine.adopt`` then ``load``) over
every window of the training data: a file that does not load, takes another window than stated,
or predicts something that is not a finite number is refused before anything is stored. Its R²
on that data is recorded (``validation_r2``) with the window, the scaling, the sha256 and where
it came from; a policy then names it like any model (``models = ["linear", "my_gbr"]``).

A pickle runs the code it names when loaded, so a scikit-learn file needs ``--trust``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmone_common.errors import HarmoneError
from harmone_tui import paths

TRUST_HELP = (
    "a scikit-learn pickle or joblib file runs whatever code it names when it is loaded:"
    " import one only from a source you trust, and say so with --trust (its sha256 is recorded"
    " and checked before every load, so the file run later is the file trusted now)"
)


class ImportRefused(HarmoneError):
    """The model file or the import's settings cannot be used; nothing was stored."""


@dataclass(frozen=True)
class Imported:
    """The version an import stored, or (``already``) the one that holds the same bytes."""

    stored: Any
    already: bool


@dataclass(frozen=True)
class RegressionImport:
    """What ``models import regression`` was asked (from the command line)."""

    name: str
    path: Path
    window: int | None = None
    scaling: str = "minmax"
    scale_min: float | None = None
    scale_max: float | None = None
    train: Path | None = None
    train_column: str = "flow"
    trust: bool = False


def add_regression_options(parser: argparse.ArgumentParser) -> None:
    """The options of a regression import (a vision import takes none of them)."""
    parser.add_argument(
        "--window",
        type=int,
        help="values the model takes (default: what the file declares: n_features_in_, the"
        " input shape)",
    )
    parser.add_argument(
        "--scaling",
        choices=("minmax", "none"),
        default="minmax",
        help="minmax: inputs scaled to 0..1 over --scale-min..--scale-max and the output back"
        " (the bundled models' scaling); none: raw values in and out (default: minmax)",
    )
    parser.add_argument("--scale-min", type=float, help="minmax low (default: the training min)")
    parser.add_argument("--scale-max", type=float, help="minmax high (default: the training max)")
    parser.add_argument(
        "--train",
        type=Path,
        help="CSV the model is checked on (default: the bundled flow_train.csv)",
    )
    parser.add_argument("--train-column", default="flow", help="column of --train (default: flow)")
    parser.add_argument("--trust", action="store_true", help=TRUST_HELP)


def request_of(args: argparse.Namespace) -> RegressionImport:
    if len(args.args) != 2:
        raise ImportRefused(
            "usage: harmone models import regression NAME FILE [--window N] [--scaling ...]"
        )
    name, path = args.args
    return RegressionImport(
        name,
        Path(path),
        args.window,
        args.scaling,
        args.scale_min,
        args.scale_max,
        args.train,
        args.train_column,
        args.trust,
    )


def _check_name(name: str) -> None:
    from engines.regression.engine import MODELS
    from mape.names import NAME_RE, NAME_RULE

    if not NAME_RE.match(name) or ".." in name:
        raise ImportRefused(f"model name {name!r}: {NAME_RULE}")
    if name in {m.name for m in MODELS}:
        raise ImportRefused(f"model name {name!r} is a bundled regression model's; choose another")


def _scaler(req: RegressionImport, values: Any) -> dict[str, float]:
    if req.scaling == "none":
        return {"min": 0.0, "max": 1.0}  # the identity: (x - 0) / 1
    low = float(values.min()) if req.scale_min is None else req.scale_min
    high = float(values.max()) if req.scale_max is None else req.scale_max
    if not high > low:
        raise ImportRefused(f"--scale-min {low:g} must be below --scale-max {high:g}")
    return {"min": low, "max": high}


def _check_on_training_data(engine: Any, req: RegressionImport, staging: Path) -> dict[str, Any]:
    """Load the staged copy as a run would and predict every training window; the figures."""
    import numpy as np

    from engines.base import EngineError
    from engines.metrics import r2

    loaded = engine.load(req.name, 0, staging)
    window = loaded.window
    values = engine.train
    view = np.lib.stride_tricks.sliding_window_view(values, window + 1)
    predictions = np.empty(len(view))
    for i, row in enumerate(view):
        try:
            predictions[i] = loaded.predict(row[:window])
        except Exception as exc:  # noqa: BLE001 - the user's model failing, however it fails
            from engines.protocol import first_line

            raise EngineError(
                f"{req.path}: predict failed on training window {i + 1}: {first_line(exc)}"
            ) from None
    bad = ~np.isfinite(predictions)
    if bad.any():
        first = int(np.argmax(bad))
        raise EngineError(
            f"{req.path}: predicted {predictions[first]} for training window {first + 1};"
            " predictions must be finite numbers"
        )
    truth = view[:, window]
    return {
        "validation_r2": r2(truth, predictions),
        "persistence_validation_r2": r2(truth, view[:, window - 1]),
        "validated_rows": int(len(view)),
    }


def _declared_window(fmt: str, path: Path, given: int | None) -> int:
    from engines.regression.imported import MAX_WINDOW, open_model

    _, declared = open_model(fmt, path)
    if given is not None and declared is not None and given != declared:
        raise ImportRefused(f"{path}: the model takes {declared} values, not --window {given}")
    window = given if given is not None else declared
    if window is None:
        raise ImportRefused(
            f"{path}: the file does not say how many values it takes: give --window"
        )
    if not 1 <= window <= MAX_WINDOW:
        raise ImportRefused(f"--window {window}: must be 1 to {MAX_WINDOW}")
    return window


def import_regression(root: Path, req: RegressionImport) -> Any:
    """Check and store ``req``'s file as the next version of regression model ``req.name``."""
    from engines.base import EngineError
    from engines.regression.factory import create_regression_engine
    from engines.regression.imported import FILE_OF, ImportedSpec, format_of
    from mape.knowledge import KnowledgeStore
    from mape.model_files import sha256_of
    from mape.model_repo import ModelRepository

    _check_name(req.name)
    source = req.path.expanduser().resolve()
    if not source.is_file():
        raise EngineError(f"{req.path}: no such file")
    fmt = format_of(source)
    if fmt == "sklearn" and not req.trust:
        raise ImportRefused(
            f"{req.path}: loading a pickle runs the code it names; not loaded",
            hint="if you trust this file, import it with --trust (`harmone models import --help`)",
        )
    engine = create_regression_engine(req.train, req.train_column, req.train, req.train_column)
    store = KnowledgeStore.open(paths.knowledge_file(root))
    try:
        repo = ModelRepository(root, store)
        digest = sha256_of(source)
        existing = repo.find_content("regression", req.name, {FILE_OF[fmt]: digest})
        if existing is not None:
            return Imported(existing, already=True)
        staging = repo.staging_dir("regression", req.name)
        try:
            shutil.copyfile(source, staging / FILE_OF[fmt])
            window = _declared_window(fmt, staging / FILE_OF[fmt], req.window)
            spec = ImportedSpec(fmt, window, req.scaling)
            meta: dict[str, Any] = {
                "imported": spec.to_dict(),
                "scaler": _scaler(req, engine.train),
                "window": window,
            }
            (staging / "meta.json").write_text(json.dumps(meta))  # what load reads; replaced
            problem = engine.adopt(req.name, meta)
            if problem:
                raise ImportRefused(f"{req.path}: {problem}")
            meta.update(_check_on_training_data(engine, req, staging))
            (staging / "meta.json").unlink()
            meta.update(
                {
                    "imported_from": str(source),
                    "sha256": digest,
                    "validated_on": str(req.train or "the bundled flow_train.csv"),
                    "data_summary": engine.summarise(engine.train).to_dict(),
                    "train_rows": int(len(engine.train)),
                }
            )
            stored = repo.commit(
                "regression", req.name, staging, meta, f"imported from {req.path}", None
            )
            return Imported(stored, already=False)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        store.close()
