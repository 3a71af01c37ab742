"""Summaries and exports are JSON that any parser reads: never NaN or Infinity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harmone_tui.export import ExportData, write
from harmone_tui.json_safe import dumps, finite
from mape.knowledge import KnowledgeStore, StepRow


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_figures_become_null_everywhere() -> None:
    summary = {
        "r2": float("nan"),
        "mae": float("inf"),
        "steps": np.int64(3),
        "model_share": {"linear": np.float64(1.0)},
        "window": [1.0, -np.inf],
        "ok": 0.5,
    }
    assert _strict(dumps(summary)) == {
        "r2": None,
        "mae": None,
        "steps": 3,
        "model_share": {"linear": 1.0},
        "window": [1.0, None],
        "ok": 0.5,
    }
    assert finite(np.array([1.0, np.nan])) == [1.0, None]


def test_dumps_writes_paths_as_text() -> None:
    assert _strict(dumps({"data": Path("/tmp/x.csv")})) == {"data": "/tmp/x.csv"}


def test_an_export_of_a_run_with_nan_figures_is_valid_json(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "knowledge.sqlite3")
    run_id = store.start_run("single-linear", "regression", "test", {})
    store.add_steps(
        run_id,
        [StepRow(step, None, 1.0, "linear", 1, 0.1, 0.1, 0.2, "estimated") for step in (0, 1)],
    )
    data = ExportData(
        tmp_path / "run-1",
        store.path,
        run_id,
        2,
        {"r2": float("nan"), "mae": float("inf"), "steps": 2},
        [{"step": 1, "kind": "retrain_done", "detail": {"validation_r2": float("nan")}}],
    )
    out = write(data)
    assert _strict((out / "summary.json").read_text()) == {"r2": None, "mae": None, "steps": 2}
    (line,) = (out / "events.jsonl").read_text().splitlines()
    assert _strict(line)["detail"] == {"validation_r2": None}  # type: ignore[index]
    assert (out / "events.csv").read_text().splitlines()[1].endswith('"{""validation_r2"": null}"')
    assert len((out / "steps.csv").read_text().splitlines()) == 3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nothing_non_finite_gets_past_dumps(value: float) -> None:
    assert "NaN" not in dumps({"x": [value]}) and "Infinity" not in dumps({"x": value})
