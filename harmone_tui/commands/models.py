"""`harmone models list|import|bootstrap`: the versioned models in the data directory.

- ``list`` prints every stored version (engine, model, version, when, why, key metrics);
- ``import regression NAME FILE`` stores a user's own scikit-learn, Keras or ONNX model, checked
  on the training data first (``harmone_tui.commands.models_import``); ``import [vision] MODEL
  PATH`` stores a YOLO detection checkpoint as the next version of a vision model, after loading
  it and running it once, so a broken file is refused before it is stored;
- ``bootstrap vision`` trains the missing first versions of the vision models in the training
  worker process (the same path a run takes on first use), with progress on stderr;
- ``check`` and ``remove`` find and delete damaged versions (``harmone_tui.commands.models_check``).

Heavy modules (torch, Ultralytics) are imported only by ``import`` and ``bootstrap``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from harmone_tui import paths
from harmone_tui.commands import models_check
from harmone_tui.commands.models_import import (
    TRUST_HELP,
    Imported,
    ImportRefused,
    add_regression_options,
    import_regression,
    request_of,
)

VISION_MODELS = ("yolo_n", "yolo_s", "yolo_m")
META_KEYS = (
    "epochs",
    "imgsz",
    "train_images",
    "val_map50",
    "validation_r2",
    "train_rows",
    "train_cpu_s",
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _model_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VISION_MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none)'};"
            f" choose from {','.join(VISION_MODELS)}"
        )
    return names


IMPORT_DESCRIPTION = "\n\n".join(
    textwrap.fill(paragraph, 78)
    for paragraph in (
        "regression NAME FILE: a scikit-learn estimator (.pkl, .pickle, .joblib), a Keras"
        " .keras file or an ONNX file, run on the last --window values. It is checked by a"
        " predict on every window of the training data before it is stored; then any policy"
        ' names it (models = ["linear", "NAME"]). It has no trainer, so it is never retrained'
        " ([retrain] untrainable in the policy says what happens instead).",
        "Trust: " + TRUST_HELP + ".",
        "vision MODEL FILE (or MODEL FILE): a YOLO detection checkpoint (.pt) as the next"
        " version of yolo_n, yolo_s or yolo_m, loaded with Ultralytics' restricted loader"
        " (torch weights_only plus its allow-list of model classes): one that needs any other"
        " code is refused before anything in it runs.",
        "The same file imported twice is stored once. docs/engines.md has the details.",
    )
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="print the stored model versions")
    listing.add_argument("--engine", help="only this engine's versions")
    listing.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list: engine, model, version, created_at (epoch s), reason, run_id,"
        " path, meta",
    )
    imp = actions.add_parser(
        "import",
        help="store a model trained elsewhere: regression NAME FILE, or vision MODEL FILE",
        description=IMPORT_DESCRIPTION,
    )
    imp.add_argument(
        "target",
        choices=("regression", "vision", *VISION_MODELS),
        metavar="ENGINE",
        help="regression or vision (a YOLO model name alone means vision)",
    )
    imp.add_argument("args", nargs="+", metavar="NAME FILE", help="the model's name and its file")
    add_regression_options(imp)
    boot = actions.add_parser("bootstrap", help="train the missing first versions of an engine")
    boot.add_argument("engine", choices=("vision",), help="the engine (vision)")
    boot.add_argument("--epochs", type=_positive, help="epochs for every size (default: per size)")
    boot.add_argument("--imgsz", type=_positive, help="training image size (default: 160)")
    boot.add_argument("--images", type=_positive, help="generated training images (default: 120)")
    boot.add_argument(
        "--models",
        type=_model_list,
        default=list(VISION_MODELS),
        help="comma-separated models to train (default: yolo_n,yolo_s,yolo_m)",
    )
    models_check.add_arguments(actions)


def run(args: argparse.Namespace) -> int:
    root = paths.data_dir(args.data_dir)
    if args.action == "list":
        return list_versions(root, args.engine, args.json)
    if args.action == "import":
        if args.target == "regression":
            request = request_of(args)
            imported, path = import_regression(root, request), request.path
        else:
            model, path = _vision_target(args)
            imported = import_checkpoint(root, model, path)
        stored = imported.stored
        if imported.already:
            print(
                f"{path} is already imported as {stored.engine} {stored.model}"
                f" v{stored.version} ({stored.directory}); nothing stored"
            )
        else:
            r2 = stored.meta.get("validation_r2")
            checked = "" if r2 is None else f"; R² {r2:.3f} on the training data"
            print(
                f"stored {path} as {stored.engine} {stored.model} v{stored.version}"
                f" ({stored.directory}){checked}"
            )
        return 0
    if args.action in ("check", "remove"):
        from harmone_tui.commands import models_check

        return models_check.run(root, args)
    return asyncio.run(bootstrap(root, args.models, args.epochs, args.imgsz, args.images))


def _vision_target(args: argparse.Namespace) -> tuple[str, Path]:
    """``(model, file)`` of ``import vision MODEL FILE`` or ``import MODEL FILE``."""
    rest = list(args.args) if args.target == "vision" else [args.target, *args.args]
    if len(rest) != 2 or rest[0] not in VISION_MODELS:
        raise ImportRefused(
            f"usage: harmone models import vision MODEL FILE (MODEL: {', '.join(VISION_MODELS)})"
        )
    return rest[0], Path(rest[1])


def _meta_text(meta: dict[str, Any]) -> str:
    parts = []
    for key in META_KEYS:
        value = meta.get(key)
        if value is not None:
            parts.append(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def list_versions(root: Path, engine: str | None, as_json: bool = False) -> int:
    """Print the versions as a table (or JSON); reads the store without creating one."""
    from mape.knowledge import KnowledgeStore

    knowledge = paths.knowledge_file(root)
    rows = []
    if knowledge.exists():
        store = KnowledgeStore.open(knowledge)
        try:
            rows = store.versions(engine)
        finally:
            store.close()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "engine": r.engine,
                        "model": r.model,
                        "version": r.version,
                        "created_at": r.created_at,
                        "reason": r.reason,
                        "run_id": r.run_id,
                        "path": str(root / r.path),
                        "meta": r.meta,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return 0
    if not rows:
        print(f"no model versions in {root}" + (f" for engine {engine}" if engine else ""))
        return 0
    table = [("ENGINE", "MODEL", "VERSION", "CREATED", "REASON", "META")] + [
        (
            r.engine,
            r.model,
            f"v{r.version}",
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)),
            r.reason,
            _meta_text(r.meta),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for *cells, meta in table:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + meta)
    return 0


def _check_checkpoint(path: Path, config_dir: Path, shown: Path | None = None) -> dict[str, Any]:
    """Load ``path`` with Ultralytics and run it once; EngineError unless it is a YOLO detector."""
    import numpy as np

    from engines.base import EngineError
    from engines.vision.offline import import_yolo
    from engines.vision.safe_load import first_line, load_yolo

    if not path.is_file():
        raise EngineError(f"{path}: no such file")
    name = shown or path
    YOLO = import_yolo(config_dir)
    try:
        yolo = load_yolo(YOLO, path, name)
        if yolo.task != "detect":
            raise ValueError(f"it is a {yolo.task} model, not a detection model")
        yolo.predict(np.zeros((64, 64, 3), dtype=np.uint8), imgsz=64, device="cpu", verbose=False)
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever fails, the file is not usable
        raise EngineError(f"{name}: not a YOLO checkpoint ({first_line(exc)})") from None
    args = getattr(yolo, "ckpt", {}) or {}
    train_args = args.get("train_args", {}) if isinstance(args, dict) else {}
    return {"names": dict(yolo.names), "imgsz": train_args.get("imgsz")}


def import_checkpoint(root: Path, model: str, path: Path) -> Any:
    """Validate, copy into a staging directory as weights.pt, and commit as the next version.

    The copy is validated, not the source, so the stored bytes are the checked ones. A
    checkpoint already stored as a version of ``model`` (same sha256) is not stored again:
    that version is returned, with ``already`` set in its result.
    """
    from engines.base import EngineError
    from engines.vision.engine import WEIGHTS
    from mape.knowledge import KnowledgeStore
    from mape.model_files import sha256_of
    from mape.model_repo import ModelRepository

    source = path.expanduser().resolve()
    if not source.is_file():
        raise EngineError(f"{path}: no such file")
    store = KnowledgeStore.open(paths.knowledge_file(root))
    try:
        repo = ModelRepository(root, store)
        digest = sha256_of(source)
        existing = repo.find_content("vision", model, {WEIGHTS: digest})
        if existing is not None:
            return Imported(existing, already=True)
        staging = repo.staging_dir("vision", model)
        try:
            shutil.copyfile(source, staging / WEIGHTS)
            found = _check_checkpoint(staging / WEIGHTS, paths.ultralytics_dir(root), path)
            meta = {**found, "imported_from": str(source), "sha256": digest}
            stored = repo.commit("vision", model, staging, meta, f"imported from {path}", None)
            return Imported(stored, already=False)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        store.close()


async def bootstrap(
    root: Path, models: list[str], epochs: int | None, imgsz: int | None, images: int | None
) -> int:
    """Train the missing first versions in the worker process; progress lines go to stderr."""
    from engines.vision import synthetic
    from engines.vision.engine import create_vision_engine
    from harmone_tui.trainer_pool import TrainerPool, ensure_models
    from mape.knowledge import KnowledgeStore
    from mape.model_repo import ModelRepository

    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)

    engine = create_vision_engine(
        None,
        paths.vision_dir(root),
        config_dir=paths.ultralytics_dir(root),
        train_images=images or synthetic.DEFAULT_COUNT,
        epochs=epochs,
        train_imgsz=imgsz,
    )
    store = KnowledgeStore.open(paths.knowledge_file(root))
    pool = TrainerPool(ModelRepository(root, store), _joules_for_cpu_seconds())
    try:
        say(f"generating the training set ({engine.dataset.count} images)")
        await asyncio.to_thread(engine.initial_training_data, models[0])
        versions = await ensure_models(engine, pool, models, say)
    finally:
        pool.close()
        store.close()
    for model, stored in versions.items():
        print(f"vision {model} v{stored.version}  {_meta_text(stored.meta)}")
    return 0


def _joules_for_cpu_seconds() -> Any:
    from engines.energy import create_meter

    return create_meter().joules_for_cpu_seconds
