"""`harmone compare` on a short real stream: one table, written as CSV and Markdown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harmone_tui.ledger_report import STAGES
from tests.mape.helpers import run_cli

COLUMNS = [
    "policy",
    "r2",
    "mae",
    "mean_confidence",
    "energy_j_per_inference",
    "energy_source",
    "energy_j_per_inference_incl_retrain",
    "energy_j_total",
    "carbon_g_total",
    *(f"energy_j_{stage}" for stage in STAGES),
    "latency_ms_mean",
    "latency_ms_p95",
    "switches",
    "retrains",
    "reuses",
    "drifts",
    "errors",
    "steps",
    "wall_s",
    "retrain_energy_j",
]


@pytest.mark.slow
@pytest.mark.lstm
def test_compare_writes_csv_and_markdown_with_every_column(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    done = run_cli(
        "compare",
        "--steps",
        "1500",
        "--policies",
        "naive,single-linear,switch",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    (out,) = (tmp_path / "out").glob("compare-*")  # a new directory of its own under --out
    rows = list(csv.DictReader((out / "compare.csv").open()))
    header = list(rows[0].keys())
    assert header[: len(COLUMNS)] == COLUMNS
    assert {"share_naive", "share_linear", "share_svm", "share_lstm"} <= set(header)
    assert [r["policy"] for r in rows] == ["naive", "single-linear", "switch"]
    for r in rows:
        assert int(r["steps"]) == 1500 and 0.5 < float(r["r2"]) < 1.0
        assert (
            r["energy_source"] in ("rapl", "estimated") and float(r["energy_j_per_inference"]) > 0
        )
    assert float(rows[1]["share_linear"]) == 1.0 and float(rows[0]["share_naive"]) == 1.0
    assert float(rows[2]["share_lstm"]) > 0  # switch starts on the LSTM
    lstm = float(rows[2]["energy_j_per_inference"])
    assert lstm > float(rows[0]["energy_j_per_inference"])  # persistence costs ~nothing
    md = (out / "compare.md").read_text().splitlines()
    assert md[0].startswith("| policy | R² | MAE | energy/inf | source |") and len(md) == 2 + 3
    assert md[3].startswith("| single-linear |")
    assert "single-linear" in done.stdout and "R²" in done.stdout  # the table on stdout
    assert "energy by stage" in done.stdout  # and the energy of each policy by ledger stage
    for r in rows:  # the ledger's total holds every stage, the inference stage among them
        stages = sum(float(r[f"energy_j_{stage}"]) for stage in STAGES)
        assert stages == pytest.approx(float(r["energy_j_total"]), rel=1e-6)
        assert float(r["carbon_g_total"]) > 0
    assert "[3/3] switch: done" in done.stderr  # progress on stderr
    # every policy ran from the same first versions, each in its own store
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "_base",
        "naive",
        "single-linear",
        "switch",
    ]
