"""The engine base class: what an engine must implement, and the defaults it may rely on.

A third-party engine (next: plug-ins) implements the required parts only; the runtime asks every
engine the same way, so the optional parts must always be there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engines.base import DataSummary, Engine, ModelSpec, Sample, TrainRequest, TrainResult
from engines.fake import FakeEngine, create_fake_engine
from engines.metrics import window_r2
from engines.regression.engine import RegressionEngine
from engines.vision.engine import VisionEngine

EDGES = (0.0, 50.0, 100.0)


class Minimal(Engine):
    """Only the required parts: a persistence forecaster over a short ramp."""

    name = "minimal"
    quality_metric = "r2"

    def models(self) -> list[ModelSpec]:
        return [ModelSpec("last", "repeats the last value", trainable=False)]

    def samples(self) -> Iterator[Sample]:
        for i in range(10):
            yield Sample(i, np.array([float(i)]), float(i + 1), float(i + 1))

    def stream_length(self) -> int:
        return 10

    def load(self, model: str, version: int, version_dir: Path) -> Any:
        raise NotImplementedError

    def quality(self, predictions: Sequence[float], truths: Sequence[float | None]) -> float:
        return window_r2(predictions, truths)

    def initial_training_data(self, model: str) -> np.ndarray:
        return np.arange(20.0)

    def trainer(self) -> Callable[[TrainRequest], TrainResult]:
        raise NotImplementedError

    def summarise(self, data: Any) -> DataSummary:
        return DataSummary.of(np.asarray(data, dtype=float), EDGES)


def test_the_optional_parts_have_defaults() -> None:
    engine = Minimal()
    assert engine.unavailable("last") is None
    assert list(engine.skipped) == []
    assert engine.cpu_clock == "thread"
    assert list(engine.data_notes) == [] and dict(engine.data_read) == {}
    assert engine.retraining_data([1, 2, 3]).tolist() == [1.0, 2.0, 3.0]
    assert (engine.serving_paths, engine.serving) == (("framework",), "framework")


def test_a_missing_required_method_fails_at_construction() -> None:
    class NoSummary(Minimal):
        summarise = Engine.summarise  # type: ignore[assignment]

    with pytest.raises(TypeError, match="NoSummary"):
        NoSummary()


def test_a_missing_name_fails_where_the_class_is_defined() -> None:
    required = {k: getattr(Minimal, k) for k in Engine.__abstractmethods__}
    with pytest.raises(TypeError, match="must set name"):
        type("Nameless", (Engine,), {"quality_metric": "r2", **required})


@pytest.mark.parametrize("cls", [RegressionEngine, VisionEngine, FakeEngine])
def test_the_bundled_engines_are_engines(cls: type) -> None:
    assert issubclass(cls, Engine)


def test_skipped_items_are_the_engine_s_own_list() -> None:
    """The default is shared and empty; an engine that skips keeps its own list."""
    first, second = create_fake_engine(length=30), create_fake_engine(length=30)
    first.skipped.append(("item 1", "unusable"))
    assert list(second.skipped) == [] and list(Minimal().skipped) == []
