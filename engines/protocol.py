"""Checking that an engine keeps the protocol of :class:`engines.base.Engine`, before a run.

A plug-in engine is someone else's code: what it breaks must be one line naming the engine and
the problem at start, not a traceback in the middle of a run. Checked when the engine is built
(:func:`check_engine`): it is an ``Engine``, it has models (each a ``ModelSpec``, none twice), and
its trainer pickles (training runs in a spawned worker process, which receives the trainer by
reference). Checked at start-up calibration (:func:`check_prediction`): ``predict`` on the
first sample returns a number. A ``predict`` that raises *later*, mid-run, does not end the run: the
runtime skips that step (see ``harmone_tui.inference``).
"""

from __future__ import annotations

import numbers
import pickle
from typing import Any

from engines.base import Engine, EngineError, ModelSpec


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (a plug-in's exception may span pages)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _problem(engine: Any) -> str | None:
    if not isinstance(engine, Engine):
        return f"the factory returned a {type(engine).__name__}, not an engines.base.Engine"
    try:
        models = engine.models()
    except Exception as exc:  # noqa: BLE001 - any failure of the plug-in is reported the same
        return f"models() raised {first_line(exc)}"
    if not isinstance(models, list | tuple) or not models:
        return "it has no models (models() must return a non-empty list of ModelSpec)"
    wrong = [m for m in models if not isinstance(m, ModelSpec)]
    if wrong:
        return f"models() returned a {type(wrong[0]).__name__}, not a ModelSpec"
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        return f"models() names a model twice ({', '.join(names)})"
    try:
        trainer = engine.trainer()
        pickle.loads(pickle.dumps(trainer))
    except Exception as exc:  # noqa: BLE001 - a lambda, a closure, a bound method of a lock...
        return (
            f"its trainer does not pickle ({first_line(exc)}): training runs in a worker"
            " process, so trainer() must return a module-level function"
        )
    return None


def check_engine(engine: Any, label: str) -> None:
    """EngineError naming ``label`` when ``engine`` breaks the protocol (see the module doc)."""
    problem = _problem(engine)
    if problem:
        raise EngineError(f"engine {label!r}: {problem}")


def check_prediction(label: str, model: str, value: Any) -> None:
    """EngineError unless ``value``, a ``predict`` result, is a real number (not a bool).

    >>> check_prediction("e", "m", 1.5)
    >>> check_prediction("e", "m", "high")
    Traceback (most recent call last):
    engines.base.EngineError: engine 'e': model m: predict returned a str ('high'), not a number
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise EngineError(
            f"engine {label!r}: model {model}: predict returned a {type(value).__name__}"
            f" ({shown}), not a number"
        )
