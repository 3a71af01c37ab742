"""Start-up calibration: each model's mean energy per call, on the stream's first usable items.

The MAPE loop's score needs every model's energy on the same inputs before the run starts (the
automatic energy ceiling, see docs/design-notes.md). The inputs are read from the stream itself,
never by index: ``stream_length()`` is an upper bound (the vision engine counts image files, some
of which may not decode), and ``next()`` past the end of a shorter stream hung the start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

from engines.base import Engine, EngineError
from engines.protocol import check_prediction, first_line

CALIBRATION_CALLS = 30


def first_items(engine: Engine, label: str, count: int = CALIBRATION_CALLS) -> list[Any]:
    """Inputs of the first ``count`` usable items (fewer for a shorter stream).

    A stream with no usable item at all is bad input: refused, naming ``label`` (the data).
    """
    xs = [sample.x for sample in islice(engine.samples(), count)]
    if not xs:
        skipped = engine.skipped
        why = f" ({len(skipped)} skipped, e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise EngineError(f"{label}: no usable item in the stream{why}")
    return xs


def energy_profile(
    predicts: Mapping[str, Callable[[Any], Any]],
    xs: list[Any],
    read_energy: Callable[[], float],
    engine: str = "",
) -> dict[str, float]:
    """Mean energy per call of each model (µJ) over ``xs``, after one warm-up call.

    The warm-up call's answer is also the protocol check of ``predict``
    (:func:`engines.protocol.check_prediction`): a plug-in model that returns something other
    than a number, or raises on these first items, is refused before the run, naming
    ``engine``. (No extra call: the fake engine's figures depend on the call order.)
    """
    profile = {}
    for model, predict in predicts.items():
        try:
            check_prediction(engine, model, predict(xs[0]))
            e0 = read_energy()
            for x in xs:
                predict(x)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plug-in's model failing before the run
            raise EngineError(
                f"engine {engine!r}: model {model}: predict raised on one of the stream's first"
                f" {len(xs)} items: {first_line(exc)}"
            ) from None
        profile[model] = (read_energy() - e0) / len(xs) * 1e6
    return profile
