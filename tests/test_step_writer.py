"""The step writer commits batches in order on its own connection, next to event writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mape.knowledge import KnowledgeStore
from mape.step_writer import StepWriter


def _rows(run_id: int, lo: int, hi: int) -> list[tuple]:
    return [
        (run_id, i, float(i), float(i) + 1, "linear", 1, 0.1, 0.1, 0.15, "estimated", 0.0)
        for i in range(lo, hi)
    ]


def test_batches_land_in_order_while_events_are_written(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "k.sqlite3")
    run = store.start_run("p", "regression", "d", {})
    writer = StepWriter(store.path)
    for lo in range(0, 5000, 500):
        writer.write(_rows(run, lo, lo + 500))
        store.add_event(run, lo, "info", {"batch": lo})
    writer.close()
    assert store.step_count(run) == 5000
    assert [s.step for s in store.steps(run, 4990)] == list(range(4990, 5000))
    assert store.event_counts(run) == {"info": 10}


def test_nan_truth_is_stored_as_null(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "k.sqlite3")
    run = store.start_run("p", "vision", "d", {})
    writer = StepWriter(store.path)
    writer.write([(run, 0, float("nan"), 0.5, "yolo_n", 1, 1.0, 1.0, 1.5, "estimated", 0.0)])
    writer.close()
    assert store.steps(run)[0].truth is None


def test_a_failed_batch_is_reported_and_rolled_back(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "k.sqlite3")
    run = store.start_run("p", "regression", "d", {})
    writer = StepWriter(store.path)
    writer.write(_rows(run, 0, 10))
    writer.write(_rows(run, 5, 15))  # steps 5-9 again: the primary key refuses the whole batch
    with pytest.raises(Exception, match="UNIQUE"):
        writer.close()
    assert store.step_count(run) == 10


def test_a_batch_of_any_length_lands_whole_and_in_order(tmp_path: Path) -> None:
    """Rows go in 100 per statement plus one statement for the rest (here 34)."""
    store = KnowledgeStore.open(tmp_path / "k.sqlite3")
    run = store.start_run("p", "regression", "d", {})
    writer = StepWriter(store.path)
    writer.write(_rows(run, 0, 1234))
    writer.write(_rows(run, 1234, 1240))
    writer.close()
    steps = store.steps(run)
    assert [s.step for s in steps] == list(range(1240))
    assert [s.prediction for s in steps] == [float(i) + 1 for i in range(1240)]
