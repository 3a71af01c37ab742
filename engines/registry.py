"""Finding and building engines: bundled, installed plug-ins, and ones named on the command line.

An engine is named three ways (``--engine``, a policy's ``engine`` key):

- by **name**, found among the bundled engines and the entry points of the group
  ``harmone.engines`` of every installed distribution (the bundled engines register there too,
  in ``pyproject.toml``; the bundled table below finds them when harmone itself runs from a
  checkout that is not installed);
- as ``package.module:factory``, an importable callable;
- as ``path/to/engine.py``, a file defining ``create_engine`` (or ``path.py:factory``); its
  directory is put on ``sys.path``, so the training worker process can import it too.

A factory takes one :class:`EngineOptions` and returns an :class:`~engines.base.Engine`. Whatever
goes wrong (the module does not import, the factory raises, the engine breaks the protocol:
see :mod:`engines.protocol`) is one :class:`EngineError` naming the engine and the problem.
Heavy back ends are imported inside the factory, never when this module is imported.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.base import Engine, EngineError
from engines.protocol import check_engine, first_line

GROUP = "harmone.engines"
BUNDLED = {
    "regression": "engines.registry:regression_factory",
    "vision": "engines.registry:vision_factory",
    "fake": "engines.registry:fake_factory",
}
ENGINES = tuple(BUNDLED)
FILE_FACTORY = "create_engine"


@dataclass(frozen=True)
class EngineOptions:
    """What the command line gives every engine; an engine uses what it needs.

    ``data`` is the stream (None: the engine's own sample), ``column``/``train``/``train_column``
    and ``gaps`` describe CSV input, ``work_dir`` and ``config_dir`` are the engine's own
    directories under the data dir (an engine never builds a location of its own).
    """

    data: Path | None = None
    column: str = "flow"
    train: Path | None = None
    train_column: str = "flow"
    gaps: str = "hold"
    work_dir: Path | None = None
    config_dir: Path | None = None


Factory = Callable[[EngineOptions], Engine]


@dataclass(frozen=True)
class EngineEntry:
    """An engine that can be named: where its factory is and who provides it."""

    name: str
    target: str  # module:attribute
    origin: str  # "bundled" or the distribution that declares the entry point


def regression_factory(options: EngineOptions) -> Engine:
    from engines.regression.factory import create_regression_engine

    return create_regression_engine(
        options.data, options.column, options.train, options.train_column, options.gaps
    )


def vision_factory(options: EngineOptions) -> Engine:
    try:
        from engines.vision.engine import create_vision_engine
    except ImportError as exc:
        raise EngineError(
            f"the vision engine needs the [vision] extra (torch, ultralytics): {exc}"
        ) from None
    if options.work_dir is None or options.config_dir is None:
        raise ValueError("the vision engine needs a work_dir and a config_dir")
    return create_vision_engine(options.data, options.work_dir, config_dir=options.config_dir)


def fake_factory(options: EngineOptions) -> Engine:
    """Deterministic and instant: UI tests, snapshots, demos."""
    from engines.fake import create_fake_engine

    return create_fake_engine(options.data, options.column)


def installed() -> dict[str, EngineEntry]:
    """Every engine that can be named: the bundled ones, then the entry points of :data:`GROUP`
    (an entry point cannot replace a bundled engine's name)."""
    found = {name: EngineEntry(name, target, "bundled") for name, target in BUNDLED.items()}
    for point in importlib.metadata.entry_points(group=GROUP):
        if point.name in found:
            continue
        dist = point.dist.name if point.dist is not None else "an installed package"
        found[point.name] = EngineEntry(point.name, point.value, dist)
    return found


def _import_target(target: str, label: str) -> Factory:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a plug-in may fail any way while importing
        raise EngineError(
            f"engine {label!r}: cannot import {module_name}: {first_line(exc)}"
        ) from None
    return _attribute(module, attr or FILE_FACTORY, label)


def _attribute(module: Any, attr: str, label: str) -> Factory:
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise EngineError(f"engine {label!r}: {module.__name__} has no callable {attr!r}")
    return factory


def _import_file(spec: str) -> Factory:
    """The factory of a ``path.py[:factory]``, its module imported by its file name with its
    directory on ``sys.path`` (so a spawned training worker imports it the same way)."""
    file_part, _, attr = spec.rpartition(".py:") if ".py:" in spec else (spec[:-3], "", "")
    path = Path(file_part + ".py").expanduser()
    if not path.is_file():
        raise EngineError(f"engine {spec!r}: {path}: no such file")
    folder = str(path.resolve().parent)
    loaded = sys.modules.get(path.stem)
    loaded_from = getattr(loaded, "__file__", None)
    if loaded is not None and (
        loaded_from is None or Path(loaded_from).resolve() != path.resolve()
    ):
        raise EngineError(
            f"engine {spec!r}: a module named {path.stem!r} is already imported"
            f" (from {loaded_from or 'a built-in'}); rename the file"
        )
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return _import_target(f"{path.stem}:{attr or FILE_FACTORY}", spec)


def factory_of(spec: str) -> tuple[str, Factory]:
    """``(label, factory)`` for an engine name, ``module:factory`` or ``path.py``."""
    if spec.endswith(".py") or ".py:" in spec:
        return spec, _import_file(spec)
    if ":" in spec:
        return spec, _import_target(spec, spec)
    entries = installed()
    entry = entries.get(spec)
    if entry is None:
        close = difflib.get_close_matches(spec, list(entries), n=1, cutoff=0.6)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        raise EngineError(
            f"unknown engine {spec!r}{guess} (known: {', '.join(entries)})",
            hint="`harmone engine list` shows the installed engines; a plug-in is named as"
            " package.module:factory or path/to/engine.py",
        )
    return spec, _import_target(entry.target, spec)


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
    """Build the engine ``name`` (see the module docstring) over ``data`` and check it keeps
    the protocol; EngineError naming the engine for anything wrong."""
    label, factory = factory_of(name)
    options = EngineOptions(data, column, train, train_column, gaps, work_dir, config_dir)
    try:
        engine = factory(options)
    except EngineError as exc:
        if name in BUNDLED:
            raise
        raise EngineError(f"engine {label!r}: {exc}", hint=exc.hint) from None
    except Exception as exc:  # noqa: BLE001 - a plug-in's constructor may fail any way
        raise EngineError(f"engine {label!r}: failed to start: {first_line(exc)}") from None
    check_engine(engine, label)
    return engine
